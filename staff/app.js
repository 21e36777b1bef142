// The storepulse staff page: sign in with a staff token, see a store's callback tasks by
// deadline, claim one, call the customer, record each call and how it went, see who did
// what; recovery figures beside. English or Chinese; the store's scale from its survey.
import { LOCALES, STRINGS } from "./strings.js";

const options = new URLSearchParams(location.search);
const TIMING = {
  refresh: Number(options.get("refresh")) || 15000, // list refresh period
  fresh: Number(options.get("fresh")) || 120000, // how long a new task stays highlighted
};
const SOON_MS = 2 * 3600 * 1000; // due within this: "due soon"
const STATUSES = ["open", "claimed", "resolved"];
const RECOVERY_DAYS = 30; // the recovery figures' period, named in its heading
const STORE_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;

const $ = (id) => document.getElementById(id);
// The language is the staff member's choice, kept in this browser.
let locale = LOCALES.includes(localStorage.getItem("locale")) ? localStorage.getItem("locale") : "en";
const text = (key, ...args) => {
  const value = STRINGS[locale][key] ?? STRINGS.en[key];
  return typeof value === "function" ? value(...args) : value;
};
const enc = encodeURIComponent;

const config = loadConfig();
let tab = "open";
let lists = emptyLists(); // status -> tasks sorted by due_at; null until loaded
let forbidden = false; // the last load was refused for this store (403)
let seen = null; // ids of the open and claimed tasks at the last refresh; null before the first
const fresh = new Map(); // task id -> when it appeared (the "new" highlight)
let detail = null; // the task in the call view: the only place the full number is kept
let survey = null; // the open store's survey (scale, reason labels), from the API
let surveyStore = null; // the store whose survey is loaded or loading
let limits = null; // what staff may write (note length), from the API
let figures = null; // the last recovery figures
let updatedAt = null; // when the list was last loaded
// What each message element says, kept as how to write it: a change of language rewrites it.
const messages = new Map();
let recovered = null; // the recovered score chosen in the resolve form
let errorSource = null; // what put the message in #error: "load" or "action"
let refreshTimer = 0;
let refreshing = null;
let refreshAgain = false;

// A `store` in the fragment opens that store; a `task` (the link in a notification) opens
// that task once signed in. Nothing else is taken from the URL: see apiAddress().
function loadConfig() {
  const given = new URLSearchParams(location.hash.slice(1));
  if (given.get("store")) sessionStorage.setItem("store", given.get("store"));
  if (given.get("task")) sessionStorage.setItem("task", given.get("task"));
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  localStorage.removeItem("api"); // an address an older version took from a link
  return { api: location.origin };
}

// The API address comes from the deployment: `/config.json` beside the pages (written at
// deploy, served by the local stack), else this page's own origin. Never from the URL, a
// notification or customer text: a page told where to send its token would give it away.
async function apiAddress() {
  try {
    const response = await fetch("../config.json", { cache: "no-cache" });
    const url = new URL((await response.json()).api_url);
    if (url.protocol === "https:" || url.protocol === "http:") return url.href.replace(/\/+$/, "");
  } catch {
    // no deploy-time file: the API is served from this origin
  }
  return location.origin;
}

// The token lives in sessionStorage: this tab only, gone when it closes.
const session = {
  get token() { return sessionStorage.getItem("token"); },
  get store() { return sessionStorage.getItem("store"); },
  get claims() { return tokenClaims(this.token); },
};

function emptyLists() {
  return { open: null, claimed: null, resolved: null };
}

// The JWT's payload, read without verifying it: the API checks the signature; the page only
// needs the role and stores to offer the right choices.
export function tokenClaims(token) {
  const parts = (token || "").split(".");
  if (parts.length !== 3) return null;
  try {
    const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    return claims && typeof claims === "object" && !Array.isArray(claims) ? claims : null;
  } catch {
    return null;
  }
}

function tokenProblem(token) {
  const claims = tokenClaims(token);
  if (!claims || !["staff", "admin"].includes(claims.role)) return "token_malformed";
  if (typeof claims.exp === "number" && claims.exp * 1000 <= Date.now()) return "token_expired";
  return null;
}

// ---- small DOM helpers ------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = [value].flat().filter(Boolean).join(" ");
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

function show(name, focus = true) {
  for (const screen of document.querySelectorAll(".screen")) screen.hidden = screen.id !== `screen-${name}`;
  if (focus) document.querySelector(`#screen-${name} h1`)?.focus();
}

// A message is a string or a function that writes it in the current language.
function put(id, message) {
  const write = typeof message === "function" ? message : () => message ?? "";
  messages.set(id, write);
  const value = write();
  if ($(id).textContent !== value) $(id).textContent = value;
  return value;
}

function say(message) {
  put("status", message);
}

function showError(message, source) {
  errorSource = source;
  put("error", message);
}

function clearError(source) {
  if (source === undefined || errorSource === source) {
    put("error", "");
    errorSource = null;
  }
}

function fieldError(input, output, message) {
  message = put(output, message);
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  if (message) input.focus();
}

// ---- time and figures -------------------------------------------------------------------

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

function clock(iso) {
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return "";
  const sameDay = moment.toDateString() === new Date().toDateString();
  return moment.toLocaleString(locale, sameDay
    ? { hour: "2-digit", minute: "2-digit" }
    : { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

function dueState(task, now = Date.now()) {
  const ms = Date.parse(task.due_at) - now;
  return { ms, overdue: ms < 0, soon: ms >= 0 && ms < SOON_MS };
}

function priorityOf(task) {
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
function storeScale() {
  return survey?.scale ?? null;
}

function scaleLabel(score) {
  const scale = storeScale();
  if (!scale) return "";
  const labels = text("scale_labels");
  const level = (score - scale.min) / (scale.max - scale.min);
  return labels[Math.max(0, Math.min(labels.length - 1, Math.round(level * (labels.length - 1))))];
}

function scoreText(score) {
  return text("score", score, storeScale()?.max);
}

// The survey's label in this language, else in English, else the reason's id.
function reasonLabel(reason) {
  const labels = survey?.reason_labels ?? {};
  return labels[locale]?.[reason] ?? labels.en?.[reason] ?? reason;
}

function noteMax() {
  return limits?.note_max_chars ?? null;
}

function formatPhone(phone) {
  const nanp = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(phone);
  return nanp ? `+1 ${nanp[1]} ${nanp[2]} ${nanp[3]}` : phone;
}

// What a customer typed, without bidi controls and zero-width characters and isolated from
// the text around it: nothing in it can reorder or hide what staff read ("4321 8765" stays
// so, and so does the number beside it).
const INVISIBLE = /[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g; // joiners stay (emoji)
function customerText(value) {
  return el("bdi", {}, String(value).replace(INVISIBLE, ""));
}

function who(task) {
  return task.contact?.name || task.contact?.phone_masked || text("anonymous");
}

// ---- API --------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(path, init = {}) {
  let response;
  try {
    response = await fetch(`${config.api}${path}`, {
      ...init,
      cache: "no-store",
      headers: {
        Authorization: `Bearer ${session.token}`,
        ...(init.body ? { "Content-Type": "application/json" } : {}),
      },
    });
  } catch {
    throw new ApiError(0, text("offline"));
  }
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw new ApiError(response.status, body?.error?.message || `HTTP ${response.status}`, body?.error?.code);
  }
  return body;
}

// The answers every call treats the same way; true when handled.
function handledGlobally(error) {
  if (error.status === 401) {
    signOut(() => text("signed_out_401"));
    return true;
  }
  if (error.status === 403) {
    forbidden = true;
    lists = emptyLists();
    showError(() => text("forbidden"), "load");
    renderTasks();
    return true;
  }
  return false;
}

// ---- sign in, store, sign out -----------------------------------------------------------

function route() {
  const token = session.token;
  if (!token || tokenProblem(token)) {
    if (token) sessionStorage.removeItem("token");
    const problem = token && tokenProblem(token);
    showSignIn(problem ? () => text(problem) : "");
    return;
  }
  const linked = sessionStorage.getItem("task");
  if (linked) return openLinkedTask(linked);
  const claims = session.claims;
  const stores = claims.role === "admin" ? [] : claims.stores ?? [];
  if (!session.store && stores.length === 1) sessionStorage.setItem("store", stores[0]);
  if (session.store) openStore();
  else showStorePicker();
}

// The task a notification links to, in its own store. A 401 signs out and keeps the link
// for after sign-in; any other refusal shows why, over the usual list.
async function openLinkedTask(id) {
  let task;
  try {
    task = await api(`/v1/callbacks/${enc(id)}`);
  } catch (error) {
    if (error.status === 401) return handledGlobally(error);
    sessionStorage.removeItem("task");
    route();
    showError(() => text("link_failed", error.message), "action");
    return;
  }
  sessionStorage.removeItem("task");
  sessionStorage.setItem("store", task.store_id);
  openStore();
  detail = task;
  renderDetail();
  show("task");
}

function showSignIn(message) {
  stopRefresh();
  $("session").hidden = true;
  put("signin-error", message);
  show("signin");
  if (message) $("token").focus();
}

function signIn(event) {
  event.preventDefault();
  const token = $("token").value.trim().replace(/^Bearer\s+/i, "");
  const problem = token ? tokenProblem(token) : "token_missing";
  if (problem) {
    fieldError($("token"), "signin-error", () => text(problem));
    return;
  }
  fieldError($("token"), "signin-error", "");
  $("token").value = "";
  sessionStorage.setItem("token", token);
  say("");
  route();
}

function signOut(message) {
  sessionStorage.removeItem("token");
  sessionStorage.removeItem("store");
  resetStore();
  closeDetail(false);
  clearError();
  say(message ? "" : () => text("signed_out"));
  showSignIn(message ?? "");
}

function showStorePicker() {
  stopRefresh();
  renderSession();
  const claims = session.claims;
  const admin = claims.role === "admin";
  put("store-text", () => text(admin ? "store_text_admin" : "store_text_staff"));
  $("store-form").hidden = !admin;
  $("store-choices").replaceChildren(
    ...(admin ? [] : claims.stores ?? []).map((store) =>
      el("li", {}, el("button", { type: "button", class: "secondary", "data-store": store }, store)),
    ),
  );
  show("store");
}

function chooseStore(store) {
  sessionStorage.setItem("store", store);
  openStore();
}

function submitStore(event) {
  event.preventDefault();
  const store = $("store-input").value.trim().toLowerCase();
  const problem = !store ? "store_missing" : STORE_ID.test(store) ? null : "store_invalid";
  fieldError($("store-input"), "store-error", problem && (() => text(problem)));
  if (!problem) chooseStore(store);
}

function resetStore() {
  lists = emptyLists();
  forbidden = false;
  seen = null;
  fresh.clear();
  survey = null;
  surveyStore = null;
  figures = null;
  $("task-list").replaceChildren();
  $("recovery-figures").replaceChildren();
  put("updated", "");
  renderScale();
}

function openStore() {
  resetStore();
  clearError();
  renderSession();
  renderTasks();
  renderRecovery(null);
  show("tasks");
  refresh();
  startRefresh();
}

function renderSession() {
  const claims = session.claims;
  const stores = claims?.stores ?? [];
  $("session").hidden = !claims;
  $("store-label").textContent = session.store ? text("store_label", session.store) : "";
  $("change-store").hidden = !(
    session.store && (claims?.role === "admin" || stores.length > 1 || (stores.length && !stores.includes(session.store)))
  );
}

// ---- the task list ----------------------------------------------------------------------

function startRefresh() {
  stopRefresh();
  refreshTimer = setInterval(refresh, TIMING.refresh);
}

function stopRefresh() {
  clearInterval(refreshTimer);
  refreshTimer = 0;
}

// One load at a time; a refresh asked for during a load runs once it ends.
function refresh() {
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
  renderScale();
  applyLimits();
  if (detail) renderDetailView();
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
  renderTasks();
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

function renderTasks() {
  for (const status of STATUSES) {
    const button = $(`tab-${status}`);
    const selected = status === tab;
    button.textContent = text("tab_count", text(`tab_${status}`), lists[status]?.length ?? null);
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
  }
  $("task-panel").setAttribute("aria-labelledby", `tab-${tab}`);
  const tasks = lists[tab];
  const empty = $("list-empty");
  empty.hidden = forbidden || (tasks !== null && tasks.length > 0);
  empty.textContent = tasks === null ? text("loading") : text(`empty_${tab}`);

  // Keep the keyboard where it was across a refresh.
  const focused = document.activeElement?.closest?.("#task-list [data-action]");
  const focusKey = focused && [focused.closest("[data-task-id]").dataset.taskId, focused.dataset.action];
  const now = Date.now();
  const cards = (forbidden ? [] : tasks ?? []).map((task, index) => taskCard(task, index, now));
  $("recovery").hidden = forbidden;
  // A refresh that changes nothing shown leaves the nodes alone (and the keyboard focus, and
  // a screen reader's place in the list).
  const list = $("task-list");
  if (cards.length === list.children.length && cards.every((card, i) => card.isEqualNode(list.children[i]))) return;
  list.replaceChildren(...cards);
  if (focusKey) {
    const again = [...$("task-list").querySelectorAll("[data-action]")].find(
      (node) => node.closest("[data-task-id]").dataset.taskId === focusKey[0] && node.dataset.action === focusKey[1],
    );
    (again ?? $("task-panel")).focus();
  }
}

function taskCard(task, index, now) {
  const due = dueState(task, now);
  const late = due.overdue && task.status !== "resolved";
  const isNew = task.status === "open" && fresh.has(task.task_id);
  const priority = priorityOf(task);
  const titleId = `task-${tab}-${index}`;
  return el(
    "li",
    { class: ["task", late && "overdue", isNew && "new"], "data-task-id": task.task_id, "data-status": task.status },
    el(
      "article",
      { "aria-labelledby": titleId },
      el(
        "div",
        { class: "task-head" },
        el("h3", { id: titleId }, task.contact?.name ? [customerText(task.contact.name), " "] : null,
          el("span", { class: ["masked", !task.contact?.name && "alone"] }, task.contact?.phone_masked ?? "")),
        el(
          "div",
          { class: "badges" },
          isNew && el("span", { class: "badge new-badge" }, text("new_badge")),
          priority !== null && el("span", { class: ["badge", "priority", storeScale() && priority <= storeScale().min && task.status !== "resolved" && "p1"], title: text("priority_hint") },
            text("priority", priority)),
        ),
      ),
      task.status === "resolved" ? outcomeLine(task) : dueLine(task, due),
      ratingsList(task.ratings ?? []),
      task.status === "claimed" && el("p", { class: "meta" }, claimedText(task)),
      actions(task),
    ),
  );
}

function dueLine(task, due) {
  const line = el("p", { class: ["due", due.overdue && "overdue", due.soon && "soon"] });
  if (due.overdue) line.append(el("strong", { class: "badge" }, text("overdue")), " ", text("overdue_by", duration(-due.ms / 1000)));
  else if (due.soon) line.append(el("strong", { class: "badge" }, text("due_soon")), " ", text("due_in", duration(due.ms / 1000)));
  else line.append(text("due_in", duration(due.ms / 1000)));
  line.append(" ", el("span", { class: "meta" }, `(${text("due_at", clock(task.due_at))})`));
  return line;
}

function outcomeLine(task) {
  const outcome = text("outcome_short")[task.outcome] ?? task.outcome ?? "";
  return el("p", { class: "due" }, `${text("outcome_label")}: `, el("strong", { "data-outcome": task.outcome }, outcome),
    task.claimed_by ? el("span", { class: "meta" }, ` · ${claimedText(task)}`) : null);
}

function claimedText(task) {
  return task.claimed_by === session.claims?.sub ? text("claimed_by_you") : text("claimed_by", task.claimed_by ?? "");
}

function ratingsList(ratings) {
  return el(
    "ul",
    { class: "ratings" },
    ratings.map((rating) =>
      el(
        "li",
        { "data-rating-id": rating.rating_id },
        el("p", {},
          el("span", { class: "score" }, `${text("score_label")} ${scoreText(rating.score)}`),
          scaleLabel(rating.score) ? text("score_feeling", scaleLabel(rating.score)) : " ",
          el("span", { class: "meta" },
            `· ${text("channel")[rating.channel] ?? rating.channel ?? ""} · ${text("rated_at", clock(rating.tapped_at))}`)),
        el("p", {}, `${text("reasons_label")}: `,
          rating.reasons?.length
            ? rating.reasons.flatMap((reason, i) => [
              i ? ", " : null,
              el("span", { class: "reason", "data-reason": reason }, reasonLabel(reason)),
            ])
            : text("no_reasons")),
        rating.comment ? el("p", { class: "comment" }, `${text("comment_label")}: “`, customerText(rating.comment), "”") : null,
      ),
    ),
  );
}

function actions(task) {
  const name = who(task);
  if (task.status === "open") {
    return el("div", { class: "actions" },
      el("button", { type: "button", class: "primary", "data-action": "claim", "aria-label": text("claim_for", name) }, text("claim")));
  }
  if (task.status === "claimed" && task.claimed_by === session.claims?.sub) {
    return el("div", { class: "actions" },
      el("button", { type: "button", class: "primary", "data-action": "open", "aria-label": text("open_task_for", name) }, text("open_task")));
  }
  return null;
}

function selectTab(status, focus = false) {
  tab = status;
  renderTasks();
  if (focus) $(`tab-${status}`).focus();
  refresh();
}

function tabKeys(event) {
  const index = STATUSES.indexOf(tab);
  const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: STATUSES.length - 1 }[event.key];
  if (next === undefined) return;
  event.preventDefault();
  selectTab(STATUSES[(next + STATUSES.length) % STATUSES.length], true);
}

async function listAction(event) {
  const button = event.target.closest("[data-action]");
  if (!button) return;
  const id = button.closest("[data-task-id]").dataset.taskId;
  clearError("action");
  say("");
  button.disabled = true;
  try {
    if (button.dataset.action === "claim") {
      await api(`/v1/callbacks/${enc(id)}/claim`, { method: "POST" });
      fresh.delete(id);
      say(() => text("claimed_message"));
    }
    await openTask(id);
    refresh();
  } catch (error) {
    if (handledGlobally(error)) return;
    // 409: someone else has it (or it moved on); the list shows what is true now.
    const message = error.message;
    showError(error.status === 409 ? () => text("conflict", message) : message, "action");
    button.disabled = false;
    refresh();
  }
}

// ---- the call view ----------------------------------------------------------------------

async function openTask(id) {
  detail = await api(`/v1/callbacks/${enc(id)}`);
  renderDetail();
  show("task");
}

// A task just opened: its view and an empty form.
function renderDetail() {
  renderDetailView();
  $("resolve-form").reset();
  for (const input of document.querySelectorAll("#resolve-form [aria-invalid]")) input.removeAttribute("aria-invalid");
  put("resolve-error", "");
  setRecovered(null);
  noteCount();
}

// The open task as it is now, in the current language; what is typed in the form stays.
function renderDetailView() {
  const task = detail;
  const phone = task.contact?.phone;
  $("task-title").replaceChildren(...text("task_title", customerText(who(task))));
  $("task-due").replaceWith(Object.assign(
    task.status === "resolved" ? outcomeLine(task) : dueLine(task, dueState(task)), { id: "task-due" }));
  const link = $("call-link");
  link.hidden = !phone;
  link.href = phone ? `tel:${phone}` : "#";
  link.replaceChildren(...(phone ? text("call_link", el("span", { class: "number" }, formatPhone(phone))) : []));
  $("attempts").hidden = !canRecordCall(task);
  $("task-ratings").replaceChildren(...ratingsList(task.ratings ?? []).children);
  const history = task.history ?? [];
  $("history-list").replaceChildren(...history.map(historyItem));
  $("history-empty").hidden = history.length > 0;
}

// The API's rule: the staff member who claimed the task, or an admin, until it is resolved.
function canRecordCall(task) {
  const claims = session.claims;
  if (task.status === "resolved" || !claims) return false;
  return claims.role === "admin" || (task.status === "claimed" && task.claimed_by === claims.sub);
}

// Who did it; nothing for what the system did itself (the task's creation).
function byText(subject) {
  if (subject === "system") return null;
  return subject === session.claims?.sub ? text("by_you") : text("by", subject);
}

function historyItem(event) {
  const detail = event.detail ?? {};
  const what = [text("event")[event.event] ?? event.event];
  if (event.event === "created" && detail.channel) what.push(text("channel")[detail.channel] ?? detail.channel);
  if (event.event === "attempt") what.push(text("attempt_result")[detail.result] ?? detail.result);
  if (event.event === "resolved") {
    what.push(text("outcome_short")[detail.outcome] ?? detail.outcome);
    if (Number.isFinite(detail.recovered_score)) what.push(text("satisfied_now", scoreText(detail.recovered_score)));
  }
  return el("li", { "data-event": event.event },
    el("time", { datetime: event.at }, clock(event.at)), " ",
    el("strong", {}, what.join(" · ")), " ",
    byText(event.by) && el("span", { class: "meta" }, byText(event.by)),
    // Notes are free text (and gone once the contact's retention has passed).
    detail.note ? el("p", { class: "note" }, `${text("note_shown")}: `, customerText(detail.note)) : null);
}

// The API records the same result from the same person within a minute once: so does the page.
const ATTEMPT_RETRY_MS = 60000;

async function recordAttempt(result) {
  if (!detail) return;
  const buttons = [...$("attempts").querySelectorAll("button")];
  for (const button of buttons) button.disabled = true;
  clearError("action");
  say("");
  try {
    const task = await api(`/v1/callbacks/${enc(detail.task_id)}/attempts`, {
      method: "POST",
      body: JSON.stringify({ result, note: null }),
    });
    const me = session.claims?.sub;
    const history = detail.history ?? [];
    const last = history.findLast((event) => event.event === "attempt");
    const retry = last && last.by === me && last.detail?.result === result && Date.now() - Date.parse(last.at) < ATTEMPT_RETRY_MS;
    const attempt = { at: new Date().toISOString(), by: me, event: "attempt", detail: { result, note: null } };
    detail = { ...detail, ...task, contact: detail.contact, history: retry ? history : [...history, attempt] };
    renderDetailView();
    say(() => text("attempt_saved", text("attempt_result")[result]));
  } catch (error) {
    if (!handledGlobally(error)) showError(() => text("attempt_failed", error.message), "action");
  } finally {
    for (const button of buttons) button.disabled = false;
  }
}

// Leaving the call view removes the number from the page.
function closeDetail(toList = true) {
  detail = null;
  const link = $("call-link");
  link.href = "#";
  link.textContent = "";
  $("task-ratings").replaceChildren();
  $("history-list").replaceChildren();
  $("resolve-form").reset();
  if (toList) {
    show("tasks", false);
    $("tasks-title").focus();
  }
}

function setRecovered(score) {
  recovered = score;
  for (const button of $("recovered").children) {
    button.setAttribute("aria-pressed", String(Number(button.dataset.score) === score));
  }
}

function noteCount() {
  $("note-count").textContent = text("note_count", $("note").value.length, noteMax());
}

async function resolve(event) {
  event.preventDefault();
  if (!detail) return;
  const checked = document.querySelector('#outcomes input[name="outcome"]:checked');
  const note = $("note").value.trim();
  const firstOutcome = document.querySelector('#outcomes input[name="outcome"]');
  firstOutcome.removeAttribute("aria-invalid");
  $("note").removeAttribute("aria-invalid");
  if (!checked) return fieldError(firstOutcome, "resolve-error", () => text("outcome_missing"));
  if (!note) return fieldError($("note"), "resolve-error", () => text("note_missing"));
  const max = noteMax();
  if (max && note.length > max) return fieldError($("note"), "resolve-error", () => text("note_too_long", max));
  put("resolve-error", "");
  const save = $("save");
  save.disabled = true;
  save.textContent = text("saving");
  try {
    const task = await api(`/v1/callbacks/${enc(detail.task_id)}/resolve`, {
      method: "POST",
      body: JSON.stringify({ outcome: checked.value, note, recovered_score: recovered }),
    });
    closeDetail();
    const outcome = task.outcome ?? checked.value;
    say(() => text("saved", text("outcome_short")[outcome]));
    refresh();
  } catch (error) {
    if (!handledGlobally(error)) put("resolve-error", () => text("save_failed", error.message));
  } finally {
    save.disabled = false;
    save.textContent = text("save");
  }
}

// ---- recovery figures -------------------------------------------------------------------

const FIGURES = [
  ["tasks", "count"], ["open", "count"], ["overdue", "count"], ["resolved", "count"],
  ["within_deadline_share", "share"], ["median_s", "seconds"], ["p90_s", "seconds"], ["recovery_rate", "share"],
];

async function loadRecovery(store) {
  try {
    const since = new Date(Date.now() - RECOVERY_DAYS * 86400000).toISOString().slice(0, 10);
    const loaded = await api(`/v1/stores/${enc(store)}/recovery?from=${since}`);
    if (store === session.store) renderRecovery(loaded);
  } catch (error) {
    if (!handledGlobally(error)) console.warn("recovery figures not loaded:", error.message);
  }
}

function renderRecovery(shown) {
  figures = shown;
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

// ---- start ------------------------------------------------------------------------------

function renderTexts() {
  document.documentElement.lang = locale;
  document.title = text("app_name");
  for (const node of document.querySelectorAll("[data-text]")) node.textContent = text(node.dataset.text);
  $("tabs").setAttribute("aria-label", text("tabs_label"));
  $("recovery-title").textContent = text("recovery_title", RECOVERY_DAYS);
  $("languages").setAttribute("aria-label", text("languages_label"));
  $("languages").replaceChildren(
    ...LOCALES.map((code) =>
      el("button", { type: "button", class: "secondary small", lang: code, "data-locale": code, "aria-pressed": String(code === locale) },
        STRINGS[code].language_name),
    ),
  );
  renderOutcomes();
  renderScale();
  noteCount();
}

// The outcome choices in this language, keeping the one chosen.
function renderOutcomes() {
  const chosen = document.querySelector('#outcomes input[name="outcome"]:checked')?.value;
  for (const label of $("outcomes").querySelectorAll("label")) label.remove();
  $("outcomes").append(
    ...Object.entries(text("outcomes")).map(([value, label]) => {
      const input = el("input", { type: "radio", name: "outcome", value, required: true });
      input.checked = value === chosen;
      return el("label", {}, input, label);
    }),
  );
}

// The recovered-score buttons: the open store's scale, once its survey is loaded.
function renderScale() {
  const scale = storeScale();
  if (!scale || recovered < scale.min || recovered > scale.max) recovered = null;
  $("recovered").replaceChildren(
    ...(scale ? Array.from({ length: scale.max - scale.min + 1 }, (_, i) => {
      const score = scale.min + i;
      return el("button", {
        type: "button", "data-score": score, "aria-pressed": String(score === recovered),
        "aria-label": text("recovered_button", score, scale.max, scaleLabel(score)),
      }, String(score));
    }) : []),
  );
  $("scale-low").textContent = scale ? `${scale.min} = ${scaleLabel(scale.min)}` : text("recovered_loading");
  $("scale-high").textContent = scale ? `${scale.max} = ${scaleLabel(scale.max)}` : "";
}

function applyLimits() {
  if (noteMax()) $("note").maxLength = noteMax();
  noteCount();
}

function setLocale(code) {
  if (!LOCALES.includes(code) || code === locale) return;
  locale = code;
  localStorage.setItem("locale", code);
  renderTexts();
  renderSession();
  renderTasks();
  if (session.store && !forbidden) renderRecovery(figures);
  if (detail) renderDetailView();
  for (const [id, write] of messages) $(id).textContent = write();
}

function wire() {
  $("signin-form").addEventListener("submit", signIn);
  $("store-form").addEventListener("submit", submitStore);
  $("store-choices").addEventListener("click", (event) => {
    const button = event.target.closest("[data-store]");
    if (button) chooseStore(button.dataset.store);
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("change-store").addEventListener("click", () => {
    sessionStorage.removeItem("store");
    closeDetail(false);
    resetStore();
    clearError();
    say("");
    showStorePicker();
  });
  $("refresh").addEventListener("click", refresh);
  $("tabs").addEventListener("click", (event) => {
    const button = event.target.closest("[role=tab]");
    if (button) selectTab(button.dataset.status);
  });
  $("tabs").addEventListener("keydown", tabKeys);
  $("task-list").addEventListener("click", listAction);
  $("back").addEventListener("click", () => {
    closeDetail();
    refresh();
  });
  $("resolve-form").addEventListener("submit", resolve);
  $("note").addEventListener("input", noteCount);
  // A message about a field goes as soon as the field is changed.
  $("resolve-form").addEventListener("input", (event) => {
    if (!event.target.hasAttribute("aria-invalid")) return;
    for (const input of $("resolve-form").querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    $("resolve-error").textContent = "";
  });
  $("languages").addEventListener("click", (event) => {
    const button = event.target.closest("[data-locale]");
    if (button) setLocale(button.dataset.locale);
  });
  $("attempts").addEventListener("click", (event) => {
    const button = event.target.closest("[data-result]");
    if (button) recordAttempt(button.dataset.result);
  });
  $("recovered").addEventListener("click", (event) => {
    const button = event.target.closest("[data-score]");
    if (button) setRecovered(Number(button.dataset.score) === recovered ? null : Number(button.dataset.score));
  });
  window.addEventListener("focus", () => refresh());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refresh();
  });
}

renderTexts();
wire();
config.api = await apiAddress();
route();
