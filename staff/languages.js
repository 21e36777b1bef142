// The language switch: every word on the page, written again in the chosen language
// (what is typed stays). A screen that writes words of its own renders here too.
import { $, el, writeTexts } from "../common/page.js";
import { detail, noteCount, renderDetailView, renderOutcomes, renderScale } from "./call_view.js";
import { chooseLocale, locale, text } from "./locale.js";
import { rewriteMessages } from "./messages.js";
import { forbidden } from "./open_store.js";
import { renderRecovery } from "./recovery.js";
import { session } from "./session.js";
import { renderSession } from "./signin.js";
import { LIMITS, LOCALES, STRINGS } from "./strings.js";
import { renderTasks } from "./tasks.js";

// The words of the markup and of the forms, and the language buttons.
export function renderTexts() {
  document.documentElement.lang = locale;
  document.title = text("app_name");
  writeTexts(text);
  $("tabs").setAttribute("aria-label", text("tabs_label"));
  $("recovery-title").textContent = text("recovery_title", LIMITS.recovery_days);
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

function setLocale(code) {
  if (!LOCALES.includes(code) || code === locale) return;
  chooseLocale(code);
  renderTexts();
  renderSession();
  renderTasks();
  if (session.store && !forbidden) renderRecovery();
  if (detail) renderDetailView();
  rewriteMessages();
}

export function wire() {
  $("languages").addEventListener("click", (event) => {
    const button = event.target.closest("[data-locale]");
    if (button) setLocale(button.dataset.locale);
  });
}
