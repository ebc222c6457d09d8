// Campaigns: the list, create and edit (#/campaigns/new, #/campaigns/<id>/edit) with
// a live preview of the text as the server fills it in, a preview as a chart of
// decisions by reason (with samples), pause and resume, and each run's progress
// (refreshed while it is open).

import * as api from "./api.js";
import { clear, el, facts, say, when } from "./dom.js";

const POLL_MS = 5000;
const RENDER_MS = 300; // the live preview waits this long after the last keystroke
const SENDING = {
  out: "Sent",
  delivered: "Delivered",
  undelivered: "Undelivered",
  failed: "Failed",
  unknown: "Unknown",
  opted_out: "Opted out",
};
let state = null;
const sampleFor = new Map(); // campaign id -> the first contact its last preview would text
let notice = null; // what a save says on the page it leads to

export function enter(root, arg) {
  // arg: null (the list), "<id>", "new" or "<id>/edit"
  const editing = arg === "new" || (arg ?? "").endsWith("/edit");
  const id = arg === "new" ? null : editing ? arg.slice(0, -"/edit".length) : arg;
  state = { root, selected: id, editing, campaigns: [], timer: null, renderTimer: null, renderSeq: 0 };
  root.append(
    el(
      "div",
      { class: "campaigns" },
      el(
        "section",
        { class: "pane", "aria-labelledby": "campaigns-title" },
        el(
          "div",
          { class: "pane-head" },
          el("h2", { id: "campaigns-title" }, "Campaigns"),
          el("a", { href: "#/campaigns/new", id: "new-campaign", class: "button-link" }, "New campaign"),
        ),
        el("div", { class: "table-wrap" }, el("table", { class: "campaign-list cards", id: "campaign-list" })),
        el("p", { id: "campaigns-error", class: "error", role: "alert" }),
      ),
      el("section", { class: "pane", id: "campaign", "aria-label": "Campaign" }),
    ),
  );
  if (notice) say(notice);
  notice = null;
  if (state.editing && !state.selected) renderForm(null);
  loadList();
  state.timer = setInterval(() => state?.selected && !state.editing && loadRuns(), POLL_MS);
}

export function leave() {
  if (state?.timer) clearInterval(state.timer);
  if (state?.renderTimer) clearTimeout(state.renderTimer);
  state = null;
}

async function loadList() {
  const mine = state;
  try {
    const { campaigns } = await api.get("campaigns");
    if (state !== mine) return;
    // Active ones first, the soonest run first; those with no run to come last.
    const due = (c) => (c.next_run ? Date.parse(c.next_run) : Infinity);
    state.campaigns = campaigns.sort(
      (a, b) => (a.status === "active" ? 0 : 1) - (b.status === "active" ? 0 : 1) || due(a) - due(b) || a.name.localeCompare(b.name),
    );
    renderList();
    if (state.selected && state.editing && selected()) {
      if (!state.root.querySelector("#campaign-form")) renderForm(selected());
    } else if (state.selected) renderCampaign();
  } catch (error) {
    if (state === mine) state.root.querySelector("#campaigns-error").textContent = error.message;
  }
}

function renderList() {
  const table = clear(state.root.querySelector("#campaign-list"));
  if (!state.campaigns.length) {
    table.append(el("caption", { class: "muted" }, "No campaigns yet: “New campaign” makes one."));
    return;
  }
  table.append(
    el(
      "thead",
      {},
      el("tr", {}, ["Name", "Status", "Next run", ""].map((h) => el("th", { scope: "col" }, h))),
    ),
    el(
      "tbody",
      {},
      state.campaigns.map((c) =>
        el(
          "tr",
          { class: c.id === state.selected ? "selected" : "", dataset: { id: c.id } },
          el("th", { scope: "row", dataset: { label: "Name" } }, c.name),
          el("td", { dataset: { label: "Status" } }, el("span", { class: `pill ${c.status}` }, c.status)),
          el("td", { dataset: { label: "Next run" } }, when(c.next_run)),
          el(
            "td",
            { class: "open" },
            el(
              "a",
              { href: `#/campaigns/${encodeURIComponent(c.id)}`, class: "button-link", "aria-label": `Open ${c.name}` },
              "Open",
            ),
          ),
        ),
      ),
    ),
  );
}

function selected() {
  return state.campaigns.find((c) => c.id === state.selected) ?? null;
}

function renderCampaign() {
  const pane = clear(state.root.querySelector("#campaign"));
  const c = selected();
  if (!c) {
    pane.append(el("p", { class: "error" }, `No campaign ${state.selected}.`));
    return;
  }
  const audience = [
    ...(c.audience?.tags ?? []).map((t) => `tag ${t}`),
    ...Object.entries(c.audience?.attributes ?? {}).map(([k, v]) => `${k} = ${v}`),
    ...(c.audience?.stores ?? []).map((s) => `store ${s}`),
    c.audience?.ordered_within_days != null && `ordered in the last ${c.audience.ordered_within_days} days`,
    c.audience?.not_ordered_for_days != null && `no order for ${c.audience.not_ordered_for_days} days`,
    c.audience?.min_orders != null && `at least ${c.audience.min_orders} orders`,
  ].filter(Boolean);
  const paused = c.status === "paused";
  pane.append(
    el("h2", { id: "campaign-title", tabindex: "-1" }, c.name),
    facts([
      ["Status", [el("span", { class: `pill ${c.status}`, id: "campaign-status" }, c.status), c.paused_reason ? ` · ${c.paused_reason}` : ""]],
      ["Purpose", c.purpose],
      ["Text", c.message ?? (c.prompt_id ? `asks “${c.prompt_id}”` : variantsSaid(c.variants))],
      c.holdout_percent > 0 && ["Control group", `${c.holdout_percent}% of the audience, texted nothing: the report compares its orders`],
      ["Audience", audience.length ? audience.join(", ") : "everyone"],
      c.location && ["Location", `${c.location.name} (${c.location.prefixes.join(", ")})`],
      ["Next run", c.next_run ? `${when(c.next_run)}, until ${when(c.deadline)}` : "none"],
      ["Schedule", c.cron ? `cron ${c.cron}` : "once"],
      [
        "Pace",
        `${c.messages_per_second ? `at most ${c.messages_per_second} a second` : "each sender's own rate"}; ` +
          `texts dropped ${c.relevance_hours} h after a run starts`,
      ],
    ]),
    el(
      "div",
      { class: "actions" },
      el("a", { href: `#/campaigns/${encodeURIComponent(c.id)}/edit`, id: "edit", class: "button-link" }, "Edit"),
      el("button", { type: "button", id: "preview", onclick: preview }, "Preview decisions"),
      el(
        "button",
        { type: "button", id: "toggle", class: paused ? "" : "danger", onclick: () => toggle(paused) },
        paused ? "Resume" : "Pause",
      ),
    ),
    el("p", { id: "campaign-error", class: "error", role: "alert" }),
    el("div", { id: "preview-area", "aria-live": "polite" }),
    el("h3", {}, "Runs"),
    el("div", { id: "runs", class: "table-wrap" }, el("p", { class: "muted" }, "Loading…")),
    el("section", { id: "earned", class: "earned", "aria-live": "polite" }),
  );
  loadRuns();
}

async function toggle(paused) {
  const c = selected();
  try {
    await api.post(`campaigns/${encodeURIComponent(c.id)}/${paused ? "resume" : "pause"}`);
    say(`${c.name}: ${paused ? "resumed" : "paused"}.`);
    await loadList();
    state?.root.querySelector("#toggle")?.focus();
  } catch (error) {
    state.root.querySelector("#campaign-error").textContent = error.message;
  }
}

async function preview() {
  const c = selected();
  const area = clear(state.root.querySelector("#preview-area"));
  area.append(el("p", { class: "muted" }, "Working it out…"));
  try {
    const result = await api.post(`campaigns/${encodeURIComponent(c.id)}/preview`);
    // The first contact it would text becomes the edit form's sample for the live preview.
    const first = Object.entries(result.samples ?? {}).find(([key]) => key.startsWith("send/"))?.[1]?.[0]?.phone;
    if (first) sampleFor.set(c.id, first);
    renderPreview(clear(area), result);
  } catch (error) {
    clear(area);
    state.root.querySelector("#campaign-error").textContent = error.message;
  }
}

function renderPreview(area, result) {
  const entries = Object.entries(result.decisions).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const top = Math.max(1, ...entries.map(([, n]) => n));
  area.append(
    el("h3", {}, "Preview"),
    el("p", { class: "muted" }, `${result.audience} in the audience, as at ${when(result.evaluated_at)}. Nothing is sent.`),
    el(
      "ol",
      { class: "chart", id: "preview-chart", "aria-label": "Decisions by reason" },
      entries.map(([key, count], index) => {
        const [verdict, reason] = key.split("/");
        const fill = el("span", { class: `fill ${verdict}` });
        fill.style.width = `${(100 * count) / top}%`;
        const samples = result.samples?.[key] ?? [];
        return el(
          "li",
          { class: "bar", dataset: { key, count: String(count) } },
          el("span", { class: "label" }, el("strong", {}, verdict), ` ${reason ?? ""}`),
          el("span", { class: "track", "aria-hidden": "true" }, fill),
          el("span", { class: "value" }, String(count)),
          samples.length
            ? el(
                "details",
                { class: "samples", open: index === 0 },
                el("summary", {}, `Examples (${samples.length})`),
                el(
                  "ul",
                  {},
                  samples.map((s) =>
                    el("li", {}, el("a", { href: `#/customer/${encodeURIComponent(s.phone)}` }, s.phone), ": ", s.detail ?? s.text ?? s.body ?? ""),
                  ),
                ),
              )
            : null,
        );
      }),
    ),
  );
  if (!entries.length) area.append(el("p", { class: "muted" }, "Nobody in the audience."));
}

async function loadRuns() {
  const mine = state;
  const id = state.selected;
  try {
    const { runs } = await api.get(`campaigns/${encodeURIComponent(id)}/runs`);
    if (state !== mine || state.selected !== id) return;
    renderRuns(runs);
    if (!runs.length) return;
    const report = await api.get(`campaigns/${encodeURIComponent(id)}/runs/${encodeURIComponent(runs[0].id)}/report`);
    if (state !== mine || state.selected !== id) return;
    renderEarned(report);
  } catch (error) {
    if (state === mine && error.status !== 401) say(error.message, "error");
  }
}

function variantsSaid(variants) {
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  return variants.map((v) => `${v.id} (${Math.round((100 * v.weight) / total)}%): ${v.message}`).join(" · ");
}

// The latest run's funnel (GET …/runs/{run_id}/report): each step a meter against the texts planned.
const FUNNEL = {
  planned: "Planned",
  sent: "Sent",
  delivered: "Delivered",
  replied_24h: "Replied within 24 h",
  clicked: "Clicked a link",
  ordered: "Ordered within the window",
  opted_out_72h: "Opted out within 72 h",
  failed: "Failed",
};

// Amounts in each currency's minor units, said in major units: "37.98 GBP, 4.00 EUR", or `none`.
const money = (amounts, none = "none") =>
  Object.entries(amounts).map(([currency, minor]) => `${(minor / 100).toFixed(2)} ${currency}`).join(", ") || none;

// Each store's or variant's funnel, a row each, the columns its steps (short names: a narrow table) and revenue.
const GROUP_STEPS = Object.entries({
  planned: "Planned", sent: "Sent", delivered: "Delivered", replied_24h: "Replied", clicked: "Clicked",
  ordered: "Ordered", opted_out_72h: "Opted out", failed: "Failed",
});

function groupTable(id, caption, heading, rows) {
  const steps = GROUP_STEPS;
  // its own scroll at 360 px, reachable by keyboard (a region named by the table's caption)
  return el("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-labelledby": `${id}-caption` }, el(
    "table",
    { id, class: "groups" },
    el("caption", { id: `${id}-caption` }, caption),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, heading), steps.map(([, label]) => el("th", { scope: "col" }, label)), el("th", { scope: "col" }, "Revenue"))),
    el(
      "tbody",
      {},
      rows.map(([name, row]) =>
        el("tr", { dataset: { group: name } }, el("th", { scope: "row" }, name), steps.map(([key]) => el("td", { dataset: { metric: key } }, String(row[key]))), el("td", {}, money(row.revenue))),
      ),
    ),
  ));
}

function controlGroupSaid(report) {
  const held = report.holdout;
  const said = `Control group: ${held.size} texted nothing; ${held.ordered} of their orders (${money(held.revenue)}).`;
  const added = report.incremental;
  if (!added) return `${said} Nothing to compare until it holds someone.`;
  return `${said} The texts added ${added.ordered} orders and ${money(added.revenue, "no revenue")} beyond the control group's rate.`;
}

function renderEarned(report) {
  const box = clear(state.root.querySelector("#earned"));
  const top = Math.max(1, report.planned, report.sent);
  const unpriced = report.unpriced_segments ? `, ${report.unpriced_segments} of them unpriced` : "";
  const ratio = report.revenue_per_cost === null ? "" : `; ${report.revenue_per_cost} back per unit of cost`;
  const cost =
    report.segments && report.unpriced_segments === report.segments
      ? "cost not priced (SEGMENT_PRICES)"
      : `cost ${report.cost} ${report.cost_currency}`;
  box.append(
    el("h3", { id: "earned-title" }, "What the latest run earned"),
    el(
      "ul",
      { class: "funnel", "aria-labelledby": "earned-title" },
      Object.entries(FUNNEL).map(([key, label]) =>
        el(
          "li",
          { dataset: { metric: key } },
          el("span", { class: "funnel-label" }, label),
          el("meter", { min: 0, max: top, value: report[key], "aria-label": `${label}: ${report[key]} of ${top}` }),
          el("span", { class: "funnel-value" }, String(report[key])),
        ),
      ),
    ),
    el(
      "p",
      { id: "earned-money" },
      `Revenue ${money(report.revenue, "none yet")}; ${cost} for ${report.segments} segments${unpriced}${ratio}.`,
    ),
    report.holdout && el("p", { id: "holdout" }, controlGroupSaid(report)),
    report.by_variant.some((g) => g.variant !== null) &&
      groupTable("by-variant", "By variant", "Variant", report.by_variant.map((g) => [g.variant ?? "message", g])),
    report.by_store.some((g) => g.store_id !== null) &&
      groupTable("by-store", "By store", "Store", report.by_store.map((g) => [g.store_id ?? "no store", g])),
  );
}

function renderRuns(runs) {
  const box = clear(state.root.querySelector("#runs"));
  if (!runs.length) {
    box.append(el("p", { class: "muted" }, "No runs yet."));
    return;
  }
  const sum = (counts, test) => Object.entries(counts).filter(([k]) => test(k)).reduce((n, [, v]) => n + v, 0);
  box.append(
    el(
      "table",
      { class: "runs cards" },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          ["Run", "Planning", "Planned", "Held", ...Object.values(SENDING), "Breaker"].map((h) => el("th", { scope: "col" }, h)),
        ),
      ),
      el(
        "tbody",
        {},
        runs.map((run) => {
          const counts = run.counts ?? {};
          const done = run.shards_done?.length ?? 0;
          // planned: the texts planning queued or held (older runs: every decision but a drop)
          const planned = counts.planned ?? sum(counts, (k) => k.includes("/") && !k.startsWith("drop/"));
          return el(
            "tr",
            { dataset: { id: run.id } },
            el("th", { scope: "row", dataset: { label: "Run" } }, when(run.scheduled_for)),
            el(
              "td",
              { dataset: { label: "Planning" } },
              el("progress", { max: run.shards, value: done, "aria-label": `planning: ${done} of ${run.shards} shards` }),
              ` ${done}/${run.shards}`,
            ),
            el("td", { dataset: { count: "planned", label: "Planned" } }, String(planned)),
            el("td", { dataset: { count: "held", label: "Held" } }, String(sum(counts, (k) => k.startsWith("hold/")))),
            Object.entries(SENDING).map(([k, label]) => el("td", { dataset: { count: k, label } }, String(counts[k] ?? 0))),
            el("td", { dataset: { label: "Breaker" } }, run.breaker ?? "—"),
          );
        }),
      ),
    ),
  );
}

// --- create and edit ------------------------------------------------------------

const FIELDS = {
  // the API's field (the first part of a 400's "field: reason") -> the input it is about
  name: "f-name",
  purpose: "f-prompt", // marketing or question follows from the question asked, if any
  message: "f-message",
  prompt_id: "f-prompt",
  audience: "f-tags",
  "audience.tags": "f-tags",
  "audience.attributes": "f-attributes",
  "audience.stores": "f-stores",
  "audience.ordered_within_days": "f-ordered-within",
  "audience.not_ordered_for_days": "f-not-ordered-for",
  "audience.min_orders": "f-min-orders",
  location: "f-location-name",
  "location.name": "f-location-name",
  "location.prefixes": "f-location-prefixes",
  send_at: "f-send-at",
  cron: "f-cron",
  relevance_hours: "f-relevance",
  messages_per_second: "f-mps",
  holdout_percent: "f-holdout",
};

function field(id, label, control, hint) {
  control.setAttribute("aria-describedby", [hint ? `${id}-hint` : "", `${id}-error`].filter(Boolean).join(" "));
  return el(
    "div",
    { class: "field" },
    el("label", { for: id }, label),
    hint ? el("p", { id: `${id}-hint`, class: "hint muted" }, hint) : null,
    control,
    el("p", { id: `${id}-error`, class: "error field-error" }),
  );
}

const list = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);

// A datetime-local value (the browser's zone) from an ISO time, and back.
function localInput(iso) {
  const at = iso ? new Date(iso) : new Date(Date.now() + 3600_000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

function renderForm(c) {
  const pane = clear(state.root.querySelector("#campaign"));
  const input = (id, attrs = {}) => el("input", { id, name: id, ...attrs });
  const attributes = Object.entries(c?.audience?.attributes ?? {}).map(([k, v]) => `${k}=${v}`).join("\n");
  const message = el("textarea", { id: "f-message", name: "f-message", rows: 4, maxlength: 1600 });
  message.value = c?.message ?? c?.variants?.[0]?.message ?? ""; // variants: the live preview shows the first
  const attrs = el("textarea", { id: "f-attributes", name: "f-attributes", rows: 2, spellcheck: "false" });
  attrs.value = attributes;
  const prompt = el("select", { id: "f-prompt", name: "f-prompt" }, el("option", { value: "" }, "None: send the text above"));
  const sample = input("f-sample", { type: "tel", autocomplete: "off", value: (c && sampleFor.get(c.id)) ?? "" });
  const back = c ? `#/campaigns/${encodeURIComponent(c.id)}` : "#/campaigns";
  pane.append(
    el("h2", { id: "campaign-title", tabindex: "-1" }, c ? `Edit ${c.name}` : "New campaign"),
    el(
      "form",
      { id: "campaign-form", class: "campaign-form", novalidate: true, onsubmit: (event) => save(event, c) },
      el("p", { id: "form-error", class: "error", role: "alert" }),
      field("f-name", "Name", input("f-name", { type: "text", required: true, maxlength: 120, value: c?.name ?? "" })),
      c?.variants?.length
        ? [el("p", { id: "f-variants", class: "field" }, `Variants, kept as they are (change them through the API): ${variantsSaid(c.variants)}`), el("div", { hidden: true }, message)]
        : field("f-message", "Text", message, "Fields look like {first_name|there}: an attribute, a bar, and what to say when it is missing."),
      field(
        "f-holdout",
        "Control group (% of the audience texted nothing)",
        input("f-holdout", { type: "number", min: 0, max: 50, step: "any", value: c?.holdout_percent ?? 0 }),
        "Chosen by number; the run's report compares their orders with the texted audience's.",
      ),
      el(
        "section",
        { class: "render", id: "render", "aria-labelledby": "render-title" },
        el("h3", { id: "render-title" }, "Live preview"),
        field(
          "f-sample",
          "Sample contact (phone)",
          sample,
          "The first contact of the audience (its first tag) unless you choose one; blank: every fallback.",
        ),
        el("p", { class: "bubble render-text", id: "render-text", "aria-live": "polite" }),
        el("p", { id: "render-segments", "aria-live": "polite" }),
        el("p", { id: "render-fields", class: "muted" }),
        el("p", { id: "render-error", class: "error", role: "alert" }),
      ),
      field("f-prompt", "Or ask a question instead (a question campaign: opt-in and quiet hours hold, as for marketing)", prompt),
      el(
        "fieldset",
        { class: "group" },
        el("legend", {}, "Audience"),
        field("f-tags", "Tags (all of them; comma-separated)", input("f-tags", { type: "text", value: (c?.audience?.tags ?? []).join(", ") })),
        field("f-attributes", "Attributes (name=value, one a line)", attrs),
        field(
          "f-stores",
          "Stores (their customers only; comma-separated store ids, optional)",
          input("f-stores", { type: "text", value: (c?.audience?.stores ?? []).join(", ") }),
          "A marketing text tied to stores goes only to customers living in their areas.",
        ),
        field(
          "f-ordered-within",
          "Ordered in the last … days (optional)",
          input("f-ordered-within", { type: "number", min: 1, max: 3650, step: 1, value: c?.audience?.ordered_within_days ?? "" }),
        ),
        field(
          "f-not-ordered-for",
          "No order for … days (optional)",
          input("f-not-ordered-for", { type: "number", min: 1, max: 3650, step: 1, value: c?.audience?.not_ordered_for_days ?? "" }),
        ),
        field(
          "f-min-orders",
          "At least … orders (optional)",
          input("f-min-orders", { type: "number", min: 1, max: 100000, step: 1, value: c?.audience?.min_orders ?? "" }),
        ),
      ),
      el(
        "fieldset",
        { class: "group" },
        el("legend", {}, "Location (marketing only; optional)"),
        field("f-location-name", "Name", input("f-location-name", { type: "text", maxlength: 80, value: c?.location?.name ?? "" })),
        field(
          "f-location-prefixes",
          "Postcode districts or ZIP prefixes (comma-separated)",
          input("f-location-prefixes", { type: "text", value: (c?.location?.prefixes ?? []).join(", ") }),
        ),
      ),
      el(
        "fieldset",
        { class: "group" },
        el("legend", {}, "When and how fast"),
        field("f-send-at", "Send at (your local time)", input("f-send-at", { type: "datetime-local", required: true, value: localInput(c?.send_at) })),
        field("f-cron", "Repeat (cron, the brand's time zone; optional)", input("f-cron", { type: "text", maxlength: 100, value: c?.cron ?? "", placeholder: "0 17 * * TUE" })),
        field(
          "f-relevance",
          "Relevance (hours)",
          input("f-relevance", { type: "number", min: 0.1, max: 336, step: "any", value: c?.relevance_hours ?? 24 }),
          "Texts not sent this long after the run's start are dropped, never sent late.",
        ),
        field(
          "f-mps",
          "At most, a second (optional)",
          input("f-mps", { type: "number", min: 0.1, max: 1000, step: "any", value: c?.messages_per_second ?? "" }),
          "Empty: as fast as each store's number allows (a long code 1 segment a second, toll-free 3, a short code 100).",
        ),
      ),
      el(
        "div",
        { class: "actions" },
        el("button", { type: "submit", id: "save-campaign" }, c ? "Save changes" : "Create campaign"),
        el("a", { href: back, class: "button-link", id: "cancel-edit" }, "Cancel"),
      ),
    ),
  );
  for (const id of ["f-message", "f-sample"]) pane.querySelector(`#${id}`).addEventListener("input", renderSoon);
  sample.addEventListener("input", () => (state.sampleChosen = true));
  pane.querySelector("#f-tags").addEventListener("change", firstOfAudience);
  state.sampleChosen = Boolean(sample.value);
  loadPrompts(prompt, c?.prompt_id ?? "");
  if (state.sampleChosen) renderText();
  else firstOfAudience();
  pane.querySelector("#f-name").focus();
}

async function loadPrompts(select, chosen) {
  const mine = state;
  try {
    const { prompts } = await api.get("prompts");
    if (state !== mine) return;
    select.append(...prompts.map((p) => el("option", { value: p.id, selected: p.id === chosen }, `${p.id}: ${p.question}`)));
  } catch (error) {
    if (state === mine) select.append(el("option", { value: chosen, selected: true, disabled: !chosen }, chosen || "(the questions cannot be read now)"));
  }
}

const TAG = /^[\w.\- ]{1,40}$/u; // a tag's name, as the contacts search takes it

// Unless the operator chose a sample, the first contact of the audience: the contacts
// with its first tag (an index query, one page) that carry every tag and attribute it asks.
async function firstOfAudience() {
  if (!state || state.sampleChosen) return;
  const mine = state;
  const $ = (id) => state.root.querySelector(`#${id}`);
  const tags = list($("f-tags").value);
  const wanted = Object.fromEntries(
    $("f-attributes").value.split("\n").filter((l) => l.includes("=")).map((l) => l.split("=").map((p) => p.trim())),
  );
  let phone = "";
  if (tags.length && tags.every((t) => TAG.test(t))) {
    try {
      const { contacts } = await api.get(`contacts?tag=${encodeURIComponent(tags[0])}&limit=25`);
      const fits = (c) =>
        tags.every((t) => c.tags?.includes(t)) &&
        Object.entries(wanted).every(([k, v]) => c.attributes?.[k]?.value === v);
      phone = (contacts.find(fits) ?? contacts[0])?.phone ?? "";
    } catch {
      phone = ""; // no search (or not allowed): every fallback
    }
  }
  if (state !== mine || state.sampleChosen) return;
  $("f-sample").value = phone;
  renderText();
}

function renderSoon() {
  clearTimeout(state.renderTimer);
  state.renderTimer = setTimeout(renderText, RENDER_MS);
}

// The text as the sample contact would get it: the server's own template code fills it.
async function renderText() {
  if (!state) return;
  const mine = state;
  const seq = ++state.renderSeq;
  const $ = (id) => state.root.querySelector(`#${id}`);
  const message = $("f-message").value;
  const phone = $("f-sample").value.trim();
  const show = (text, segments, fields, error) => {
    $("render-text").textContent = text;
    $("render-segments").textContent = segments;
    $("render-fields").textContent = fields;
    $("render-error").textContent = error;
  };
  $("f-sample-error").textContent = "";
  if (!message.trim()) {
    show("", "Empty · GSM-7 · 160 characters per segment", "", "");
    return;
  }
  try {
    const r = await api.post("campaigns/render", phone ? { message, phone } : { message });
    if (state !== mine || seq !== state.renderSeq) return; // a later keystroke's answer wins
    const plural = r.segments === 1 ? "segment" : "segments";
    let line = `${r.segments} ${plural} · ${r.encoding} · ${r.units}/${r.limit}`;
    if (r.encoding === "UCS-2" && r.because.length) line += ` (because of ${r.because.map((ch) => `“${ch}”`).join(" ")})`;
    const who = r.sample ? `for ${r.sample}` : "with every fallback";
    const fell = r.missing_fields.length ? `; fell back on ${r.missing_fields.join(", ")}` : "";
    show(r.text, line, `As sent ${who}${fell}.`, "");
    $("render-segments").dataset.encoding = r.encoding;
    $("render-segments").dataset.segments = String(r.segments);
  } catch (error) {
    if (state !== mine || seq !== state.renderSeq) return;
    if (error.status === 404 || /^phone:/.test(error.message)) {
      show("", "", "", "");
      $("f-sample-error").textContent = error.message.replace(/^phone: /, "");
    } else show("", "", "", `Cannot preview: ${error.message.replace(/^message: (Value error, )?/, "")}`);
  }
}

function spec(c) { // c: the campaign edited, if any (its variants are kept)
  const $ = (id) => state.root.querySelector(`#${id}`).value;
  const attributes = {};
  for (const line of $("f-attributes").split("\n")) {
    if (!line.trim()) continue;
    const [name, ...rest] = line.split("=");
    attributes[name.trim()] = rest.join("=").trim();
  }
  const number = (id) => ($(id).trim() === "" ? undefined : Number($(id)));
  const at = new Date($("f-send-at"));
  const body = {
    name: $("f-name").trim(),
    audience: {
      tags: list($("f-tags")),
      attributes,
      stores: list($("f-stores")),
      ordered_within_days: number("f-ordered-within"),
      not_ordered_for_days: number("f-not-ordered-for"),
      min_orders: number("f-min-orders"),
    },
    send_at: Number.isNaN(at.getTime()) ? $("f-send-at") : at.toISOString(),
    relevance_hours: number("f-relevance"),
    messages_per_second: number("f-mps"),
  };
  body.holdout_percent = number("f-holdout") ?? 0;
  if ($("f-prompt")) body.prompt_id = $("f-prompt");
  else if (c?.variants?.length) body.variants = c.variants;
  else body.message = $("f-message");
  if ($("f-cron").trim()) body.cron = $("f-cron").trim();
  if ($("f-location-name").trim() || $("f-location-prefixes").trim()) {
    body.location = { name: $("f-location-name").trim(), prefixes: list($("f-location-prefixes")) };
  }
  return body;
}

// A 400's "field: reason; other.field: reason" next to each input it is about.
function showErrors(message) {
  const form = state.root.querySelector("#campaign-form");
  const general = [];
  for (const part of message.split(/; (?=[\w.]+: )/)) {
    const match = /^([\w.]+): (?:Value error, )?(.*)$/s.exec(part);
    const path = match?.[1] ?? "";
    // the most precise field named: "location.prefixes.0" is about the prefixes
    const known = Object.keys(FIELDS).filter((f) => path === f || path.startsWith(`${f}.`));
    const best = known.sort((a, b) => b.length - a.length)[0];
    if (!best) {
      general.push(match && path !== "body" ? part : (match?.[2] ?? part));
      continue;
    }
    const id = FIELDS[best];
    const out = form.querySelector(`#${id}-error`);
    out.textContent = [out.textContent, match[2]].filter(Boolean).join("; ");
    form.querySelector(`#${id}`).setAttribute("aria-invalid", "true");
  }
  form.querySelector("#form-error").textContent = general.length
    ? general.join("; ")
    : "Please correct the fields marked below.";
  const first = form.querySelector("[aria-invalid=true]");
  (first ?? form.querySelector("#form-error")).focus?.();
}

async function save(event, c) {
  event.preventDefault();
  const form = state.root.querySelector("#campaign-form");
  for (const out of form.querySelectorAll(".field-error, #form-error")) out.textContent = "";
  for (const bad of form.querySelectorAll("[aria-invalid]")) bad.removeAttribute("aria-invalid");
  const button = form.querySelector("#save-campaign");
  button.disabled = true;
  try {
    const body = spec(c);
    const saved = c
      ? await api.call("PUT", `campaigns/${encodeURIComponent(c.id)}`, { body })
      : await api.post("campaigns", body);
    notice = `${saved.name}: ${c ? "saved" : "created"}.`; // said once the campaign's page is open
    location.hash = `#/campaigns/${encodeURIComponent(saved.id)}`;
  } catch (error) {
    if (!state) return;
    if (error.status === 400) showErrors(error.message);
    else form.querySelector("#form-error").textContent = error.message;
  } finally {
    button.disabled = false;
  }
}
