// The open store's data: its callback tasks by status, its survey (scale, reason labels),
// the form limits and its recovery figures, loaded by refresh(), one load at a time. The
// screens render from here; `changes` tells them what was loaded: "tasks", "survey",
// "figures".
import { timings } from "../common/page.js";
import { api, enc, handledGlobally } from "./api.js";
import { locale, text } from "./locale.js";
import { clearError, put, say, showError } from "./messages.js";
import { session } from "./session.js";
import { LIMITS } from "./strings.js";

const TIMING = timings({
  refresh: 15000, // list refresh period
  fresh: 120000, // how long a new task stays highlighted
});
export const STATUSES = ["open", "claimed", "resolved"];

export const changes = new EventTarget();
export let tab = "open"; // the status the list shows
export let lists = emptyLists(); // status -> tasks sorted by due_at; null until loaded
export let forbidden = false; // the last load was refused for this store (403)
let seen = null; // ids of the open and claimed tasks at the last refresh; null before the first
export const fresh = new Map(); // task id -> when it appeared (the "new" highlight)
export let survey = null; // the open store's survey (scale, reason labels), from the API
let surveyStore = null; // the store whose survey is loaded or loading
export let limits = null; // what staff may write (note length), from the API
export let figures = null; // the last recovery figures
let updatedAt = null; // when the list was last loaded
let refreshTimer = 0;
let refreshing = null;
let refreshAgain = false;

function emptyLists() {
  return { open: null, claimed: null, resolved: null };
}

const changed = (what) => changes.dispatchEvent(new Event(what));

// Another store (or none): nothing of the last one is kept.
export function forgetStore() {
  lists = emptyLists();
  forbidden = false;
  seen = null;
  fresh.clear();
  survey = null;
  surveyStore = null;
  figures = null;
}

export function chooseTab(status) {
  tab = status;
}

// A 403: this token may not see the store.
export function refuse() {
  forbidden = true;
  lists = emptyLists();
  showError(() => text("forbidden"), "load");
  changed("tasks");
}

export function startRefresh() {
  stopRefresh();
  refreshTimer = setInterval(refresh, TIMING.refresh);
}

export function stopRefresh() {
  clearInterval(refreshTimer);
  refreshTimer = 0;
}

// One load at a time; a refresh asked for during a load runs once it ends.
export function refresh() {
  if (!session.token || !session.store) return Promise.resolve();
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = load().finally(() => {
    refreshing = null;
    if (refreshAgain) {
      refreshAgain = false;
      refresh();
    }
  });
  return refreshing;
}

// The store's survey (its scale and reason labels) and the form limits, once per store; a
// failed load is tried again at the next refresh.
async function loadSurvey(store) {
  surveyStore = store;
  try {
    const [loaded, given] = await Promise.all([
      api(`/v1/stores/${enc(store)}/survey`),
      limits ?? api("/v1/callbacks/limits"),
    ]);
    limits = given;
    if (store !== session.store) return;
    survey = loaded;
  } catch (error) {
    if (store === session.store) surveyStore = null;
    if (!handledGlobally(error)) console.warn("survey not loaded:", error.message);
    return;
  }
  changed("survey");
}

async function load() {
  const store = session.store;
  // The list is shown once the survey is there too: its scores read on the store's scale.
  const surveyLoad = surveyStore === store ? null : loadSurvey(store);
  const statuses = new Set(["open", "claimed", tab]);
  let loaded;
  try {
    [loaded] = await Promise.all([
      Promise.all(
        [...statuses].map(async (status) => {
          const body = await api(`/v1/callbacks?store_id=${enc(store)}&status=${status}`);
          return [status, body.tasks];
        }),
      ),
      surveyLoad,
    ]);
  } catch (error) {
    if (store !== session.store) return;
    if (!handledGlobally(error)) {
      showError(error.status ? () => text("load_failed", error.message) : () => text("offline"), "load");
    }
    return;
  }
  if (store !== session.store) return; // the store changed during the load
  forbidden = false;
  clearError("load");
  for (const [status, tasks] of loaded) lists[status] = sortTasks(tasks);
  noticeNew();
  updatedAt = new Date();
  put("updated", () => text("updated_at", updatedAt.toLocaleTimeString(locale)));
  changed("tasks");
  await loadRecovery(store);
}

// A task id that was not in the previous refresh is highlighted for a while.
function noticeNew() {
  const now = Date.now();
  const open = lists.open ?? [];
  if (seen) {
    const added = open.filter((task) => !seen.has(task.task_id));
    for (const task of added) fresh.set(task.task_id, now);
    if (added.length) say(() => text("new_tasks", added.length));
  }
  for (const [id, since] of fresh) if (now - since > TIMING.fresh) fresh.delete(id);
  seen = new Set([...open, ...(lists.claimed ?? [])].map((task) => task.task_id));
}

async function loadRecovery(store) {
  try {
    const since = new Date(Date.now() - LIMITS.recovery_days * 86400000).toISOString().slice(0, 10);
    const loaded = await api(`/v1/stores/${enc(store)}/recovery?from=${since}`);
    if (store === session.store) {
      figures = loaded;
      changed("figures");
    }
  } catch (error) {
    if (!handledGlobally(error)) console.warn("recovery figures not loaded:", error.message);
  }
}

export function priorityOf(task) {
  if (Number.isFinite(task.priority)) return task.priority;
  const scores = (task.ratings ?? []).map((rating) => rating.score).filter(Number.isFinite);
  return scores.length ? Math.min(...scores) : null;
}

function sortTasks(tasks) {
  return [...tasks].sort(
    (a, b) => Date.parse(a.due_at) - Date.parse(b.due_at) || (priorityOf(a) ?? 99) - (priorityOf(b) ?? 99),
  );
}

// The open store's scale (null until its survey is loaded): a 0-10 store is asked 0 to 10.
export function storeScale() {
  return survey?.scale ?? null;
}

export function scaleLabel(score) {
  const scale = storeScale();
  if (!scale) return "";
  const labels = text("scale_labels");
  const level = (score - scale.min) / (scale.max - scale.min);
  return labels[Math.max(0, Math.min(labels.length - 1, Math.round(level * (labels.length - 1))))];
}

export function scoreText(score) {
  return text("score", score, storeScale()?.max);
}

// The survey's label in this language, else in English, else the reason's id.
export function reasonLabel(reason) {
  const labels = survey?.reason_labels ?? {};
  return labels[locale]?.[reason] ?? labels.en?.[reason] ?? reason;
}

export function noteMax() {
  return limits?.note_max_chars ?? null;
}
