// A store's survey (GET/PUT /v1/stores/{id}/survey): the question in each language, the
// scale, the reasons with a label in each language, the expectation question, the callback
// threshold. Saving makes a new version (shown); the preview hands the draft to the kiosk
// page (`../kiosk/?preview` reads it from localStorage, renders it and sends nothing).
import { el } from "../../common/page.js";
import { api, enc } from "../api.js";
import { field, form, json, said, showApiError, showError, tx, words } from "./forms.js";
import { LANGUAGES, LIMITS, t } from "./strings.js";

// The usual callback threshold of each scale, used when the scale changes.
const THRESHOLDS = { smiley: 2, stars: 2, nps: 6 };

export function render(store) {
  const root = el("div", { class: "admin-survey" }, tx("p", { class: "hint", role: "status" }, "loading"));
  api(`/v1/stores/${enc(store.store_id)}/survey`).then(
    (survey) => root.replaceChildren(editor(store, survey)),
    (error) => {
      root.replaceChildren(el("p", { class: "error", role: "alert", "data-error-for": "" }));
      showApiError(root, error);
    },
  );
  return root;
}

function editor(store, survey) {
  let current = survey; // the version this draft edits
  const version = said("p", { class: "admin-version", id: "survey-version" }, () => t("survey_version", current.version));
  const saved = el("p", { class: "notice", role: "status" });
  const threshold = field("callback_at_or_below", "threshold_label", {
    type: "number", inputmode: "numeric", step: 1, required: true, value: survey.callback_at_or_below,
  });
  const reasons = el("div", { class: "admin-reasons" });
  const preview = tx("button", { type: "button", class: "secondary", id: "survey-preview" }, "preview");

  const node = form({ id: "survey-form", "aria-labelledby": "survey-title" }, [
    tx("h3", { id: "survey-title" }, "survey_title"),
    version,
    el("fieldset", {},
      tx("legend", {}, "question_legend"),
      ...Object.entries(LANGUAGES).map(([code, language]) =>
        field(`question.${code}`, "question_label", { labelArgs: [language], lang: code, maxlength: LIMITS.chars.question, value: survey.question?.[code] ?? "" })),
      el("p", { class: "error", "data-error-for": "question" })),
    scaleFieldset(survey.scale?.kind ?? "smiley"),
    el("fieldset", {},
      tx("legend", {}, "reasons_legend"),
      reasons,
      addReasonButton(reasons),
      el("p", { class: "error", "data-error-for": "reasons" }),
      el("p", { class: "error", "data-error-for": "reason_labels" })),
    el("label", { class: "admin-check" },
      el("input", { type: "checkbox", name: "ask_expectation", checked: Boolean(survey.ask_expectation) }),
      tx("span", {}, "expectation_label")),
    el("p", { class: "error", "data-error-for": "ask_expectation" }),
    threshold,
    el("div", { class: "admin-actions" }, preview, tx("p", { class: "hint" }, "preview_hint")),
    saved,
  ], "save_survey", async (formNode) => {
    saved.textContent = "";
    const draft = readSurvey(formNode, current);
    if (!draft) return;
    current = await api(`/v1/stores/${enc(store.store_id)}/survey`, json("PUT", draft));
    words(version, (n) => (n.textContent = t("survey_version", current.version)));
    const savedVersion = current.version;
    words(saved, (n) => (n.textContent = t("survey_saved", savedVersion)));
  });

  for (const id of survey.reasons ?? []) reasons.append(reasonRow(id, survey.reason_labels ?? {}));
  const kind = () => node.elements.scale.value;
  const bound = () => {
    const input = node.elements.callback_at_or_below;
    input.min = LIMITS.scales[kind()].min;
    input.max = LIMITS.scales[kind()].max;
  };
  bound();
  node.addEventListener("change", (event) => {
    if (event.target.name !== "scale") return;
    bound();
    node.elements.callback_at_or_below.value = THRESHOLDS[kind()];
  });
  preview.addEventListener("click", () => {
    const draft = readSurvey(node, current);
    if (!draft) return;
    // The kiosk shows the store's name and its phone country around the survey.
    localStorage.setItem(LIMITS.preview_key, JSON.stringify({ ...draft, store_name: store.name, country: store.country }));
    window.open("../kiosk/?preview", "_blank");
  });
  return node;
}

function scaleFieldset(chosen) {
  return el("fieldset", { class: "admin-scales" },
    tx("legend", {}, "scale_legend"),
    ...Object.keys(LIMITS.scales).map((kind) =>
      el("label", { class: "admin-check" },
        el("input", { type: "radio", name: "scale", value: kind, checked: kind === chosen }),
        tx("span", {}, "scales", kind))),
    el("p", { class: "error", "data-error-for": "scale" }));
}

function reasonRow(id, labels) {
  const remove = tx("button", { type: "button", class: "link" }, "reason_remove");
  const row = el("div", { class: "admin-reason", "data-reason": "" },
    field("reason_id", "reason_id", { value: id, maxlength: LIMITS.chars.reason_id, autocapitalize: "off" }),
    ...Object.entries(LANGUAGES).map(([code, language]) =>
      field(`reason_label.${code}`, "reason_label", { labelArgs: [language], lang: code, maxlength: LIMITS.chars.reason_label, value: labels[code]?.[id] ?? "" })),
    remove);
  remove.addEventListener("click", () => row.remove());
  return row;
}

// "Add a reason", offered while the survey has fewer than LIMITS.reasons.
function addReasonButton(reasons) {
  const button = tx("button", { type: "button", class: "secondary small" }, "reason_add");
  const follow = () => (button.hidden = reasons.children.length >= LIMITS.reasons);
  button.addEventListener("click", () => {
    const row = reasonRow("", {});
    reasons.append(row);
    row.querySelector("input").focus();
  });
  new MutationObserver(follow).observe(reasons, { childList: true });
  follow();
  return button;
}

// The survey the form says, in the API's shape, or null (each problem shown by its field).
// `version`: the one this draft edits (the API refuses the save, 409, if another was saved
// since). What the editor does not show (the SMS callback rule) stays as it was.
export function readSurvey(form, current) {
  const value = (name) => form.elements[name]?.value.trim() ?? "";
  const problems = [];
  const question = {};
  for (const code of Object.keys(LANGUAGES)) if (value(`question.${code}`)) question[code] = value(`question.${code}`);
  const locales = Object.keys(question);
  if (!locales.length) problems.push([`question.${Object.keys(LANGUAGES)[0]}`, "question_missing"]);

  const kind = form.elements.scale.value || "smiley";
  const scale = { kind, ...LIMITS.scales[kind] };
  const reasons = [];
  const reasonLabels = Object.fromEntries(locales.map((code) => [code, {}]));
  for (const row of form.querySelectorAll("[data-reason]")) {
    const input = (name) => row.querySelector(`[name="${name}"]`);
    const id = input("reason_id").value.trim();
    if (!LIMITS.reason_id.test(id) || reasons.includes(id)) problems.push([input("reason_id"), "reason_id_invalid"]);
    reasons.push(id);
    for (const code of locales) {
      const label = input(`reason_label.${code}`).value.trim();
      if (!label) problems.push([input(`reason_label.${code}`), "reason_label_missing"]);
      reasonLabels[code][id] = label;
    }
  }
  const threshold = Number(value("callback_at_or_below"));
  if (!Number.isInteger(threshold) || threshold < scale.min || threshold > scale.max) {
    problems.push(["callback_at_or_below", () => t("threshold_invalid", scale.min, scale.max)]);
  }
  for (const [where, message] of problems) {
    if (typeof where === "string") showError(form, where, message);
    else showError(where.closest(".admin-field"), where.name, message);
  }
  if (problems.length) return null;
  return {
    version: current.version,
    question,
    scale,
    reasons,
    reason_labels: reasonLabels,
    ask_expectation: form.elements.ask_expectation.checked,
    callback_at_or_below: threshold,
    callback_every_sms_detractor: current.callback_every_sms_detractor ?? false,
    locales,
    default_locale: locales.includes(current.default_locale) ? current.default_locale : locales[0],
  };
}
