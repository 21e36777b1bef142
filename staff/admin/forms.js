// What every admin screen builds its forms and lists with: words that are written again
// when the language changes, labelled fields with their error line, the API's errors shown
// next to the field they name (or the action), and a second tap to confirm a removal.
import { el } from "../../common/page.js";
import { handledGlobally } from "../api.js";
import { LIMITS, t } from "./strings.js";

const writers = new Map(); // node -> Map(aspect -> write(node)): run again on a change of language

// `write(node)` now and after each change of language, while the node is on the page; one
// writer per `aspect` of a node (its text, or an attribute), the last one given.
export function words(node, write, aspect = "text") {
  write(node);
  if (!writers.has(node)) writers.set(node, new Map());
  writers.get(node).set(aspect, write);
  return node;
}

export function rewriteWords() {
  forgetRemoved();
  for (const [node, aspects] of writers) for (const write of aspects.values()) write(node);
}

// The writers of nodes no longer on the page forgotten (a node is built, then placed: a
// writer is never dropped before its node could be placed).
export function forgetRemoved() {
  for (const node of writers.keys()) if (!node.isConnected) writers.delete(node);
}

// An attribute of `node` (aria-label...) written by `write()` in the current language.
export function label(node, name, write) {
  return words(node, (n) => n.setAttribute(name, write()), name);
}

// An element whose text is t(key, ...args), kept in the current language.
export function tx(tag, attrs, key, ...args) {
  return words(el(tag, attrs), (node) => {
    node.textContent = t(key, ...args);
  });
}

// An element whose text is `write()`, kept in the current language.
export function said(tag, attrs, write) {
  return words(el(tag, attrs), (node) => {
    node.textContent = write();
  });
}

let fieldCount = 0;

// A labelled input (or `control`) with its hint and its error line; `name` is the API's
// field, so an error the API gives for it is shown here.
export function field(name, labelKey, { hint, control, labelArgs = [], ...attrs } = {}) {
  const id = `admin-field-${++fieldCount}`;
  const input = control ?? el("input", { autocomplete: "off", spellcheck: "false", ...attrs });
  input.id = id;
  input.name = name;
  const describedBy = [hint && `${id}-hint`, `${id}-error`].filter(Boolean).join(" ");
  input.setAttribute("aria-describedby", describedBy);
  return el(
    "div",
    { class: "admin-field" },
    tx("label", { class: "field", for: id }, labelKey, ...labelArgs),
    input,
    hint && tx("p", { class: "hint", id: `${id}-hint` }, hint),
    el("p", { class: "error", id: `${id}-error`, "data-error-for": name }),
  );
}

// A form with its action's error line (role=alert) and submit button; `submit(form)` runs
// on submit with the button busy and its ApiError shown (see `showApiError`).
export function form(attrs, children, buttonKey, submit) {
  const button = tx("button", { type: "submit", class: "primary" }, buttonKey);
  const node = el("form", { class: "card", novalidate: true, ...attrs }, ...children,
    el("p", { class: "error", role: "alert", "data-error-for": "" }), button);
  node.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(node);
    button.disabled = true;
    try {
      await submit(node);
    } catch (error) {
      showApiError(node, error);
    } finally {
      button.disabled = false;
    }
  });
  return node;
}

// The form's error lines emptied, its fields no longer marked.
export function clearErrors(scope) {
  for (const line of scope.querySelectorAll("[data-error-for]")) words(line, (n) => (n.textContent = ""));
  for (const input of scope.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

// A message (a key of strings.js, or a function writing it) next to the field `name`, or
// the action's line when no field of that name is in `scope`. The first such field gets focus.
export function showError(scope, name, message) {
  const write = typeof message === "function" ? message : () => t(message);
  const line = errorLine(scope, name);
  words(line, (node) => (node.textContent = write()));
  const input = name && scope.querySelector(`[name="${CSS.escape(name)}"]`);
  if (input && line.dataset.errorFor === name) {
    input.setAttribute("aria-invalid", "true");
    if (!scope.querySelector("[aria-invalid=true]:focus")) input.focus();
  }
}

function errorLine(scope, name) {
  // "question.en" is the field question.en, or else question, or else the action's line.
  for (let path = name ?? ""; ; path = path.split(".").slice(0, -1).join(".")) {
    const line = scope.querySelector(`[data-error-for="${CSS.escape(path)}"]`);
    if (line) return line;
    if (!path) return scope.querySelector('[data-error-for=""]') ?? scope;
  }
}

// The API's error in the error shape: each detail (ApiError.details, when api.js keeps
// them) next to the field it names, the message next to the action. A 401 signs out, as on
// every screen of the page.
export function showApiError(scope, error) {
  if (!("status" in error)) throw error; // a bug of this page, not an answer
  if (handledGlobally401(error)) return;
  const details = (error.details ?? []).filter((d) => d && d.field);
  for (const detail of details) showError(scope, apiField(detail.field), () => detail.message);
  const message = error.status === 403 ? () => `${t("forbidden")} (${error.message})` : () => t("failed", error.message);
  if (!details.length || error.status >= 500) showError(scope, "", message);
}

function handledGlobally401(error) {
  return error.status === 401 && handledGlobally(error);
}

// "body.store_id" and "store_id" name the same field.
function apiField(field) {
  return String(field).replace(/^body\./, "");
}

// A tab list of `names` (each tab's words t(tableKey, name), its attributes attrsOf(name)):
// `choose(name)` runs on a click or an arrow key; selectTab() marks the chosen tab, the one
// tab in the Tab order.
export function tabList(labelKey, tableKey, names, attrsOf, choose) {
  const list = el("div", { class: "tabs admin-tabs", role: "tablist" });
  label(list, "aria-label", () => t(labelKey));
  list.append(...names.map((name) =>
    tx("button", { type: "button", role: "tab", "data-tab": name, ...attrsOf(name) }, tableKey, name)));
  list.addEventListener("click", (event) => {
    const button = event.target.closest("[data-tab]");
    if (button) choose(button.dataset.tab);
  });
  list.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const at = names.indexOf(list.querySelector("[aria-selected=true]")?.dataset.tab);
    const next = names[(at + step + names.length) % names.length];
    choose(next);
    list.querySelector(`[data-tab="${CSS.escape(next)}"]`).focus();
  });
  return list;
}

export function selectTab(list, name) {
  for (const button of list.querySelectorAll("[data-tab]")) {
    const selected = button.dataset.tab === name;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
  }
}

export function json(method, body) {
  return { method, body: JSON.stringify(body) };
}

// A button that acts on the second tap within LIMITS.confirm_ms (a removal, a revocation).
export function confirmButton(labelKey, labelArgs, act) {
  let armed = 0;
  const button = el("button", { type: "button", class: "secondary small danger" });
  const write = () => {
    const label = t(labelKey, ...labelArgs);
    button.textContent = Date.now() < armed ? t("confirm", label) : label;
  };
  words(button, write);
  button.addEventListener("click", async () => {
    if (Date.now() >= armed) {
      armed = Date.now() + LIMITS.confirm_ms;
      write();
      setTimeout(write, LIMITS.confirm_ms);
      return;
    }
    armed = 0;
    write();
    button.disabled = true;
    try {
      await act();
    } finally {
      button.disabled = false;
    }
  });
  return button;
}
