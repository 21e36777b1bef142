// Signing in, choosing a store, signing out. The token is checked for its shape and expiry
// here; the API decides what it may do.
import { $, el, showScreen, takeFragment } from "../common/page.js";
import { api, enc, handledGlobally } from "./api.js";
import { closeDetail, renderScale, showTask } from "./call_view.js";
import { text } from "./locale.js";
import { clearError, fieldError, put, say, showError } from "./messages.js";
import { forgetStore, refresh, startRefresh, stopRefresh } from "./open_store.js";
import { renderRecovery } from "./recovery.js";
import { session, tokenProblem } from "./session.js";
import { LIMITS } from "./strings.js";
import { renderTasks } from "./tasks.js";

// A `store` in the fragment opens that store; a `task` (the link in a notification) opens
// that task once signed in. Nothing else is taken from the URL: see apiAddress().
export function takeLink() {
  const given = takeFragment();
  if (given.get("store")) sessionStorage.setItem("store", given.get("store"));
  if (given.get("task")) sessionStorage.setItem("task", given.get("task"));
}

// Where the page goes now: sign-in, a linked task, the store or the store choice.
export function route() {
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
  showTask(task);
}

function showSignIn(message) {
  stopRefresh();
  $("session").hidden = true;
  put("signin-error", message);
  showScreen("signin", true);
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

export function signOut(message) {
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
  showScreen("store", true);
}

function chooseStore(store) {
  sessionStorage.setItem("store", store);
  openStore();
}

function submitStore(event) {
  event.preventDefault();
  const store = $("store-input").value.trim().toLowerCase();
  const problem = !store ? "store_missing" : LIMITS.store_id.test(store) ? null : "store_invalid";
  fieldError($("store-input"), "store-error", problem && (() => text(problem)));
  if (!problem) chooseStore(store);
}

function resetStore() {
  forgetStore();
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
  renderRecovery();
  showScreen("tasks", true);
  refresh();
  startRefresh();
}

export function renderSession() {
  const claims = session.claims;
  const stores = claims?.stores ?? [];
  $("session").hidden = !claims;
  $("store-label").textContent = session.store ? text("store_label", session.store) : "";
  $("change-store").hidden = !(
    session.store && (claims?.role === "admin" || stores.length > 1 || (stores.length && !stores.includes(session.store)))
  );
}

// Another store: back to the choice, with nothing of this one kept on the page.
function changeStore() {
  sessionStorage.removeItem("store");
  closeDetail(false);
  resetStore();
  clearError();
  say("");
  showStorePicker();
}

export function wire() {
  $("signin-form").addEventListener("submit", signIn);
  $("store-form").addEventListener("submit", submitStore);
  $("store-choices").addEventListener("click", (event) => {
    const button = event.target.closest("[data-store]");
    if (button) chooseStore(button.dataset.store);
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("change-store").addEventListener("click", changeStore);
}
