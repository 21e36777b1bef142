// The dashboard (#screen-dashboard, opened from the task list): the open store's satisfaction
// over a period picked in the store's time zone, against the period before and its region.
// One trend chart (uPlot, staff/vendor/uplot/, loaded on first use); the rest are tables with
// <meter> bars, so every number is readable as text; the table view lists each bucket.
// Downloads join the CSV export's pages (Link: rel="next") into one file with one header.
import { $, el, showScreen, translator } from "../../common/page.js";
import { api, enc, request } from "../api.js";
import { locale } from "../locale.js";
import { reasonLabel } from "../open_store.js";
import { session } from "../session.js";
import { STRINGS } from "./strings.js";

const t = translator(STRINGS, () => locale);
const ENOUGH = 30; // the API's `enough` minimum (docs/api.md)
const HEAT_DAYS = 31; // the API gives at most 31 days of hour buckets
const DAY = 86400000;
const UNIT = { hour: 3600000, day: DAY, week: 7 * DAY };
let shown = null; // {store, info, survey, range, figures, hours, area}

const localToday = (zone) => new Intl.DateTimeFormat("en-CA", { timeZone: zone }).format(new Date());
const addDays = (date, days) => new Date(Date.parse(date) + days * DAY).toISOString().slice(0, 10);
const isNps = () => shown.survey.scale.min === 0 && shown.survey.scale.max === 10;
// A bucket's headline figure: NPS on 0-10 surveys, else CSAT in percent.
const figure = (b) => (isNps() ? b.nps : b.csat === null ? null : Math.round(b.csat * 1000) / 10);
const pct = (part, whole) => (whole ? `${Math.round((100 * part) / whole)}%` : "");
const fixed = (value) => (value === null || value === undefined ? "–" : String(Math.round(value * 10) / 10));

// Counts of buckets summed: the figure weighted by answers, reasons, expectation, channels, kiosks.
function total(buckets) {
  const sum = { responses: 0, weighted: 0, reasons: {}, expectation: {}, channels: {}, kiosks: {} };
  const add = (into, counts) => Object.entries(counts ?? {}).forEach(([k, n]) => (into[k] = (into[k] ?? 0) + n));
  const mix = (into, parts) => Object.entries(parts ?? {}).forEach(([k, p]) => {
    const m = (into[k] ??= { responses: 0, sum: 0 });
    m.responses += p.responses;
    m.sum += (p.mean ?? 0) * p.responses;
  });
  for (const b of buckets) {
    sum.responses += b.responses;
    sum.weighted += (figure(b) ?? 0) * b.responses;
    add(sum.reasons, b.reasons);
    add(sum.expectation, b.expectation);
    mix(sum.channels, b.channels);
    mix(sum.kiosks, b.kiosks);
  }
  sum.value = sum.responses ? sum.weighted / sum.responses : null;
  return sum;
}

async function open() {
  const store = session.store;
  if (!store) return;
  showScreen("dashboard", true);
  if (shown?.store !== store) {
    shown = null;
    $("dash-body").replaceChildren();
    try {
      const [info, survey] = await Promise.all([api(`/v1/stores/${enc(store)}`), api(`/v1/stores/${enc(store)}/survey`)]);
      const to = localToday(info.timezone);
      shown = { store, info, survey, range: { from: addDays(to, -27), to, g: "day" } };
    } catch (error) {
      return say(t("failed", error.message));
    }
  }
  render();
  load();
}

async function load() {
  const { store, info, range } = shown;
  const period = `from=${range.from}&to=${range.to}`;
  const heatFrom = [range.from, addDays(range.to, 1 - HEAT_DAYS)].sort()[1];
  const region = info.region && session.claims?.role !== "staff" ? info.region : null;
  say(t("loading"));
  try {
    [shown.figures, shown.hours, shown.area] = await Promise.all([
      api(`/v1/stores/${enc(store)}/satisfaction?granularity=${range.g}&${period}`),
      api(`/v1/stores/${enc(store)}/satisfaction?granularity=hour&from=${heatFrom}&to=${range.to}`),
      // The region is a comparison: the store's own figures show without it.
      region && api(`/v1/satisfaction?region=${enc(region)}&granularity=${range.g}&${period}`).catch(() => null),
    ]);
    shown.heatDays = Math.round((Date.parse(range.to) - Date.parse(heatFrom)) / DAY) + 1;
  } catch (error) {
    return say(t("failed", error.message));
  }
  say("");
  render();
}

function say(message) {
  $("dash-status").textContent = message;
}

// The whole screen from what was loaded (again at each change of language).
function render() {
  $("dash-back").textContent = t("back");
  renderButton();
  if (!shown) return;
  $("dash-title").textContent = t("title", shown.info.name ?? shown.store);
  $("dash-range").replaceChildren(...rangeFields());
  if (!shown.figures) return;
  const now = total(shown.figures.buckets);
  const before = total(shown.figures.previous);
  const name = t(isNps() ? "nps" : "csat");
  $("dash-body").replaceChildren(
    el("p", { id: "dash-headline", class: "figures" },
      `${name}: ${fixed(now.value)} (${t("n", now.responses)}) · ${t("before")}: ${fixed(before.value)} (${t("n", before.responses)})`),
    card("trend", t("trend", name), el("div", { id: "dash-trend" }), el("p", { class: "hint" }, t("few", ENOUGH))),
    card("heat", t("heat", shown.heatDays), heatMap()),
    bars("reasons", t("reasons"), Object.entries(now.reasons).sort((a, b) => b[1] - a[1])
      .map(([k, n]) => [k, reasonLabel(k), n, now.responses, trend(n - (before.reasons[k] ?? 0))])),
    bars("expectation", t("expectation"), ["worse", "as_expected", "better"].map((k) => {
      const n = now.expectation[k] ?? 0;
      return [k, t("exp")[k], n, now.responses, pct(n, Object.values(now.expectation).reduce((a, b) => a + b, 0))];
    })),
    bars("channels", t("channels"), ["kiosk", "sms", "link"].map((k) => part(k, t("ch")[k], now.channels[k], now))),
    bars("kiosks", t("kiosks"), Object.keys(now.kiosks).sort().map((k) => part(k, k, now.kiosks[k], now))),
    shown.area && region(now),
    tableView(),
    el("p", { class: "actions" },
      el("button", { type: "button", class: "secondary", "data-csv": "ratings" }, t("ratings_csv")),
      el("button", { type: "button", class: "secondary", "data-csv": "satisfaction" }, t("buckets_csv"))),
  );
  drawTrend(name);
}

function rangeFields() {
  const { range, info } = shown;
  const input = (key, value) => [el("label", { for: `dash-${key}` }, t(key)),
    el("input", { id: `dash-${key}`, name: key, type: "date", value, required: true })];
  return [
    ...input("from", range.from), ...input("to", range.to),
    el("label", { for: "dash-g" }, t("granularity")),
    el("select", { id: "dash-g", name: "g" },
      ...["hour", "day", "week"].map((g) => el("option", { value: g, selected: g === range.g }, t("g")[g]))),
    el("button", { type: "submit", class: "primary small" }, t("show")),
    el("p", { class: "hint" }, t("zone", info.timezone)),
  ];
}

function card(key, title, ...children) {
  return el("section", { class: "card", "data-chart": key }, el("h2", {}, title), ...children);
}

const trend = (change) => (change > 0 ? `▲ ${change}` : change < 0 ? `▼ ${-change}` : "=");

function part(key, label, counts, whole) {
  const n = counts?.responses ?? 0;
  return [key, label, n, whole.responses, `${t("mean")} ${fixed(n ? counts.sum / n : null)}`];
}

// Rows of [key, label, count, of, note]: the count as text and as a bar.
function bars(key, title, rows) {
  if (!rows.length) return null;
  return card(key, title, el("table", { class: "bars" }, ...rows.map(([k, label, n, of, note]) =>
    el("tr", { "data-key": k, "data-value": n },
      el("th", { scope: "row" }, label),
      el("td", {}, el("meter", { min: 0, max: Math.max(of, 1), value: n })),
      el("td", {}, String(n)), el("td", {}, note)))));
}

// Weekday (Monday first) by hour, from the hour buckets' local start ("2026-11-02T09:00:00-08:00").
function heatMap() {
  const cells = {};
  for (const b of shown.hours.buckets) {
    const day = (new Date(`${b.start.slice(0, 10)}T00:00Z`).getUTCDay() + 6) % 7;
    const c = (cells[`${day}-${Number(b.start.slice(11, 13))}`] ??= { n: 0, sum: 0 });
    c.n += b.responses;
    c.sum += (figure(b) ?? 0) * b.responses;
  }
  const hours = [...Array(24).keys()];
  return el("table", { id: "dash-heat", class: "heat" },
    el("tr", {}, el("th", {}), ...hours.map((h) => el("th", { scope: "col" }, String(h)))),
    ...t("days").map((name, day) => el("tr", {}, el("th", { scope: "row" }, name), ...hours.map((h) => {
      const c = cells[`${day}-${h}`];
      const value = c?.n ? Math.round(c.sum / c.n) : null;
      const level = value === null ? "none" : Math.min(4, Math.floor(((isNps() ? (value + 100) / 2 : value)) / 20));
      return el("td", { class: `h${level}`, "data-cell": `${day}-${h}`, "data-value": value, "data-responses": c?.n ?? 0,
        title: c ? t("n", c.n) : "" }, value === null ? "" : String(value));
    }))));
}

function region(now) {
  const { area, store } = shown;
  const all = total(area.total.buckets);
  const ranked = area.stores.map((s) => ({ id: s.store_id, ...total(s.buckets) }))
    .sort((a, b) => (b.value ?? -1e9) - (a.value ?? -1e9));
  const row = (id, label, sum, mine) => el("tr", { "data-key": id, "data-value": sum.value, class: mine && "this" },
    el("th", { scope: "row" }, label), el("td", {}, fixed(sum.value)), el("td", {}, t("n", sum.responses)));
  return card("region", t("region", shown.info.region),
    el("table", { class: "bars" }, row(store, store, now, true), row("total", t("region_total"), all)),
    el("h3", {}, t("rank")),
    el("table", { id: "dash-rank", class: "bars" }, ...ranked.map((s) => row(s.id, s.id, s, s.id === store))));
}

function tableView() {
  const rows = shown.figures.buckets.map((b) => el("tr", { "data-start": b.start },
    el("td", {}, b.start.slice(0, 16).replace("T", " ")), el("td", {}, String(b.responses)),
    el("td", {}, fixed(figure(b))),
    el("td", {}, b.csat_interval ? b.csat_interval.map((v) => Math.round(v * 100)).join("–") : "–"),
    el("td", {}, b.enough ? "" : t("enough_no"))));
  return el("details", { id: "dash-table", class: "card" }, el("summary", {}, t("table")),
    rows.length ? el("table", {},
      el("tr", {}, ...[t("start"), t("responses"), t(isNps() ? "nps" : "csat"), t("interval"), ""].map((h) => el("th", {}, h))),
      ...rows) : el("p", {}, t("none")));
}

async function drawTrend(name) {
  await uplot();
  const { figures, range } = shown;
  const unit = UNIT[range.g];
  const span = Date.parse(range.to) + DAY - Date.parse(range.from);
  const at = new Map(); // bucket position -> [now, before, low, high, too few]
  const slot = (b, shift) => {
    const key = Math.round((Date.parse(b.start) + shift) / unit);
    if (!at.has(key)) at.set(key, [null, null, null, null, null]);
    return at.get(key);
  };
  for (const b of figures.buckets) {
    const s = slot(b, 0);
    s[0] = figure(b);
    if (!isNps() && b.csat_interval) [s[2], s[3]] = b.csat_interval.map((v) => Math.round(v * 1000) / 10);
    if (!b.enough) s[4] = s[0];
  }
  for (const b of figures.previous) slot(b, span)[1] = figure(b);
  const keys = [...at.keys()].sort((a, b) => a - b);
  const data = [keys.map((k) => (k * unit) / 1000), ...[0, 1, 2, 3, 4].map((i) => keys.map((k) => at.get(k)[i]))];
  const node = $("dash-trend");
  if (!node) return;
  node.replaceChildren();
  const line = (label, stroke, extra = {}) => ({ label, stroke, width: 2, spanGaps: true, ...extra });
  node.chart = new window.uPlot({
    width: Math.max(300, node.clientWidth || 600), height: 260,
    scales: { y: { range: isNps() ? [-100, 100] : [0, 100] } },
    series: [{}, line(t("now"), "#1f5fbf"), line(t("before"), "#999", { dash: [6, 4] }),
      line(`${t("interval")} −`, "#9bb8e6", { width: 1 }), line(`${t("interval")} +`, "#9bb8e6", { width: 1 }),
      { label: t("enough_no"), stroke: "#c43", paths: () => null, points: { show: true, size: 9 } }],
    bands: [{ series: [4, 3], fill: "rgba(31,95,191,.12)" }],
  }, data, node);
  node.dataset.figure = name;
}

let loading = null;
function uplot() {
  if (window.uPlot) return Promise.resolve();
  loading ??= new Promise((resolve, reject) => {
    document.head.append(el("link", { rel: "stylesheet", href: "vendor/uplot/uPlot.min.css" }));
    const script = el("script", { src: "vendor/uplot/uPlot.iife.min.js" });
    script.onload = resolve;
    script.onerror = reject;
    document.head.append(script);
  });
  return loading;
}

async function download(kind) {
  const { store, range } = shown;
  const extra = kind === "satisfaction" ? `&granularity=${range.g}` : "";
  let next = `/v1/stores/${enc(store)}/${kind}.csv?from=${range.from}&to=${range.to}${extra}`;
  const parts = [];
  try {
    while (next) {
      const response = await request(next);
      const body = await response.text(); // the decoder drops each page's BOM
      parts.push(parts.length ? body.slice(body.indexOf("\n") + 1) : body); // one header
      say(t("downloading", parts.join("").split("\n").length - 2));
      next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(response.headers.get("Link") ?? "")?.[1];
    }
  } catch (error) {
    return say(t("failed", error.message));
  }
  const url = URL.createObjectURL(new Blob(["\ufeff", ...parts], { type: "text/csv;charset=utf-8" }));
  el("a", { href: url, download: `${store}-${kind}-${range.from}-${range.to}.csv` }).click();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  say("");
}

function renderButton() {
  $("dashboard-open").textContent = t("open");
}

export function wire() {
  $("dashboard-open").addEventListener("click", open);
  $("dash-back").addEventListener("click", () => showScreen("tasks", true));
  $("dash-range").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    shown.range = { from: form.get("from"), to: form.get("to"), g: form.get("g") };
    load();
  });
  $("dash-body").addEventListener("click", (event) => {
    const button = event.target.closest("[data-csv]");
    if (button) download(button.dataset.csv);
  });
  // languages.js writes <html lang> at each change of language: the words follow.
  new MutationObserver(render).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  renderButton();
}
