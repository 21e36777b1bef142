// The task list: a store's callback tasks by status (open, claimed, resolved) in tabs, by
// deadline; an open task is claimed from here, a claimed one opened in the call view.
import { $, el } from "../common/page.js";
import { api, enc, handledGlobally } from "./api.js";
import { openTask } from "./call_view.js";
import { text } from "./locale.js";
import { clearError, say, showError } from "./messages.js";
import { STATUSES, changes, chooseTab, forbidden, fresh, lists, priorityOf, refresh, storeScale, tab } from "./open_store.js";
import { session } from "./session.js";
import { claimedText, customerText, dueLine, dueState, outcomeLine, ratingsList, who } from "./task_lines.js";

export function renderTasks() {
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
  chooseTab(status);
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

export function wire() {
  changes.addEventListener("tasks", renderTasks);
  $("refresh").addEventListener("click", refresh);
  $("tabs").addEventListener("click", (event) => {
    const button = event.target.closest("[role=tab]");
    if (button) selectTab(button.dataset.status);
  });
  $("tabs").addEventListener("keydown", tabKeys);
  $("task-list").addEventListener("click", listAction);
  window.addEventListener("focus", () => refresh());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") refresh();
  });
}
