// Campaigns: the list, a preview as a chart of decisions by reason (with samples),
// pause and resume, and each run's progress (refreshed while it is open).

import * as api from "./api.js";
import { clear, el, facts, say, when } from "./dom.js";

const POLL_MS = 5000;
const SENDING = { out: "Out", delivered: "Delivered", failed: "Failed", unknown: "Unknown", opted_out: "Opted out" };
let state = null;

export function enter(root, id) {
  state = { root, selected: id, campaigns: [], timer: null };
  root.append(
    el(
      "div",
      { class: "campaigns" },
      el(
        "section",
        { class: "pane", "aria-labelledby": "campaigns-title" },
        el("h2", { id: "campaigns-title" }, "Campaigns"),
        el("div", { class: "table-wrap" }, el("table", { class: "campaign-list cards", id: "campaign-list" })),
        el("p", { id: "campaigns-error", class: "error", role: "alert" }),
      ),
      el("section", { class: "pane", id: "campaign", "aria-label": "Campaign" }),
    ),
  );
  loadList();
  state.timer = setInterval(() => state?.selected && loadRuns(), POLL_MS);
}

export function leave() {
  if (state?.timer) clearInterval(state.timer);
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
    if (state.selected) renderCampaign();
  } catch (error) {
    if (state === mine) state.root.querySelector("#campaigns-error").textContent = error.message;
  }
}

function renderList() {
  const table = clear(state.root.querySelector("#campaign-list"));
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
  if (!state.campaigns.length) table.append(el("caption", {}, "No campaigns yet: create one with the API (docs/api.md)."));
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
  ];
  const paused = c.status === "paused";
  pane.append(
    el("h2", { id: "campaign-title", tabindex: "-1" }, c.name),
    facts([
      ["Status", [el("span", { class: `pill ${c.status}`, id: "campaign-status" }, c.status), c.paused_reason ? ` · ${c.paused_reason}` : ""]],
      ["Purpose", c.purpose],
      ["Text", c.message ?? (c.prompt_id ? `asks “${c.prompt_id}”` : "—")],
      ["Audience", audience.length ? audience.join(", ") : "everyone"],
      c.location && ["Location", `${c.location.name} (${c.location.prefixes.join(", ")})`],
      ["Next run", c.next_run ? `${when(c.next_run)}, until ${when(c.deadline)}` : "none"],
      ["Schedule", c.cron ? `cron ${c.cron}` : "once"],
    ]),
    el(
      "div",
      { class: "actions" },
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
  } catch (error) {
    if (state === mine && error.status !== 401) say(error.message, "error");
  }
}

function renderRuns(runs) {
  const box = clear(state.root.querySelector("#runs"));
  if (!runs.length) {
    box.append(el("p", { class: "muted" }, "No runs yet."));
    return;
  }
  // "delivered" only when the API counts it; the others always (0 until they happen).
  const columns = Object.keys(SENDING).filter((k) => k !== "delivered" || runs.some((r) => k in (r.counts ?? {})));
  const sum = (counts, test) => Object.entries(counts).filter(([k]) => test(k)).reduce((n, [, v]) => n + v, 0);
  box.append(
    el(
      "table",
      { class: "runs cards" },
      el(
        "thead",
        {},
        el("tr", {}, ["Run", "Planning", "Planned", "Held", ...columns.map((k) => SENDING[k]), "Breaker"].map((h) => el("th", { scope: "col" }, h))),
      ),
      el(
        "tbody",
        {},
        runs.map((run) => {
          const counts = run.counts ?? {};
          const done = run.shards_done?.length ?? 0;
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
            el("td", { dataset: { label: "Planned" } }, String(sum(counts, (k) => k.includes("/")))),
            el("td", { dataset: { label: "Held" } }, String(sum(counts, (k) => k.startsWith("hold/")))),
            columns.map((k) => el("td", { dataset: { count: k, label: SENDING[k] } }, String(counts[k] ?? 0))),
            el("td", { dataset: { label: "Breaker" } }, run.breaker ?? "—"),
          );
        }),
      ),
    ),
  );
}
