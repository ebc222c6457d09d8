// The documented /api/ routes, called with the key kept in sessionStorage.
// The key never goes into a URL; a 401 signs the person out with a plain reason.

const KEY = "rapport.key";
const NAME = "rapport.agent";
const TOKEN_NAME = "rapport.token-name";

// Relative to the page (/console, or /<stage>/console behind API Gateway).
const BASE = new URL("api/", document.baseURI);

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let onUnauthorised = () => {};

export function whenUnauthorised(callback) {
  onUnauthorised = callback;
}

export function key() {
  return sessionStorage.getItem(KEY);
}

export function setKey(value) {
  sessionStorage.setItem(KEY, value);
}

export function forget() {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(NAME);
  sessionStorage.removeItem(TOKEN_NAME);
}

// Who I am, as the API names me: learnt from a claim's answer (the key's name),
// or, for a script's token, its `token:<hash prefix>` name.
export function myNames() {
  return [sessionStorage.getItem(NAME), sessionStorage.getItem(TOKEN_NAME)].filter(Boolean);
}

export function rememberName(name, { token = false } = {}) {
  if (name) sessionStorage.setItem(token ? TOKEN_NAME : NAME, name);
}

// A script's token acts as `token:<first 8 hex of its SHA-256>` (docs/api.md).
export async function tokenName(value) {
  if (!globalThis.crypto?.subtle) return null;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `token:${hex.slice(0, 8)}`;
}

export function phonePath(phone) {
  return encodeURIComponent(phone);
}

export async function call(method, path, { body, headers = {}, token } = {}) {
  const used = token ?? key();
  const init = {
    method,
    headers: { Accept: "application/json", Authorization: `Bearer ${used}`, ...headers },
    cache: "no-store",
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(new URL(path, BASE), init);
  } catch (error) {
    throw new ApiError(0, "NetworkError", "The service cannot be reached: check your connection and try again.");
  }
  let payload = null;
  const text = await response.text();
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = { Message: text };
    }
  }
  if (response.ok) return payload;
  const message = payload?.Message ?? `${response.status} ${response.statusText}`;
  if (response.status === 401) {
    if (token === undefined) onUnauthorised();
    throw new ApiError(401, "Unauthorized", "This key is not accepted: it is wrong, expired or revoked.");
  }
  if (response.status === 403) {
    throw new ApiError(403, "Forbidden", `Your key may not do this: ${message}`);
  }
  throw new ApiError(response.status, payload?.Code ?? "Error", message);
}

export const get = (path, options) => call("GET", path, options);
export const post = (path, body, options = {}) => call("POST", path, { ...options, body });
