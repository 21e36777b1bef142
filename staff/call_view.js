// The call view: one task with the customer's number (kept here only while it is open), what
// they said, its history; the calls made and how the task was resolved are recorded here.
import { $, el, showScreen } from "../common/page.js";
import { api, enc, handledGlobally } from "./api.js";
import { clock, text } from "./locale.js";
import { clearError, fieldError, put, say, showError } from "./messages.js";
import { changes, noteMax, refresh, scaleLabel, scoreText, storeScale } from "./open_store.js";
import { session } from "./session.js";
import { LIMITS } from "./strings.js";
import { customerText, dueLine, dueState, formatPhone, outcomeLine, ratingsList, who } from "./task_lines.js";

export let detail = null; // the task in the call view: the only place the full number is kept
let recovered = null; // the recovered score chosen in the resolve form

export async function openTask(id) {
  showTask(await api(`/v1/callbacks/${enc(id)}`));
}

// The task shown in the call view, as the API gave it.
export function showTask(task) {
  detail = task;
  renderDetail();
  showScreen("task", true);
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
export function renderDetailView() {
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
    const retry = last && last.by === me && last.detail?.result === result && Date.now() - Date.parse(last.at) < LIMITS.attempt_retry_ms;
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
export function closeDetail(toList = true) {
  detail = null;
  const link = $("call-link");
  link.href = "#";
  link.textContent = "";
  $("task-ratings").replaceChildren();
  $("history-list").replaceChildren();
  $("resolve-form").reset();
  if (toList) {
    showScreen("tasks", true);
  }
}

function setRecovered(score) {
  recovered = score;
  for (const button of $("recovered").children) {
    button.setAttribute("aria-pressed", String(Number(button.dataset.score) === score));
  }
}

export function noteCount() {
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

// The outcome choices in this language, keeping the one chosen.
export function renderOutcomes() {
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
export function renderScale() {
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

// The store's survey and limits arrived: the scale and the note's limit, and the open task
// with its scores on that scale.
function surveyLoaded() {
  renderScale();
  applyLimits();
  if (detail) renderDetailView();
}

export function wire() {
  changes.addEventListener("survey", surveyLoaded);
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
  $("attempts").addEventListener("click", (event) => {
    const button = event.target.closest("[data-result]");
    if (button) recordAttempt(button.dataset.result);
  });
  $("recovered").addEventListener("click", (event) => {
    const button = event.target.closest("[data-score]");
    if (button) setRecovered(Number(button.dataset.score) === recovered ? null : Number(button.dataset.score));
  });
}
