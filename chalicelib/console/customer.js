// Customer: one timeline (texts both ways with delivery status, consent changes,
// answers, decisions with explanations, notes, other channels) beside the profile.

import * as api from "./api.js";
import { clear, el, facts, say, timeEl, when } from "./dom.js";

const LABELS = {
  message_in: "Text in",
  message_out: "Text out",
  consent: "Consent",
  answer: "Answer",
  decision: "Decision",
  note: "Note",
  interaction: "Other channel",
};

let state = null;

export function enter(root, phone) {
  state = { root, phone, next: null };
  const input = el("input", { id: "phone", name: "phone", type: "tel", required: true, value: phone ?? "", autocomplete: "off" });
  root.append(
    el(
      "div",
      { class: "customer" },
      el(
        "form",
        { class: "find", id: "find-form", role: "search", onsubmit: find },
        el("label", { for: "phone" }, "Phone number"),
        el("div", { class: "inline" }, input, el("button", { type: "submit" }, "Open")),
      ),
      el("p", { id: "customer-error", class: "error", role: "alert" }),
      el(
        "div",
        { class: "customer-grid" },
        el("section", { class: "pane timeline-pane", "aria-labelledby": "timeline-title", id: "timeline-pane" }),
        el("section", { class: "pane profile-pane", "aria-labelledby": "profile-title", id: "profile-pane" }),
      ),
    ),
  );
  if (phone) load(phone);
  else input.focus();
}

export function leave() {
  state = null;
}

function find(event) {
  event.preventDefault();
  const phone = state.root.querySelector("#phone").value.trim();
  if (phone) location.hash = `#/customer/${encodeURIComponent(phone)}`;
}

async function load(phone) {
  const mine = state;
  const error = state.root.querySelector("#customer-error");
  error.textContent = "";
  try {
    const [profile, timeline] = await Promise.all([
      api.get(`contacts/${api.phonePath(phone)}`),
      api.get(`contacts/${api.phonePath(phone)}/timeline?limit=50`),
    ]);
    if (state !== mine) return;
    renderProfile(profile);
    renderTimeline(timeline, false);
  } catch (failure) {
    if (state === mine) error.textContent = failure.status === 404 ? `No customer with the number ${phone}.` : failure.message;
  }
}

async function older() {
  const mine = state;
  try {
    const page = await api.get(`contacts/${api.phonePath(state.phone)}/timeline?limit=50&before=${encodeURIComponent(state.next)}`);
    if (state === mine) renderTimeline(page, true);
  } catch (failure) {
    say(failure.message, "error");
  }
}

function detailOf(event) {
  const d = event.detail ?? {};
  const parts = {
    message_out: [d.status, d.error_code && `error ${d.error_code}`, d.kind, d.sent_by && `by ${d.sent_by}`],
    message_in: [d.kind],
    consent: [d.keyword && `keyword ${d.keyword}`, d.channel],
    answer: [d.source],
    decision: [d.stage, d.outcome, d.run_id],
    note: [d.author && `by ${d.author}`],
    interaction: [d.channel, d.author && `from ${d.author}`],
  }[event.type] ?? [];
  const line = parts.filter(Boolean).join(" · ");
  if (event.type === "message_out" && d.status) return el("span", { class: `tick ${d.status}` }, line);
  return line;
}

function renderTimeline(page, append) {
  const pane = state.root.querySelector("#timeline-pane");
  if (!append) {
    clear(pane).append(
      el("h2", { id: "timeline-title" }, "Timeline"),
      el("ol", { class: "timeline", id: "timeline", "aria-label": "Everything about this customer, newest first" }),
    );
  }
  pane.querySelector("#more")?.remove();
  const list = pane.querySelector("#timeline");
  for (const event of page.events) {
    list.append(
      el(
        "li",
        { class: `event ${event.type}`, dataset: { type: event.type } },
        el("span", { class: "badge" }, LABELS[event.type] ?? event.type),
        timeEl(event.at),
        el("p", { class: "body" }, event.summary),
        el("p", { class: "muted detail" }, detailOf(event)),
      ),
    );
  }
  if (!list.children.length) list.append(el("li", { class: "muted" }, "Nothing yet."));
  state.next = page.next;
  if (page.next) pane.append(el("button", { type: "button", id: "more", onclick: older }, "Older events"));
}

// 2350 GBP minor units as 23.50 GBP: the currency's code, never a guessed symbol
const money = ({ amount, currency }) => `${(amount / 100).toFixed(2)} ${currency}`;

function renderProfile(p) {
  const pane = clear(state.root.querySelector("#profile-pane"));
  const attributes = Object.entries(p.attributes ?? {});
  const consent = p.consent_event;
  const e = p.engagement ?? {};
  const d = p.deliverability ?? {};
  const zone = p.time_zone ?? {};
  const parts = [
    el("h2", { id: "profile-title" }, p.phone),
    p.tags?.length ? el("p", { class: "tags", "aria-label": "Tags" }, p.tags.map((t) => el("span", { class: "tag" }, t))) : null,
    el("h3", {}, "Attributes"),
    attributes.length
      ? el(
          "table",
          { class: "attributes" },
          el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Name"), el("th", { scope: "col" }, "Value"), el("th", { scope: "col" }, "From"))),
          el(
            "tbody",
            {},
            attributes.map(([name, a]) =>
              el("tr", {}, el("th", { scope: "row" }, name), el("td", {}, a.value), el("td", { class: "muted" }, `${a.source}${a.by ? ` (${a.by})` : ""}, ${when(a.updated_at)}`)),
            ),
          ),
        )
      : el("p", { class: "muted" }, "None."),
    el("h3", {}, "Consent"),
    facts([
      ["Now", el("strong", { class: `consent ${p.consent}` }, p.consent ?? "unknown")],
      consent && ["Since", `${when(consent.at)} (${consent.source}${consent.keyword ? `, ${consent.keyword}` : ""})`],
    ]),
    p.consent_history?.length
      ? el(
          "details",
          {},
          el("summary", {}, `History (${p.consent_history.length})`),
          el("ul", {}, p.consent_history.map((c) => el("li", {}, `${when(c.at)}: ${c.state} (${c.source}${c.keyword ? `, ${c.keyword}` : ""})`))),
        )
      : null,
    el("h3", {}, "Engagement"),
    facts([
      ["Last text in", when(e.last_inbound_at)],
      ["Last text out", when(e.last_outbound_at)],
      ["Texts in / out", `${e.inbound_count ?? 0} / ${e.outbound_count ?? 0}`],
      ["Unanswered marketing", String(e.unanswered_marketing ?? 0)],
    ]),
    el("h3", {}, "Store and orders"),
    facts([
      ["Store", p.store_id ? `${p.store_id}${p.store_source ? ` (from ${p.store_source})` : ""}` : "none"],
      ["Orders", String(p.orders?.count ?? 0)],
      p.orders?.last_at && ["Last order", `${when(p.orders.last_at)}${p.orders.last_store_id ? ` at ${p.orders.last_store_id}` : ""}`],
      p.orders?.total && ["Total", money(p.orders.total)],
      p.orders?.last_items?.length && ["Usual", p.orders.last_items.map((i) => `${i.quantity} x ${i.name}`).join(", ")],
    ]),
    el("h3", {}, "Deliverability"),
    facts([
      ["State", d.state ?? "ok"],
      d.reason && ["Why", d.reason],
      d.last_error_code && ["Last error", String(d.last_error_code)],
    ]),
    el("h3", {}, "Home and zone"),
    facts([
      ["Home", p.home ? `${p.home.area}${p.home.region ? `, ${p.home.region}` : ""}` : "unknown"],
      p.home && ["Confirmed", `${p.home.confirmed_at ? when(p.home.confirmed_at) : "never"} (${p.home.source})`],
      ["Time zone", zone.confirmed ?? (zone.candidates?.length ? `one of ${zone.candidates.join(", ")}` : "unknown")],
    ]),
    p.pending_prompt ? el("p", { class: "muted" }, `Waiting for an answer to “${p.pending_prompt.prompt_id}” until ${when(p.pending_prompt.expires_at)}.`) : null,
    p.conversation
      ? el("p", {}, el("a", { href: `#/inbox/${encodeURIComponent(p.phone)}` }, `Open conversation${p.conversation.agent ? ` with ${p.conversation.agent}` : ""}`))
      : null,
  ];
  pane.append(...parts.filter(Boolean));
}
