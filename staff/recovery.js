// The recovery figures beside the list: the open store's callbacks over the last
// LIMITS.recovery_days days (how many, how fast the first contact, how many recovered).
import { $, el } from "../common/page.js";
import { duration, text } from "./locale.js";
import { changes, figures } from "./open_store.js";

// Each figure's key in the API's answer and how it is written.
const FIGURES = [
  ["tasks", "count"], ["open", "count"], ["overdue", "count"], ["resolved", "count"],
  ["within_deadline_share", "share"], ["median_s", "seconds"], ["p90_s", "seconds"], ["recovery_rate", "share"],
];

// The figures loaded for the open store ("loading" before they are).
export function renderRecovery() {
  $("recovery-figures").replaceChildren(
    ...FIGURES.map(([key, kind]) => {
      const value = key.endsWith("_s") ? figures?.time_to_first_contact?.[key] : figures?.[key];
      const missing = value === null || value === undefined;
      const shown = missing
        ? text(figures ? "no_data" : "loading")
        : kind === "share" ? `${Math.round(value * 100)}%` : kind === "seconds" ? duration(value) : String(value);
      return el("div", { "data-figure": key, class: key === "overdue" && value > 0 && "bad" },
        el("dt", {}, text("recovery_figures")[key]),
        el("dd", { class: missing && "none", "data-value": missing ? null : value }, shown));
    }),
  );
}

export function wire() {
  changes.addEventListener("figures", renderRecovery);
}
