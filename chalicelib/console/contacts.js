// Contacts: find by tag, phone number or attribute (a page at a time), import a
// CSV file (refused whole, with each bad line and why), export a tag as CSV.

import * as api from "./api.js";
import { clear, el, say } from "./dom.js";

const LIMIT = 25;
const BY = {
  tag: { label: "Tag", placeholder: "vip", type: "text" },
  phone: { label: "Phone number", placeholder: "+447700900123", type: "tel" },
  attribute: { label: "Attribute name", placeholder: "first_name", type: "text" },
};
const COLUMNS =
  "phone (required), tags (separated by ;), time_zone, home_area, home_region, consent_state, consent_source, consent_at; any other column is an attribute.";
let state = null;

export function enter(root) {
  state = { root, query: null, next: null, shown: 0 };
  root.append(
    el(
      "div",
      { class: "contacts" },
      el(
        "section",
        { class: "pane", "aria-labelledby": "contacts-find-title" },
        el("h2", { id: "contacts-find-title" }, "Find contacts"),
        el(
          "form",
          { id: "contact-search", class: "contact-search", role: "search", onsubmit: search },
          el(
            "div",
            { class: "field" },
            el("label", { for: "search-by" }, "Find by"),
            el(
              "select",
              { id: "search-by", name: "by", onchange: byChanged },
              Object.entries(BY).map(([value, { label }]) => el("option", { value }, label)),
            ),
          ),
          el(
            "div",
            { class: "field" },
            el("label", { for: "search-term", id: "search-term-label" }, BY.tag.label),
            el("input", { id: "search-term", name: "term", required: true, autocomplete: "off", placeholder: BY.tag.placeholder }),
          ),
          el(
            "div",
            { class: "field", id: "search-value-field", hidden: true },
            el("label", { for: "search-value" }, "Value (optional)"),
            el("input", { id: "search-value", name: "value", autocomplete: "off", placeholder: "any value" }),
          ),
          el("div", { class: "field submit" }, el("button", { type: "submit", id: "search-submit" }, "Search")),
        ),
        el("p", { id: "search-error", class: "error", role: "alert" }),
        el("p", { id: "search-summary", class: "muted", "aria-live": "polite" }),
        el("div", { class: "table-wrap" }, el("table", { class: "contact-list cards", id: "contact-list" })),
        el("div", { class: "actions" }, el("button", { type: "button", id: "search-more", class: "quiet", hidden: true, onclick: more }, "More")),
      ),
      el(
        "section",
        { class: "pane", "aria-labelledby": "contacts-import-title" },
        el("h2", { id: "contacts-import-title" }, "Import a CSV file"),
        el("p", { class: "muted", id: "import-help" }, "A header row, then one contact a line. Columns: ", COLUMNS,
          " Nothing is imported unless every row is good."),
        el(
          "form",
          { id: "import-form", onsubmit: importFile },
          el("label", { for: "import-file" }, "CSV file"),
          el("input", { id: "import-file", name: "file", type: "file", accept: ".csv,text/csv", required: true, "aria-describedby": "import-help" }),
          el("div", { class: "actions" }, el("button", { type: "submit", id: "import-submit" }, "Import")),
        ),
        el("div", { id: "import-result", "aria-live": "polite" }),
      ),
      el(
        "section",
        { class: "pane", "aria-labelledby": "contacts-export-title" },
        el("h2", { id: "contacts-export-title" }, "Export a tag"),
        el(
          "form",
          { id: "export-form", onsubmit: exportTag },
          el("label", { for: "export-tag" }, "Tag to export"),
          el(
            "div",
            { class: "inline" },
            el("input", { id: "export-tag", name: "tag", required: true, autocomplete: "off", placeholder: "vip" }),
            el("button", { type: "submit", id: "export-submit" }, "Export tag as CSV"),
          ),
        ),
        el("p", { id: "export-result", class: "muted", "aria-live": "polite" }),
      ),
    ),
  );
  root.querySelector("#search-term").focus();
}

export function leave() {
  state = null;
}

const $ = (id) => state.root.querySelector(`#${id}`);

function byChanged() {
  const by = $("search-by").value;
  const term = $("search-term");
  $("search-term-label").textContent = BY[by].label;
  term.placeholder = BY[by].placeholder;
  term.type = BY[by].type;
  $("search-value-field").hidden = by !== "attribute";
}

function queryFor(by, term, value) {
  const params = new URLSearchParams({ limit: String(LIMIT) });
  if (by === "attribute") {
    params.set("attribute", term);
    if (value) params.set("value", value);
  } else {
    params.set(by, term);
  }
  return params;
}

async function search(event) {
  event.preventDefault();
  const by = $("search-by").value;
  const term = $("search-term").value.trim();
  if (!term) return;
  state.query = queryFor(by, term, $("search-value").value.trim());
  state.next = null;
  state.shown = 0;
  clear($("contact-list"));
  if (by === "tag") $("export-tag").value = term;
  await load();
}

async function more() {
  if (state?.next) await load();
}

async function load() {
  const mine = state;
  const params = new URLSearchParams(state.query);
  if (state.next) params.set("cursor", state.next);
  $("search-error").textContent = "";
  $("search-submit").disabled = true;
  $("search-more").disabled = true;
  try {
    const page = await api.get(`contacts?${params}`);
    if (state !== mine) return;
    const first = !state.next;
    state.next = page.next;
    state.shown += page.contacts.length;
    render(page.contacts, first);
    $("search-more").hidden = !page.next;
    $("search-summary").textContent =
      state.shown === 0 && !page.next
        ? "No contacts found."
        : `${state.shown} contact${state.shown === 1 ? "" : "s"} shown${page.next ? "; more may follow" : ""}.`;
  } catch (error) {
    if (state === mine) $("search-error").textContent = error.message;
  } finally {
    if (state === mine) {
      $("search-submit").disabled = false;
      $("search-more").disabled = false;
    }
  }
}

function render(contacts, first) {
  const table = $("contact-list");
  if (first) {
    clear(table);
    table.append(
      el("thead", {}, el("tr", {}, ["Phone", "Name", "Tags", "Consent"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", { id: "contact-rows" }),
    );
  }
  const rows = table.querySelector("tbody");
  for (const c of contacts) {
    const name = c.attributes?.first_name?.value ?? "";
    const consent = c.consent_event?.state ?? "unknown";
    rows.append(
      el(
        "tr",
        { dataset: { phone: c.phone } },
        el(
          "th",
          { scope: "row", dataset: { label: "Phone" } },
          el("a", { href: `#/customer/${encodeURIComponent(c.phone)}`, "aria-label": `Open ${c.phone}${name ? ` (${name})` : ""}` }, c.phone),
        ),
        el("td", { dataset: { label: "Name" } }, name || "—"),
        el("td", { dataset: { label: "Tags" } }, c.tags.length ? c.tags.map((t) => el("span", { class: "tag" }, t)) : "—"),
        el("td", { dataset: { label: "Consent" } }, el("span", { class: `consent ${consent}` }, consent.replace("_", " "))),
      ),
    );
  }
}

async function importFile(event) {
  event.preventDefault();
  const file = $("import-file").files[0];
  const result = clear($("import-result"));
  if (!file) return;
  const mine = state;
  $("import-submit").disabled = true;
  try {
    const text = await file.text();
    const { imported } = await api.call("POST", "contacts", { csv: text });
    if (state !== mine) return;
    result.append(el("p", { class: "ok", id: "import-ok", role: "status" }, `Imported ${imported} contact${imported === 1 ? "" : "s"} from ${file.name}.`));
    say(`Imported ${imported} contacts.`);
    $("import-form").reset();
  } catch (error) {
    if (state !== mine) return;
    const rejects = error.body?.rejects ?? [];
    result.append(
      el("p", { class: "error", role: "alert", id: "import-error" },
        rejects.length ? `Nothing imported: ${rejects.length} line${rejects.length === 1 ? "" : "s"} refused.` : error.message),
    );
    if (rejects.length) {
      result.append(
        el(
          "ul",
          { class: "rejects", id: "import-rejects", "aria-label": "Refused lines" },
          rejects.map((r) => el("li", { dataset: { line: r.line } }, el("strong", {}, r.line ? `Line ${r.line}` : "File"), `: ${r.reason}`)),
        ),
      );
    }
  } finally {
    if (state === mine) $("import-submit").disabled = false;
  }
}

async function exportTag(event) {
  event.preventDefault();
  const tag = $("export-tag").value.trim();
  if (!tag) return;
  const mine = state;
  const out = $("export-result");
  out.textContent = "";
  out.classList.remove("error");
  $("export-submit").disabled = true;
  try {
    const { text } = await api.call("GET", `contacts/export?${new URLSearchParams({ tag })}`, {
      headers: { Accept: "text/csv" },
      raw: true,
    });
    if (state !== mine) return;
    const rows = Math.max(0, text.split("\r\n").filter(Boolean).length - 1);
    const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
    const link = el("a", { href: url, download: `contacts-${tag.replace(/[^\w.-]+/g, "-")}.csv`, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    out.textContent = `Exported ${rows} contact${rows === 1 ? "" : "s"} tagged ${tag}.`;
  } catch (error) {
    if (state !== mine) return;
    out.textContent = error.message;
    out.classList.add("error");
  } finally {
    if (state === mine) $("export-submit").disabled = false;
  }
}
