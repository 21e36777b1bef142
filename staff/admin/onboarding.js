// The bulk upload (admins): a CSV of stores and their people posted to POST /v1/onboarding
// (the same code as `make onboard`), in parts as small as the API takes in one request
// (csvParts); every row's result shown by its line number. A re-run changes nothing: rows
// whose store exists are reported "exists".
import { el } from "../../common/page.js";
import { api } from "../api.js";
import { field, form, json, said, showError, tx, words } from "./forms.js";
import { LIMITS, t } from "./strings.js";

export function render() {
  const progress = el("p", { class: "hint", role: "status", id: "onboarding-progress" });
  const summary = el("p", { class: "notice", role: "status", id: "onboarding-summary" });
  const results = el("ol", { class: "admin-list admin-rows", id: "onboarding-results" });
  const upload = form({ id: "onboarding-form", "aria-labelledby": "onboarding-title" }, [
    tx("h2", { id: "onboarding-title" }, "onboarding_title"),
    tx("p", { class: "hint" }, "onboarding_text"),
    field("csv", "csv_label", { type: "file", accept: ".csv,text/csv", required: true }),
    progress,
  ], "upload", async (node) => {
    summary.textContent = "";
    results.replaceChildren();
    const file = node.elements.csv.files[0];
    if (!file) return showError(node, "csv", "csv_missing");
    if (file.size > LIMITS.csv_bytes) return showError(node, "csv", () => t("csv_too_large", `${LIMITS.csv_bytes / 1024 / 1024} MB`));
    const totals = { created: 0, exists: 0, errors: 0 };
    const parts = csvParts(await file.text());
    const all = parts.reduce((sum, part) => sum + part.rows, 0);
    let done = 0;
    try {
      for (const part of parts) {
        words(progress, (n) => (n.textContent = t("uploading", done, all)));
        const answer = await api("/v1/onboarding", json("POST", { csv: part.csv, first_line: part.first_line }));
        for (const name of Object.keys(totals)) totals[name] += answer[name] ?? 0;
        results.append(...answer.rows.map(rowItem));
        done += part.rows;
      }
    } finally {
      progress.textContent = "";
      words(summary, (n) => (n.textContent = t("onboarding_done", totals.created, totals.exists, totals.errors)));
    }
  });
  return el("div", {}, upload, summary, results);
}

// The file as parts the API takes in one request (at most LIMITS.csv_rows_per_request
// rows and LIMITS.csv_emails_per_request e-mails, counted as @ signs), each with the header
// and the file's line of its first record. A record ends where its quotes are balanced (a
// quoted cell may hold a line break); blank lines stay, so every part numbers lines as
// the file does.
export function csvParts(text) {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  while (lines.length && !lines.at(-1).trim()) lines.pop();
  const records = []; // { first: line number, text, emails, blank }
  let quotes = 0;
  lines.forEach((line, index) => {
    if (quotes % 2 === 0) records.push({ first: index + 1, lines: [] });
    const record = records.at(-1);
    record.lines.push(line);
    quotes += (line.match(/"/g) ?? []).length;
  });
  const [header, ...rows] = records;
  const parts = [];
  let part = null;
  for (const record of rows) {
    const blank = !record.lines.join("").trim();
    const emails = (record.lines.join("\n").match(/@/g) ?? []).length;
    const full = part && (part.rows + 1 > LIMITS.csv_rows_per_request || part.emails + emails > LIMITS.csv_emails_per_request);
    if (!blank && (!part || full)) {
      part = { first_line: record.first, lines: [...header.lines], rows: 0, emails: 0 };
      parts.push(part);
    }
    if (!part) continue; // blank lines before the first record
    part.lines.push(...record.lines);
    part.rows += blank ? 0 : 1;
    part.emails += emails;
  }
  return parts.map(({ lines: partLines, first_line, rows: count }) => ({ csv: partLines.join("\n"), first_line, rows: count }));
}

function rowItem(row) {
  return el("li", { "data-line": row.line, class: `row-${row.status}` },
    el("p", { class: "admin-item-title" },
      said("span", {}, () => `${t("row_line", row.line)} · `), row.store_id ?? "",
      said("span", { class: "admin-status" }, () => ` · ${t("row_status")[row.status] ?? row.status}`)),
    row.error ? el("p", { class: "error" }, String(row.error?.message ?? row.error)) : null,
    ...(row.staff ?? []).map((someone) =>
      said("p", { class: someone.error ? "error" : "meta" }, () =>
        [t("row_staff", someone.email, t("person_status", someone.status) ?? someone.status), someone.error]
          .filter(Boolean).join(" · "))));
}
