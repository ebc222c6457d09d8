// Stores (#/stores): the brand's branches, each with its own sender, pace and
// areas (PUT /api/stores/{id} sets them; docs/stores-and-orders.md). Read here.

import * as api from "./api.js";
import { el, say } from "./dom.js";

let state = null;

export function enter(root) {
  state = { root };
  root.append(
    el(
      "section",
      { class: "pane stores", "aria-labelledby": "stores-title" },
      el("h2", { id: "stores-title" }, "Stores"),
      el("p", { class: "muted", id: "stores-count", "aria-live": "polite" }, "Loading…"),
      el("div", { class: "table-wrap", id: "stores-table" }),
    ),
  );
  load();
}

export function leave() {
  state = null;
}

const HEADINGS = ["Store", "Sender", "Pace", "Areas", "Phone", "Time zone"];

async function load() {
  const mine = state;
  try {
    const { stores } = await api.get("stores");
    if (state !== mine) return;
    const live = stores.filter((s) => !s.retired).length;
    state.root.querySelector("#stores-count").textContent =
      `${stores.length} stores, ${live} open. An operator sets them with PUT /api/stores/{id}.`;
    state.root.querySelector("#stores-table").append(
      el(
        "table",
        { class: "cards" },
        el("thead", {}, el("tr", {}, HEADINGS.map((h) => el("th", { scope: "col" }, h)))),
        el(
          "tbody",
          { id: "store-rows" },
          stores.map((s) =>
            el(
              "tr",
              { dataset: { store: s.id } },
              el("th", { scope: "row", "data-label": "Store" }, `${s.name} (${s.id})${s.retired ? " · retired" : ""}`),
              el("td", { "data-label": "Sender" }, s.sender),
              el("td", { "data-label": "Pace" }, `${s.messages_per_second} a second`),
              el("td", { "data-label": "Areas" }, s.areas.join(", ")),
              el("td", { "data-label": "Phone" }, s.phone ?? "—"),
              el("td", { "data-label": "Time zone" }, s.time_zone),
            ),
          ),
        ),
      ),
    );
  } catch (error) {
    if (state === mine && error.status !== 401) say(error.message, "error");
  }
}
