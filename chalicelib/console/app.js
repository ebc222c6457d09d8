// The console's shell: sign in with a key, then one view at a time by the URL's
// hash (#/inbox, #/customer/<phone>, #/campaigns/<id>). The key is never in it.

import * as api from "./api.js";
import { clear, say } from "./dom.js";
import * as inbox from "./inbox.js";
import * as customer from "./customer.js";
import * as campaigns from "./campaigns.js";
import * as contacts from "./contacts.js";
import * as savedReplies from "./saved-replies.js";
import * as stores from "./stores.js";
import * as answers from "./answers.js";
import { showLinksForRole } from "./me.js";

const views = { inbox, customer, campaigns, contacts, "saved-replies": savedReplies, stores, answers };
let current = null;

const $ = (id) => document.getElementById(id);

function showLogin(reason) {
  current?.leave?.();
  current = null;
  clear($("view"));
  $("nav").hidden = true;
  $("sign-out").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = reason ?? "";
  $("key").value = "";
  $("key").focus();
}

function route() {
  if (!api.key()) {
    showLogin();
    return;
  }
  $("login").hidden = true;
  $("nav").hidden = false;
  $("sign-out").hidden = false;
  showLinksForRole();
  const [, name = "inbox", ...rest] = location.hash.split("/");
  const view = views[name] ?? inbox;
  const arg = rest.length ? decodeURIComponent(rest.join("/")) : null;
  for (const link of document.querySelectorAll("#nav a")) {
    link.toggleAttribute("aria-current", link.id === `nav-${views[name] ? name : "inbox"}`);
    if (link.hasAttribute("aria-current")) link.setAttribute("aria-current", "page");
  }
  current?.leave?.();
  current = view;
  say("");
  const root = clear($("view"));
  view.enter(root, arg);
}

async function signIn(event) {
  event.preventDefault();
  const value = $("key").value.trim();
  if (!value) return;
  $("login-submit").disabled = true;
  $("login-error").textContent = "";
  try {
    // Any role may read the inbox or is refused with 403: either way the key is one of ours.
    await api.get("conversations?limit=1", { token: value }).catch((error) => {
      if (error.status !== 403) throw error;
    });
    api.setKey(value);
    $("key").value = "";
    route();
    $("main").focus();
  } catch (error) {
    $("login-error").textContent =
      error.status === 401 ? "That key was not accepted: it is wrong, expired or revoked." : error.message;
    $("key").select();
  } finally {
    $("login-submit").disabled = false;
  }
}

api.whenUnauthorised(() => {
  api.forget();
  say("");
  showLogin("Your key is no longer accepted (expired or revoked). Enter a valid key to carry on.");
});

$("login-form").addEventListener("submit", signIn);
$("sign-out").addEventListener("click", () => {
  api.forget();
  showLogin("Signed out.");
});
window.addEventListener("hashchange", route);
route();
