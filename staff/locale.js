// The staff member's language, kept in this browser, and what is written in it: text(),
// times of day and spans of time.
import { translator } from "../common/page.js";
import { LOCALES, STRINGS } from "./strings.js";

export let locale = LOCALES.includes(localStorage.getItem("locale")) ? localStorage.getItem("locale") : "en";

export const text = translator(STRINGS, () => locale);

export function chooseLocale(code) {
  locale = code;
  localStorage.setItem("locale", code);
}

// A span of seconds in at most two units: "45 seconds", "3 hours 5 minutes", "2 days 1 hour".
export function duration(seconds) {
  const unit = (count, name) => text("time_unit", count, name);
  const two = (first, count, name) => (count ? first + text("time_join") + unit(count, name) : first);
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return unit(s, "second");
  const minutes = Math.floor(s / 60); // never says more time is left than there is
  if (minutes < 60) return unit(minutes, "minute");
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return two(unit(hours, "hour"), minutes % 60, "minute");
  const days = Math.floor(hours / 24);
  return two(unit(days, "day"), hours % 24, "hour");
}

// A moment as staff read it: the time alone today, the day too otherwise.
export function clock(iso) {
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return "";
  const sameDay = moment.toDateString() === new Date().toDateString();
  return moment.toLocaleString(locale, sameDay
    ? { hour: "2-digit", minute: "2-digit" }
    : { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}
