// The documented /api/ routes, called with the key kept in sessionStorage.
// The key never goes into a URL; a 401 signs the person out with a plain reason.

const KEY = "rapport.key";

// Relative to the page (/console, or /<stage>/console behind API Gateway).
const BASE = new URL("api/", document.baseURI);

export class ApiError extends Error {
  constructor(status, code, message, body = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body; // the error's JSON, e.g. a CSV import's `rejects`
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
}

export function phonePath(phone) {
  return encodeURIComponent(phone);
}

// `csv`: a text/csv body instead of JSON; `raw`: answer { text, headers } (a CSV download, say).
export async function call(method, path, { body, headers = {}, token, csv, raw = false } = {}) {
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
  if (csv !== undefined) {
    init.headers["Content-Type"] = "text/csv";
    init.body = csv;
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
  if (response.ok) return raw ? { text, headers: response.headers } : payload;
  const message = payload?.Message ?? `${response.status} ${response.statusText}`;
  if (response.status === 401) {
    if (token === undefined) onUnauthorised();
    throw new ApiError(401, "Unauthorized", "This key is not accepted: it is wrong, expired or revoked.");
  }
  if (response.status === 403) {
    throw new ApiError(403, "Forbidden", `Your key may not do this: ${message}`);
  }
  throw new ApiError(response.status, payload?.Code ?? "Error", message, payload);
}

export const get = (path, options) => call("GET", path, options);
export const post = (path, body, options = {}) => call("POST", path, { ...options, body });
