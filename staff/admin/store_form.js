// A store's fields as the admin types them (a new store, or an existing one's details):
// id (new stores only), name, time zone, country, region, opening hours; read back into the
// API's shape with the page's own checks (the API checks again).
import { el } from "../../common/page.js";
import { locale } from "../locale.js";
import { field, label, showError, tx, words } from "./forms.js";
import { LIMITS, t } from "./strings.js";

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]; // the API's opening_hours keys

// The time zones the browser knows, offered as a list (any IANA name is typed the same way).
function timezoneList() {
  const known = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return el("datalist", { id: "admin-timezones" }, ...["UTC", ...known].map((zone) => el("option", { value: zone })));
}

function dayName(day) {
  // 1 January 2024 was a Monday.
  return new Date(Date.UTC(2024, 0, 1 + WEEKDAYS.indexOf(day))).toLocaleDateString(locale, { weekday: "long", timeZone: "UTC" });
}

// `store`: null for a new store. A manager creates stores in their own region and cannot
// move one to another region; an admin types any region.
export function storeFields(store, person) {
  const manager = person.role === "manager";
  const fields = [];
  if (!store) fields.push(field("store_id", "store_id_label", { hint: "store_id_hint", required: true, autocapitalize: "off", maxlength: LIMITS.chars.store_id }));
  fields.push(
    field("name", "name_label", { required: true, maxlength: LIMITS.chars.store_name, value: store?.name ?? "" }),
    field("timezone", "timezone_label", { hint: "timezone_hint", list: "admin-timezones", required: true, value: store?.timezone ?? "" }),
    timezoneList(),
    field("country", "country_label", { hint: "country_hint", required: true, maxlength: 2, autocapitalize: "characters", value: store?.country ?? "" }),
  );
  if (manager && store) {
    fields.push(field("region", "region_label", { hint: "region_fixed", value: store.region ?? "", readonly: true }));
  } else if (manager) {
    const select = el("select", { required: true }, ...person.regions.map((region) => el("option", { value: region }, region)));
    fields.push(field("region", "region_label", { control: select }));
  } else {
    fields.push(field("region", "region_label", { hint: "region_hint", autocapitalize: "off", value: store?.region ?? "" }));
  }
  fields.push(hoursFieldset(store?.opening_hours ?? null));
  return fields;
}

function hoursFieldset(hours) {
  const rows = WEEKDAYS.map((day) => {
    const [opens, closes] = hours?.[day] ?? ["", ""];
    const hour = (name, value, key) => {
      const input = el("input", { type: "number", min: 0, max: 24, step: 1, inputmode: "numeric", name: `opening_hours.${day}.${name}`, value });
      return label(input, "aria-label", () => t(key, dayName(day)));
    };
    return el("div", { class: "admin-hours-row" },
      words(el("span", { class: "admin-day" }), (node) => (node.textContent = dayName(day))),
      hour("opens", opens, "opens"),
      el("span", { "aria-hidden": "true" }, "–"),
      hour("closes", closes, "closes"));
  });
  return el("fieldset", { class: "admin-hours" },
    tx("legend", {}, "hours_legend"),
    tx("p", { class: "hint" }, "hours_hint"),
    ...rows,
    el("p", { class: "error", "data-error-for": "opening_hours" }));
}

// The store's fields in the API's shape, or null (each problem shown by its field).
// `store` given: only what may change (no id; a manager's region stays).
export function readStore(form, store, person) {
  const value = (name) => form.elements[name]?.value.trim() ?? "";
  const fields = {
    name: value("name"),
    timezone: value("timezone"),
    country: value("country").toUpperCase(),
    opening_hours: readHours(form),
  };
  const problems = [];
  if (!store) {
    fields.store_id = value("store_id").toLowerCase();
    if (!LIMITS.store_id.test(fields.store_id)) problems.push(["store_id", "store_id_invalid"]);
  }
  if (!fields.name) problems.push(["name", "name_missing"]);
  if (!validTimezone(fields.timezone)) problems.push(["timezone", "timezone_invalid"]);
  if (!LIMITS.country.test(fields.country)) problems.push(["country", "country_invalid"]);
  if (!(store && person.role === "manager")) {
    fields.region = value("region").toLowerCase() || null;
    if (fields.region && !LIMITS.region.test(fields.region)) problems.push(["region", "region_invalid"]);
  }
  if (fields.opening_hours === undefined) problems.push(["opening_hours", "hours_invalid"]);
  for (const [name, key] of problems) showError(form, name, key);
  return problems.length ? null : fields;
}

function validTimezone(zone) {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return Boolean(zone);
  } catch {
    return false;
  }
}

// {"mon": [opens, closes], ...} of the days filled in, null when none is; undefined when a day
// is half filled or closes before it opens.
function readHours(form) {
  const hours = {};
  for (const day of WEEKDAYS) {
    const opens = form.elements[`opening_hours.${day}.opens`].value;
    const closes = form.elements[`opening_hours.${day}.closes`].value;
    if (opens === "" && closes === "") continue;
    const [o, c] = [Number(opens), Number(closes)];
    if (opens === "" || closes === "" || !Number.isInteger(o) || !Number.isInteger(c) || o < 0 || c > 24 || o >= c) return undefined;
    hours[day] = [o, c];
  }
  return Object.keys(hours).length ? hours : null;
}
