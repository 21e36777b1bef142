// Signing in, choosing a store, signing out. Staff sign in with their e-mail and password
// through the user pool (cognito.js; a first sign-in sets their own password); a developer
// token is offered instead when the deployment names no pool, and beside it on the local
// stack. A token is checked for its shape and expiry here; the API decides what it may do.
import { $, el, showScreen, takeFragment } from "../common/page.js";
import { api, apiIsLocal, enc, handledGlobally } from "./api.js";
import { closeDetail, renderScale, showTask } from "./call_view.js";
import * as cognito from "./cognito.js";
import { text } from "./locale.js";
import { clearError, fieldError, put, say, showError } from "./messages.js";
import { forgetStore, refresh, startRefresh, stopRefresh } from "./open_store.js";
import { renderRecovery } from "./recovery.js";
import {
  endSession, forgetTokens, keepToken, onSessionEnded, poolTokenExpired, renew, scheduleRenewal, session,
  startSession, tokenProblem,
} from "./session.js";
import { LIMITS } from "./strings.js";
import { renderTasks } from "./tasks.js";

let pool = null; // the deployment's user pool (cognito.configuredPool), read by route()
let challenge = null; // a first sign-in's NEW_PASSWORD_REQUIRED, while its form is shown
let stores = null; // the stores GET /v1/stores listed for this person (managers, admins)

// A `store` in the fragment opens that store; a `task` (the link in a notification) opens
// that task once signed in. Nothing else is taken from the URL: see apiAddress().
export function takeLink() {
  const given = takeFragment();
  if (given.get("store")) sessionStorage.setItem("store", given.get("store"));
  if (given.get("task")) sessionStorage.setItem("task", given.get("task"));
}

// Where the page goes now: sign-in, a linked task, the store or the store choice. A pool
// session whose ID token expired while the tab slept is renewed first.
export async function route() {
  pool = await cognito.configuredPool();
  if (poolTokenExpired() && !(await renew())) {
    if (session.token) signOut(() => text("signin_unreachable")); // a refusal has signed out already
    return;
  }
  const token = session.token;
  const problem = token && tokenProblem(token, !session.renewable);
  if (!token || problem) {
    forgetTokens();
    showSignIn(problem ? () => text(problem) : "", "token");
    return;
  }
  scheduleRenewal();
  const linked = sessionStorage.getItem("task");
  if (linked) return openLinkedTask(linked);
  const claims = session.claims;
  const mine = claims.role === "staff" ? claims.stores ?? [] : [];
  if (!session.store && mine.length === 1) sessionStorage.setItem("store", mine[0]);
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
    await route();
    showError(() => text("link_failed", error.message), "action");
    return;
  }
  sessionStorage.removeItem("task");
  sessionStorage.setItem("store", task.store_id);
  openStore();
  showTask(task);
}

// The sign-in screen: the pool's e-mail and password form, the developer-token form
// (alone without a pool, folded beside it on the local stack), and `message` by the form
// it is about ("password" or "token").
function showSignIn(message, about) {
  stopRefresh();
  challenge = null;
  $("session").hidden = true;
  $("password-form").hidden = !pool;
  $("new-password-form").hidden = true;
  $("token-signin").hidden = Boolean(pool) && !apiIsLocal();
  if (!pool) $("token-signin").open = true;
  const onToken = !pool || (about === "token" && !$("token-signin").hidden);
  if (onToken && pool && message) $("token-signin").open = true;
  put(onToken ? "signin-error" : "password-error", message);
  put(onToken ? "password-error" : "signin-error", "");
  showScreen("signin", true);
  if (message) $(onToken ? "token" : "email").focus();
}

function signInWithToken(event) {
  event.preventDefault();
  const token = $("token").value.trim().replace(/^Bearer\s+/i, "");
  const problem = token ? tokenProblem(token) : "token_missing";
  if (problem) {
    fieldError($("token"), "signin-error", () => text(problem));
    return;
  }
  fieldError($("token"), "signin-error", "");
  $("token").value = "";
  keepToken(token);
  say("");
  route();
}

// A form's call to Cognito: its button disabled and "Signing in…" said until the answer.
async function whileBusy(form, work) {
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  say(() => text("signing_in"));
  try {
    await work();
  } finally {
    button.disabled = false;
    if ($("status").textContent === text("signing_in")) say("");
  }
}

// Cognito's refusal as the page says it: the password policy's own message with it.
function refusal(error, step) {
  const key = cognito.problemKey(error, step);
  return () => text(key, error.message);
}

function signInWithPassword(event) {
  event.preventDefault();
  const email = $("email").value.trim().toLowerCase();
  const password = $("password").value;
  for (const id of ["email", "password"]) $(id).removeAttribute("aria-invalid");
  if (!email || !password) {
    const [input, key] = email ? [$("password"), "password_missing"] : [$("email"), "email_missing"];
    fieldError(input, "password-error", () => text(key));
    return;
  }
  whileBusy($("password-form"), async () => {
    let answer;
    try {
      answer = await cognito.signIn(email, password);
    } catch (error) {
      fieldError(error.code === "Network" ? $("email") : $("password"), "password-error", refusal(error, "signin"));
      return;
    }
    fieldError($("password"), "password-error", "");
    $("password").value = "";
    if (answer.newPassword) askNewPassword(answer.newPassword, email);
    else signedIn(answer.tokens);
  });
}

// A first sign-in: the temporary password is replaced before any token is given.
function askNewPassword(given, email) {
  challenge = given;
  $("password-form").hidden = true;
  $("token-signin").hidden = true;
  $("new-password-form").hidden = false;
  $("new-password-user").value = email; // for the browser's password manager
  put("new-password-error", "");
  $("new-password").focus();
}

function submitNewPassword(event) {
  event.preventDefault();
  const password = $("new-password").value;
  const again = $("new-password-again").value;
  const problem = !password ? "new_password_missing" : password !== again ? "new_password_mismatch" : null;
  for (const id of ["new-password", "new-password-again"]) $(id).removeAttribute("aria-invalid");
  if (problem) {
    fieldError($(password ? "new-password-again" : "new-password"), "new-password-error", () => text(problem));
    return;
  }
  whileBusy($("new-password-form"), async () => {
    let answer;
    try {
      answer = await cognito.setNewPassword(challenge, password);
    } catch (error) {
      if (error.code === "NotAuthorizedException") {
        showSignIn(refusal(error, "new_password"), "password"); // the challenge's session is over
      } else {
        fieldError($("new-password"), "new-password-error", refusal(error, "new_password"));
      }
      return;
    }
    $("new-password").value = $("new-password-again").value = "";
    if (answer.tokens) signedIn(answer.tokens);
  });
}

function signedIn(tokens) {
  challenge = null;
  startSession(tokens);
  say("");
  route();
}

// Signed out by the person, or by the page with `message` (a 401, a refused renewal). A
// message once signed out changes nothing: the other calls still out get 401s too.
export function signOut(message) {
  if (message && !session.token) return;
  const about = session.renewable ? "password" : "token";
  endSession();
  stores = null;
  resetStore();
  closeDetail(false);
  clearError();
  say(message ? "" : () => text("signed_out"));
  showSignIn(message ?? "", about);
}

// The stores to choose from: staff, those of their sign-in; managers and admins, those
// GET /v1/stores lists for them (an admin may also type any store's id; so may a manager
// when the list cannot be had).
function showStorePicker() {
  stopRefresh();
  renderSession();
  const claims = session.claims;
  const listed = claims.role !== "staff";
  put("store-text", () => text(`store_text_${claims.role}`));
  $("store-form").hidden = claims.role !== "admin";
  renderChoices(listed ? stores ?? [] : (claims.stores ?? []).map((id) => ({ store_id: id })));
  showScreen("store", true);
  if (listed && !stores) loadStores();
}

// The list is read again at the next choice (an admin screen created or changed a store).
export function storesChanged() {
  stores = null;
}

function renderChoices(list) {
  $("store-choices").replaceChildren(
    ...list.map((store) =>
      el("li", {}, el("button", { type: "button", class: "secondary", "data-store": store.store_id },
        text("store_choice", store.name, store.store_id))),
    ),
  );
}

async function loadStores() {
  put("stores-status", () => text("stores_loading"));
  let listed;
  try {
    listed = (await api("/v1/stores")).stores ?? [];
  } catch (error) {
    if (handledGlobally(error) && error.status === 401) return;
    put("stores-status", () => text("stores_failed", error.message));
    $("store-form").hidden = false;
    return;
  }
  stores = listed.filter((store) => store && typeof store.store_id === "string");
  put("stores-status", "");
  if (session.token && !session.store) renderChoices(stores);
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
  const mine = claims?.stores ?? [];
  $("session").hidden = !claims;
  const role = claims?.role === "manager" ? text("role_manager", claims.regions ?? []) : text("role")[claims?.role];
  $("who").replaceChildren(...(claims ? [text("signed_in_as", el("bdi", {}, claims.sub ?? ""), role)].flat() : []));
  $("store-label").textContent = session.store ? text("store_label", session.store) : "";
  $("change-store").hidden = !(
    session.store && (claims?.role !== "staff" || mine.length > 1 || (mine.length && !mine.includes(session.store)))
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
  onSessionEnded((key) => signOut(() => text(key)));
  $("password-form").addEventListener("submit", signInWithPassword);
  $("new-password-form").addEventListener("submit", submitNewPassword);
  $("signin-form").addEventListener("submit", signInWithToken);
  $("store-form").addEventListener("submit", submitStore);
  $("store-choices").addEventListener("click", (event) => {
    const button = event.target.closest("[data-store]");
    if (button) chooseStore(button.dataset.store);
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("change-store").addEventListener("click", changeStore);
}
