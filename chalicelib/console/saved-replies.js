// Saved replies (#/saved-replies): canned answers agents insert in the reply box.
// Operators and admins create, edit and delete them; agents see the list.
// Placeholders {field|fallback} are filled for the customer in the inbox.

import * as api from "./api.js";
import { clear, el, say, when } from "./dom.js";
import { me, writesSavedReplies } from "./me.js";
import { describe, segments } from "./sms.js";

let state = null;

export function enter(root) {
  state = { root, replies: [], editing: null, canWrite: false };
  root.append(
    el(
      "div",
      { class: "saved-replies", id: "saved-replies" },
      el(
        "section",
        { class: "pane", "aria-labelledby": "saved-title" },
        el("h2", { id: "saved-title" }, "Saved replies"),
        el(
          "p",
          { class: "muted" },
          "Agents insert these in a reply from the inbox. ",
          el("code", {}, "{first_name|there}"),
          " is filled with the customer's first name, or “there” when it is missing.",
        ),
        el("p", { class: "muted", id: "saved-count", "aria-live": "polite" }, "Loading…"),
        el("ul", { class: "saved-list", id: "saved-list", "aria-label": "Saved replies" }),
      ),
      el("section", { class: "pane", id: "saved-editor", "aria-labelledby": "editor-title", hidden: true }),
    ),
  );
  load();
  me()
    .then(({ role }) => {
      if (state?.root !== root) return;
      state.canWrite = writesSavedReplies(role);
      renderEditor();
      renderList();
    })
    .catch(() => {});
}

export function leave() {
  state = null;
}

async function load() {
  const mine = state;
  try {
    const { saved_replies: replies } = await api.get("saved-replies");
    if (state !== mine) return;
    state.replies = replies;
    renderList();
  } catch (error) {
    if (state === mine && error.status !== 401) say(error.message, "error");
  }
}

function renderList() {
  const list = clear(state.root.querySelector("#saved-list"));
  for (const reply of state.replies) {
    list.append(
      el(
        "li",
        { class: "saved-reply", dataset: { id: reply.id } },
        el("h3", {}, reply.name),
        el("p", { class: "body" }, reply.body),
        el("p", { class: "muted meta" }, `Updated by ${reply.updated_by}, ${when(reply.updated_at)}`),
        state.canWrite
          ? el(
              "div",
              { class: "actions" },
              el("button", { type: "button", class: "edit", "aria-label": `Edit “${reply.name}”`, onclick: () => edit(reply) }, "Edit"),
              el(
                "button",
                { type: "button", class: "danger delete", "aria-label": `Delete “${reply.name}”`, onclick: () => remove(reply) },
                "Delete",
              ),
            )
          : null,
      ),
    );
  }
  if (!state.replies.length) list.append(el("li", { class: "muted empty" }, "No saved replies yet."));
  const n = state.replies.length;
  state.root.querySelector("#saved-count").textContent = `${n} saved repl${n === 1 ? "y" : "ies"}`;
}

function renderEditor() {
  const pane = clear(state.root.querySelector("#saved-editor"));
  pane.hidden = !state.canWrite;
  if (!state.canWrite) return;
  const editing = state.editing;
  const name = el("input", { id: "saved-name", name: "name", type: "text", maxlength: 60, required: true, value: editing?.name ?? "" });
  const body = el("textarea", { id: "saved-body", name: "body", rows: 4, maxlength: 1000, required: true });
  body.value = editing?.body ?? "";
  const counter = el("p", { id: "saved-segments", class: "muted", "aria-live": "polite" });
  const count = () => {
    counter.textContent = `${describe(body.value)} (before the fields are filled)`;
    counter.dataset.encoding = segments(body.value).encoding;
  };
  body.addEventListener("input", count);
  count();
  pane.append(
    el("h2", { id: "editor-title" }, editing ? `Edit “${editing.name}”` : "New saved reply"),
    el(
      "form",
      { id: "saved-form", class: "composer", onsubmit: save },
      el("label", { for: "saved-name" }, "Name (what agents pick)"),
      name,
      el("label", { for: "saved-body" }, "Text"),
      body,
      counter,
      el(
        "div",
        { class: "actions" },
        el("button", { type: "submit", id: "saved-save" }, editing ? "Save changes" : "Add saved reply"),
        editing ? el("button", { type: "button", class: "quiet", id: "saved-cancel", onclick: () => edit(null) }, "Cancel") : null,
      ),
      el("p", { id: "saved-error", class: "error", role: "alert" }),
    ),
  );
}

function edit(reply) {
  state.editing = reply;
  renderEditor();
  state.root.querySelector("#saved-name").focus();
}

async function save(event) {
  event.preventDefault();
  const form = event.target;
  const body = { name: form.elements.name.value.trim(), body: form.elements.body.value };
  const editing = state.editing;
  const button = state.root.querySelector("#saved-save");
  button.disabled = true;
  state.root.querySelector("#saved-error").textContent = "";
  try {
    const saved = editing
      ? await api.call("PUT", `saved-replies/${encodeURIComponent(editing.id)}`, {
          body,
          headers: { "If-Match": `"${editing.version}"` }, // someone else's change since is not overwritten
        })
      : await api.post("saved-replies", body);
    say(`Saved “${saved.name}”.`);
    state.editing = null;
    renderEditor();
    await load();
  } catch (error) {
    const message =
      error.status === 409 && editing
        ? "Someone changed this saved reply meanwhile: the list now shows theirs; edit it again."
        : error.message;
    state.root.querySelector("#saved-error").textContent = message;
    if (error.status === 409 && editing) await load();
  } finally {
    button.disabled = false;
  }
}

async function remove(reply) {
  if (!confirm(`Delete the saved reply “${reply.name}”?`)) return;
  try {
    await api.call("DELETE", `saved-replies/${encodeURIComponent(reply.id)}`);
    say(`Deleted “${reply.name}”.`);
    if (state.editing?.id === reply.id) edit(null);
    await load();
  } catch (error) {
    say(error.message, "error");
    await load();
  }
}
