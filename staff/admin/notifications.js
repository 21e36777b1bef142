// My notifications (anyone signed in): the callbacks and alerts of my stores by e-mail
// and/or SMS (GET/PUT /v1/staff/me/notifications {"email": bool, "sms": E.164 | null}).
// The API subscribes the address and number to the topics, filtered to my stores.
import { el } from "../../common/page.js";
import { api } from "../api.js";
import { field, form, json, showApiError, showError, tx, words } from "./forms.js";
import { LIMITS, t } from "./strings.js";

export function render() {
  const root = el("div", {}, tx("p", { class: "hint", role: "status" }, "loading"));
  api("/v1/staff/me/notifications").then(
    (preferences) => root.replaceChildren(preferencesForm(preferences)),
    (error) => {
      root.replaceChildren(el("p", { class: "error", role: "alert", "data-error-for": "" }));
      showApiError(root, error);
    },
  );
  return root;
}

function preferencesForm(preferences) {
  const saved = el("p", { class: "notice", role: "status" });
  const phone = field("sms", "phone_label", { type: "tel", autocomplete: "tel", hint: "phone_hint", value: preferences.sms ?? "" });
  const node = form({ id: "notifications-form", "aria-labelledby": "notifications-title" }, [
    tx("h2", { id: "notifications-title" }, "notifications_title"),
    tx("p", { class: "hint" }, "notifications_text"),
    el("label", { class: "admin-check" },
      el("input", { type: "checkbox", name: "email", checked: Boolean(preferences.email) }), tx("span", {}, "by_email")),
    el("label", { class: "admin-check" },
      el("input", { type: "checkbox", name: "by_sms", checked: Boolean(preferences.sms) }), tx("span", {}, "by_sms")),
    phone,
    saved,
  ], "save", async (formNode) => {
    saved.textContent = "";
    const sms = formNode.elements.by_sms.checked ? formNode.elements.sms.value.replace(/[\s()-]/g, "") : null;
    if (sms !== null && !LIMITS.phone.test(sms)) return showError(formNode, "sms", "phone_invalid");
    const answer = await api("/v1/staff/me/notifications", json("PUT", { email: formNode.elements.email.checked, sms }));
    formNode.elements.email.checked = Boolean(answer.email);
    formNode.elements.by_sms.checked = Boolean(answer.sms);
    formNode.elements.sms.value = answer.sms ?? "";
    follow();
    words(saved, (n) => (n.textContent = t("notifications_saved")));
  });
  const follow = () => (phone.hidden = !node.elements.by_sms.checked);
  node.addEventListener("change", follow);
  follow();
  return node;
}
