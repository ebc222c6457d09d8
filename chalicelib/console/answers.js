// Answers (#/answers/<prompt id>): what customers said in their own words to a
// free-text question (why_not_lately by default), with the reasons read from
// it and the counts by reason; a reason filters the list.

import * as api from "./api.js";
import { clear, el, say, timeEl } from "./dom.js";

const REASONS = ["moved_away", "price", "quality", "delivery", "diet", "competitor", "busy", "not_interested", "other"];
let state = null;

export function enter(root, promptId) {
  state = { root, promptId: promptId || "why_not_lately", reason: null, next: null };
  root.append(
    el(
      "section",
      { class: "pane answers", "aria-labelledby": "answers-title" },
      el("h2", { id: "answers-title" }, `Answers to “${state.promptId}”`),
      el("div", { class: "reasons", id: "reason-filters", role: "group", "aria-label": "Filter by reason" }),
      el("p", { class: "muted", id: "answers-summary", "aria-live": "polite" }, "Loading…"),
      el("ul", { class: "answer-list", id: "answer-list", "aria-label": "Answers, newest first" }),
    ),
  );
  load(false);
}

export function leave() {
  state = null;
}

function choose(reason) {
  state.reason = state.reason === reason ? null : reason;
  load(false);
}

async function load(more) {
  const mine = state;
  const query = new URLSearchParams({ limit: "50" });
  if (state.reason) query.set("reason", state.reason);
  if (more && state.next) query.set("cursor", state.next);
  try {
    const page = await api.get(`prompts/${encodeURIComponent(state.promptId)}/answers?${query}`);
    if (state !== mine) return;
    render(page, more);
  } catch (error) {
    if (state !== mine) return;
    state.root.querySelector("#answers-summary").textContent = error.status === 404 ? `No question ${state.promptId}.` : "";
    if (error.status !== 404 && error.status !== 401) say(error.message, "error");
  }
}

function render(page, more) {
  const counts = page.counts ?? {};
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  clear(state.root.querySelector("#reason-filters")).append(
    ...REASONS.map((reason) =>
      el(
        "button",
        { type: "button", class: "reason", "aria-pressed": String(state.reason === reason), dataset: { reason }, onclick: () => choose(reason) },
        `${reason.replace("_", " ")} ${counts[reason] ?? 0}`,
      ),
    ),
  );
  state.root.querySelector("#answers-summary").textContent = state.reason
    ? `${counts[state.reason] ?? 0} of ${total} answers give “${state.reason.replace("_", " ")}”.`
    : `${total} answers.`;
  const list = state.root.querySelector("#answer-list");
  if (!more) clear(list);
  state.root.querySelector("#more-answers")?.remove();
  for (const a of page.answers) {
    list.append(
      el(
        "li",
        { class: "answer", dataset: { phone: a.phone } },
        el("p", { class: "body" }, a.text),
        el(
          "p",
          { class: "muted detail" },
          a.reasons.map((r) => el("span", { class: "tag" }, r.replace("_", " "))),
          " · ",
          el("a", { href: `#/customer/${encodeURIComponent(a.phone)}` }, a.phone),
          " · ",
          timeEl(a.at),
        ),
      ),
    );
  }
  if (!list.children.length) list.append(el("li", { class: "muted" }, "No answers yet."));
  state.next = page.next;
  if (page.next) {
    list.after(el("button", { type: "button", id: "more-answers", onclick: () => load(true) }, "More answers"));
  }
}
