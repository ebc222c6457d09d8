// Inbox: open conversations, longest waiting first, with their unread texts;
// claim, reply (saved replies filled for the customer), note, close. Polls
// every few seconds so new texts appear without a reload; an open thread is
// marked read (POST .../read) while it shows texts nobody had read.

import * as api from "./api.js";
import { clear, el, say, timeEl, waited } from "./dom.js";
import { me, readsThreads } from "./me.js";
import { describe, segments } from "./sms.js";

const POLL_MS = 3000;
const FILTER = "rapport.inbox-filter";
const TICKS = { queued: "○ queued", accepted: "○ queued", sending: "○ sending", sent: "✓ sent", delivered: "✓✓ delivered", undelivered: "✗ undelivered", failed: "✗ failed", received: "" };

let state = null;

function newKey() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function enter(root, phone) {
  state = {
    root,
    selected: phone,
    conversations: [],
    timer: null,
    threadSignature: "",
    replyKey: null,
    contact: null,
    me: null, // GET /api/me: {name, role}
    reading: false,
  };
  const mine = state;
  me()
    .then((who) => {
      if (state !== mine) return;
      state.me = who;
      renderList();
      markRead();
    })
    .catch(() => {});
  const filter = sessionStorage.getItem(FILTER) ?? "all";
  const radios = ["mine", "unassigned", "all"].map((value) =>
    el(
      "label",
      { class: "chip" },
      el("input", { type: "radio", name: "filter", value, checked: value === filter, onchange: renderList }),
      { mine: "Mine", unassigned: "Unassigned", all: "All" }[value],
    ),
  );
  root.append(
    el(
      "div",
      { class: `inbox${phone ? " has-selection" : ""}`, id: "inbox" },
      el(
        "section",
        { class: "pane list-pane", "aria-labelledby": "inbox-title" },
        el("h2", { id: "inbox-title" }, "Inbox"),
        el("fieldset", { class: "filters" }, el("legend", {}, "Show conversations"), radios),
        el("p", { class: "muted", id: "inbox-count", "aria-live": "polite" }, "Loading…"),
        el("ul", { class: "conversations", id: "conversations", "aria-label": "Open conversations" }),
      ),
      el("section", { class: "pane thread-pane", id: "thread", "aria-label": "Conversation" }),
    ),
  );
  renderThreadShell();
  refresh();
  state.timer = setInterval(refresh, POLL_MS);
}

export function leave() {
  if (state?.timer) clearInterval(state.timer);
  state = null;
}

async function refresh() {
  const mine = state;
  if (document.hidden && mine.conversations.length) return; // a hidden tab does not poll
  try {
    const { conversations } = await api.get("conversations?limit=200");
    if (state !== mine) return;
    state.conversations = conversations;
    renderList();
    if (state.selected) {
      await refreshThread();
      markRead();
    }
  } catch (error) {
    if (state === mine && error.status !== 401) say(error.message, "error");
  }
}

function filtered() {
  const filter = state.root.querySelector("input[name=filter]:checked")?.value ?? "all";
  sessionStorage.setItem(FILTER, filter);
  const name = state.me?.name;
  return state.conversations.filter((c) =>
    filter === "mine" ? Boolean(name) && c.agent === name : filter === "unassigned" ? !c.agent : true,
  );
}

function renderList() {
  if (!state) return;
  const list = state.root.querySelector("#conversations");
  const focused = document.activeElement?.dataset?.phone;
  const shown = filtered();
  clear(list);
  for (const c of shown) {
    const waiting = c.waiting_since ? `waiting ${waited(c.waiting_seconds)}` : "answered";
    const owner = c.agent ? `with ${c.agent}` : "unassigned";
    const unread = c.unread > 0 ? `${c.unread} unread text${c.unread === 1 ? "" : "s"}` : "";
    list.append(
      el(
        "li",
        {},
        el(
          "button",
          {
            type: "button",
            class: `conversation${c.phone === state.selected ? " selected" : ""}${c.waiting_since ? " waiting" : ""}`,
            dataset: { phone: c.phone, agent: c.agent ?? "" },
            "aria-current": c.phone === state.selected ? "true" : null,
            onclick: () => select(c.phone),
          },
          el(
            "span",
            { class: "phone" },
            c.phone,
            unread
              ? el(
                  "span",
                  { class: "unread", title: unread, dataset: { count: c.unread } },
                  el("span", { "aria-hidden": "true" }, String(c.unread)),
                  el("span", { class: "sr-only" }, ` ${unread}`),
                )
              : null,
          ),
          el("span", { class: "waited" }, waiting),
          el("span", { class: "owner" }, owner),
          el("span", { class: "count", title: "texts in this conversation" }, `${c.messages} text${c.messages === 1 ? "" : "s"}`),
        ),
      ),
    );
  }
  const total = state.conversations.length;
  state.root.querySelector("#inbox-count").textContent =
    shown.length === total ? `${total} open` : `${shown.length} of ${total} open`;
  if (!shown.length) list.append(el("li", { class: "muted empty" }, "Nothing here."));
  if (focused) list.querySelector(`button[data-phone="${CSS.escape(focused)}"]`)?.focus();
  renderOwner();
}

function select(phone) {
  state.selected = phone;
  state.threadSignature = "";
  state.replyKey = null;
  state.contact = null;
  history.replaceState(null, "", `#/inbox/${encodeURIComponent(phone)}`);
  state.root.querySelector("#inbox").classList.add("has-selection");
  renderList();
  renderThreadShell();
  refreshThread().then(markRead, showError);
  state.root.querySelector("#thread-title")?.focus();
}

function current() {
  return state.conversations.find((c) => c.phone === state.selected) ?? null;
}

function renderThreadShell() {
  const pane = clear(state.root.querySelector("#thread"));
  if (!state.selected) {
    pane.append(el("p", { class: "muted placeholder" }, "Choose a conversation to read and answer it."));
    return;
  }
  const phone = state.selected;
  const reply = el("textarea", { id: "reply", name: "reply", rows: 3, maxlength: 1600, required: true });
  const counter = el("p", { id: "segments", class: "muted", "aria-live": "polite" }, describe(""));
  const picker = el("select", { id: "saved-reply", name: "saved-reply", disabled: true }, el("option", { value: "" }, "Loading…"));
  reply.addEventListener("input", () => {
    state.replyKey = null; // another text: another Idempotency-Key
    counter.textContent = describe(reply.value);
    counter.dataset.encoding = segments(reply.value).encoding;
  });
  const note = el("input", { id: "note", name: "note", type: "text", maxlength: 1000, required: true });
  pane.append(
    el(
      "div",
      { class: "thread-head" },
      el("button", { type: "button", class: "quiet back", onclick: back }, "← Back to inbox"),
      el("h2", { id: "thread-title", tabindex: "-1" }, phone),
      el("p", { id: "owner", class: "owner-line" }),
      el(
        "div",
        { class: "actions" },
        el("button", { type: "button", id: "claim", onclick: () => claim(false) }, "Claim"),
        el("a", { href: `#/customer/${encodeURIComponent(phone)}`, class: "button-link" }, "Customer profile"),
        el("button", { type: "button", id: "close", class: "danger", onclick: close }, "Close conversation"),
      ),
      el("p", { id: "warnings", class: "warning", role: "note", hidden: true }),
    ),
    el("ol", { id: "messages", class: "messages", "aria-label": "Texts and notes, oldest first" }),
    el(
      "form",
      { id: "reply-form", class: "composer", onsubmit: send },
      el(
        "div",
        { class: "saved-picker" },
        el("label", { for: "saved-reply" }, "Saved replies"),
        el(
          "div",
          { class: "inline" },
          picker,
          el("button", { type: "button", id: "insert-saved", class: "quiet", disabled: true, onclick: insertSaved }, "Insert"),
        ),
      ),
      el("label", { for: "reply" }, "Reply"),
      reply,
      counter,
      el("button", { type: "submit", id: "send" }, "Send reply"),
    ),
    el(
      "form",
      { id: "note-form", class: "composer note", onsubmit: addNote },
      el("label", { for: "note" }, "Internal note (never sent)"),
      el("div", { class: "inline" }, note, el("button", { type: "submit", id: "add-note" }, "Add note")),
    ),
    el("p", { id: "thread-error", class: "error", role: "alert" }),
  );
  renderOwner();
  loadSavedReplies(phone);
}

// The saved replies filled for this customer (GET /api/conversations/{phone}/saved-replies).
async function loadSavedReplies(phone) {
  const mine = state;
  let replies = [];
  try {
    ({ saved_replies: replies } = await api.get(`conversations/${api.phonePath(phone)}/saved-replies`));
  } catch (error) {
    if (error.status === 401) return;
  }
  if (state !== mine || state.selected !== phone) return;
  state.savedReplies = replies;
  const picker = state.root.querySelector("#saved-reply");
  clear(picker).append(
    el("option", { value: "" }, replies.length ? "Choose a saved reply…" : "No saved replies yet"),
    ...replies.map((r) => el("option", { value: r.id, title: r.text }, r.name)),
  );
  picker.disabled = !replies.length;
  state.root.querySelector("#insert-saved").disabled = !replies.length;
}

// Puts the chosen reply, filled for the customer, at the cursor of the reply box.
function insertSaved() {
  const id = state.root.querySelector("#saved-reply").value;
  const chosen = state.savedReplies?.find((r) => r.id === id);
  const box = state.root.querySelector("#reply");
  if (!chosen) {
    showError(new Error("Choose a saved reply first."));
    return;
  }
  showError(null);
  const start = box.selectionStart ?? box.value.length;
  const end = box.selectionEnd ?? box.value.length;
  box.value = box.value.slice(0, start) + chosen.text + box.value.slice(end);
  box.dispatchEvent(new Event("input")); // the segment counter follows, and a new Idempotency-Key
  box.focus();
  box.setSelectionRange(start + chosen.text.length, start + chosen.text.length);
}

// The open thread's texts are read: tell the API once per new unread text.
async function markRead() {
  const c = state && current();
  if (!c || !(c.unread > 0) || state.reading || document.hidden || !readsThreads(state.me?.role)) return;
  const mine = state;
  state.reading = true;
  try {
    const item = await api.post(`conversations/${api.phonePath(c.phone)}/read`, {});
    if (state !== mine) return;
    const listed = state.conversations.find((x) => x.phone === item.phone);
    if (listed) Object.assign(listed, item);
    renderList();
  } catch (error) {
    if (state === mine && error.status !== 401 && error.status !== 404) showError(error);
  } finally {
    mine.reading = false;
  }
}

function back() {
  state.selected = null;
  history.replaceState(null, "", "#/inbox");
  state.root.querySelector("#inbox").classList.remove("has-selection");
  renderList();
  renderThreadShell();
  state.root.querySelector("#conversations button")?.focus();
}

function renderOwner() {
  const line = state?.root.querySelector("#owner");
  if (!line) return;
  const c = current();
  const claimButton = state.root.querySelector("#claim");
  const name = state.me?.name;
  if (!c) {
    line.textContent = "Not open: closed, or no conversation with this number.";
    claimButton.hidden = true;
    return;
  }
  const waiting = c.waiting_since ? `waiting ${waited(c.waiting_seconds)}` : "answered";
  line.textContent = `${c.agent ? `Claimed by ${c.agent}` : "Unassigned"} · ${waiting}`;
  claimButton.hidden = Boolean(c.agent && c.agent === name);
  claimButton.textContent = c.agent ? "Take over" : "Claim";
  claimButton.onclick = () => claim(Boolean(c.agent));
}

async function refreshThread() {
  const phone = state.selected;
  const mine = state;
  const [timeline, contact] = await Promise.all([
    api.get(`contacts/${api.phonePath(phone)}/timeline?limit=100`),
    state.contact ? Promise.resolve(state.contact) : api.get(`contacts/${api.phonePath(phone)}`).catch(() => null),
  ]);
  if (state !== mine || state.selected !== phone) return;
  state.contact = contact;
  renderWarnings(contact);
  const events = timeline.events.filter((e) => ["message_in", "message_out", "note"].includes(e.type)).reverse();
  const signature = events.map((e) => `${e.id}:${e.detail?.status ?? ""}`).join("|");
  if (signature === state.threadSignature) return;
  state.threadSignature = signature;
  const list = clear(state.root.querySelector("#messages"));
  for (const e of events) {
    const status = e.detail?.status;
    const who =
      e.type === "message_in"
        ? "Customer"
        : e.type === "note"
          ? `Note · ${e.detail?.author ?? ""}`
          : `Sent${e.detail?.sent_by ? ` by ${e.detail.sent_by}` : ""}`;
    list.append(
      el(
        "li",
        { class: `bubble ${e.type}`, dataset: { id: e.id, status: status ?? "" } },
        el("span", { class: "who" }, who),
        el("p", { class: "body" }, e.summary),
        el(
          "span",
          { class: "meta" },
          timeEl(e.at),
          e.type === "message_out" && status
            ? el("span", { class: `tick ${status}`, "aria-label": `delivery: ${status}` }, TICKS[status] ?? status)
            : null,
        ),
      ),
    );
  }
  if (!events.length) list.append(el("li", { class: "muted" }, "No texts yet."));
  list.lastElementChild?.scrollIntoView({ block: "nearest" });
}

function renderWarnings(contact) {
  const box = state.root.querySelector("#warnings");
  if (!box || !contact) return;
  const reasons = [];
  if (contact.consent === "opted_out") reasons.push("They opted out: a reply will be refused.");
  if (contact.deliverability?.state === "undeliverable")
    reasons.push(`Their number is undeliverable (${contact.deliverability.reason ?? contact.deliverability.last_error_code}).`);
  const last = contact.engagement?.last_inbound_at ? new Date(contact.engagement.last_inbound_at) : null;
  if (!last || Date.now() - last.getTime() > 24 * 3600 * 1000) {
    // No text from them in 24 h: a reply must fall inside 08:00-21:00 in every zone they may be in.
    const zones = contact.time_zone?.confirmed ? [contact.time_zone.confirmed] : contact.time_zone?.candidates ?? [];
    const quiet = zones.map((zone) => [zone, localTime(zone)]).filter(([, t]) => t && (t < "08:00" || t >= "21:00"));
    reasons.push(
      quiet.length
        ? `Quiet hours: it is ${quiet[0][1]} in ${quiet[0][0]} and they have not texted in 24 h, so a reply would be refused now.`
        : "They have not texted in 24 h: replies are limited to 08:00-21:00 in their time zone.",
    );
  }
  box.textContent = reasons.join(" ");
  box.hidden = reasons.length === 0;
}

function localTime(zone) {
  try {
    return new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date());
  } catch {
    return null; // a zone this browser does not know
  }
}

function showError(error) {
  const box = state?.root.querySelector("#thread-error");
  if (box) box.textContent = error ? error.message : "";
}

async function claim(reassign) {
  showError(null);
  try {
    const item = await api.post(`conversations/${api.phonePath(state.selected)}/claim`, reassign ? { reassign: true } : {});
    say(`Claimed: ${item.phone} is yours.`);
    await refresh();
  } catch (error) {
    showError(error);
    await refresh();
  }
}

async function send(event) {
  event.preventDefault();
  const box = state.root.querySelector("#reply");
  const body = box.value.trim();
  if (!body) return;
  state.replyKey ??= newKey();
  const button = state.root.querySelector("#send");
  button.disabled = true;
  showError(null);
  try {
    const sent = await api.post(`conversations/${api.phonePath(state.selected)}/reply`, { body }, {
      headers: { "Idempotency-Key": state.replyKey },
    });
    state.replyKey = null;
    box.value = "";
    box.dispatchEvent(new Event("input"));
    say(`Sent to ${sent.phone ?? state.selected}.`);
    await refresh();
  } catch (error) {
    if (error.code === "SendOutcomeUnknown") {
      showError(new Error("Twilio did not answer: the text may have gone. Check the thread before sending again."));
    } else {
      const stillSending = error.status === 409 && /in progress/i.test(error.message);
      if (error.status && error.status < 500 && !stillSending) state.replyKey = null; // nothing went: a new key next time
      showError(error);
    }
  } finally {
    button.disabled = false;
  }
}

async function addNote(event) {
  event.preventDefault();
  const input = state.root.querySelector("#note");
  const text = input.value.trim();
  if (!text) return;
  showError(null);
  try {
    await api.post(`conversations/${api.phonePath(state.selected)}/notes`, { text });
    input.value = "";
    say("Note added.");
    await refresh();
  } catch (error) {
    showError(error);
  }
}

async function close() {
  showError(null);
  try {
    const closed = await api.post(`conversations/${api.phonePath(state.selected)}/close`, {});
    say(`Closed ${closed.phone}${closed.released_held_texts ? `; ${closed.released_held_texts} held texts queued again` : ""}.`);
    await refresh();
    back();
  } catch (error) {
    showError(error);
  }
}
