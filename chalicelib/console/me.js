// Who this key is, as the API names it (GET /api/me): its name (the owner a
// claim records, so the inbox's "Mine") and its role (which links and controls
// to show). Asked once per key and kept in memory only.

import * as api from "./api.js";

let cached = { key: null, answer: null };

export function me() {
  const key = api.key();
  if (cached.key !== key || !cached.answer) {
    const answer = api.get("me").catch((error) => {
      if (cached.answer === answer) cached = { key: null, answer: null }; // ask again next time
      throw error;
    });
    cached = { key, answer };
  }
  return cached.answer;
}

export const writesSavedReplies = (role) => role === "admin" || role === "operator";
export const readsThreads = (role) => role === "admin" || role === "agent";

// Links marked data-roles="admin operator" show only to those roles.
export async function showLinksForRole() {
  try {
    const { role } = await me();
    for (const link of document.querySelectorAll("[data-roles]")) {
      link.hidden = !link.dataset.roles.split(" ").includes(role);
    }
  } catch {
    // a 401 signs the person out; anything else leaves the links hidden
  }
}
