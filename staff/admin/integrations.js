// Store-system credentials (a till or booking system's own sign-in): issued for some stores
// (POST /v1/integrations; the token is in that answer only, shown once with a copy button),
// listed without their tokens (GET), revoked (DELETE /v1/integrations/{id}).
import { el } from "../../common/page.js";
import { api, enc } from "../api.js";
import { clock } from "../locale.js";
import { confirmButton, field, form, json, label, said, showApiError, showError, tx, words } from "./forms.js";
import { checkedValues, listStores, storeChecklist } from "./stores.js";
import { LIMITS, t } from "./strings.js";

export function render() {
  const list = el("ul", { class: "admin-list", id: "admin-integration-list" });
  const status = el("p", { class: "hint", "data-error-for": "" });
  const listing = el("section", { class: "card", "aria-labelledby": "integrations-list-title" },
    tx("h2", { id: "integrations-list-title" }, "integrations_title"), status, list);
  const issued = el("div", { id: "integration-issued", "aria-live": "polite" });
  const issue = el("div", {}, tx("p", { class: "hint" }, "loading"));
  const load = async () => {
    try {
      const { integrations } = await api("/v1/integrations");
      words(status, (node) => (node.textContent = integrations.length ? "" : t("integrations_empty")));
      list.replaceChildren(...integrations.map((one) => integrationItem(one, listing, load)));
    } catch (error) {
      showApiError(listing, error);
    }
  };
  listStores().then(
    (stores) => issue.replaceChildren(issueForm(stores, issued, load)),
    (error) => {
      issue.replaceChildren(el("p", { class: "error", "data-error-for": "" }));
      showApiError(issue, error);
    },
  );
  load();
  return el("div", {}, tx("p", { class: "hint" }, "integrations_text"), issue, issued, listing);
}

function issueForm(stores, issued, load) {
  return form({ id: "integration-form" }, [
    field("name", "integration_name", { required: true, maxlength: LIMITS.chars.integration_name }),
    storeChecklist("store_ids", "integration_stores", stores),
  ], "issue_credential", async (node) => {
    issued.replaceChildren();
    const name = node.elements.name.value.trim();
    const storeIds = checkedValues(node, "store_ids");
    if (!name) showError(node, "name", "integration_name_missing");
    if (!storeIds.length) showError(node, "store_ids", "stores_missing");
    if (!name || !storeIds.length) return;
    const answer = await api("/v1/integrations", json("POST", { name, store_ids: storeIds }));
    node.reset();
    issued.replaceChildren(tokenCard(answer.token));
    load();
  });
}

// The token, once: nothing keeps it but this card, gone when the screen closes.
function tokenCard(token) {
  const box = el("input", { id: "integration-token", class: "admin-token", readonly: true, value: token, spellcheck: "false" });
  const copied = el("p", { class: "hint", role: "status" });
  const copy = tx("button", { type: "button", class: "secondary small" }, "copy");
  copy.addEventListener("click", async () => {
    box.select();
    try {
      await navigator.clipboard.writeText(token);
      words(copied, (node) => (node.textContent = t("copied")));
    } catch {
      words(copied, (node) => (node.textContent = t("copy_failed")));
    }
  });
  label(box, "aria-label", () => t("token_title"));
  return el("section", { class: "card admin-once" },
    tx("h3", {}, "token_title"), tx("p", {}, "token_text"), box, copy, copied);
}

function integrationItem(one, listing, load) {
  const item = el("li", { "data-integration-id": one.integration_id, class: one.revoked_at ? "revoked" : null },
    el("div", {},
      el("p", { class: "admin-item-title" }, one.name),
      said("p", { class: "meta" }, () => [
        t("integration_meta", (one.store_ids ?? []).join(", "), clock(one.created_at)),
        one.revoked_at ? t("integration_revoked", clock(one.revoked_at)) : null,
      ].filter(Boolean).join(" · "))));
  if (!one.revoked_at) {
    item.append(confirmButton("revoke_for", [one.name], async () => {
      try {
        await api(`/v1/integrations/${enc(one.integration_id)}`, { method: "DELETE" });
        await load();
      } catch (error) {
        showApiError(listing, error);
      }
    }));
  }
  return item;
}
