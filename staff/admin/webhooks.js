// A store's signed webhooks out (GET /v1/stores/{id}/webhooks): each endpoint with its
// recent failed deliveries, newest first. Endpoints are made and rotated through the API
// (docs/api.md#webhooks-out): their secret is shown once, so not on this page.
import { el } from "../../common/page.js";
import { api, enc } from "../api.js";
import { clock } from "../locale.js";
import { showApiError, tx, words } from "./forms.js";
import { t } from "./strings.js";

export function render(store) {
  const list = el("ul", { class: "admin-list", id: "admin-webhook-list" });
  const status = tx("p", { class: "hint", role: "status" }, "loading");
  const section = el("section", { class: "card", "aria-labelledby": "webhooks-title" },
    tx("h3", { id: "webhooks-title" }, "webhooks_title"), status, list);
  api(`/v1/stores/${enc(store.store_id)}/webhooks`).then(
    ({ webhooks }) => {
      words(status, (node) => (node.textContent = webhooks.length ? "" : t("webhooks_empty")));
      list.replaceChildren(...webhooks.map(webhookItem));
    },
    (error) => {
      status.textContent = "";
      showApiError(section, error);
    },
  );
  return section;
}

function webhookItem(webhook) {
  const failures = webhook.failures.map((failure) =>
    el("li", { class: failure.given_up ? "webhook-failure given-up" : "webhook-failure" },
      t("webhook_failure", clock(failure.at), failure.attempt, failure.outcome, failure.given_up)));
  return el("li", { "data-webhook": webhook.webhook_id },
    el("strong", {}, webhook.url),
    el("p", { class: "hint" }, webhook.events.join(", ")),
    failures.length ? el("ul", { class: "webhook-failures" }, ...failures) : tx("p", { class: "hint" }, "webhook_no_failures"));
}
