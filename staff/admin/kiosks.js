// A store's kiosks: a pairing code issued (POST /v1/stores/{id}/kiosks), shown large with
// its expiry until it runs out; the kiosks paired or waiting (GET), each revocable (POST
// .../kiosks/{kiosk_id}/revoke).
import { el } from "../../common/page.js";
import { api, enc } from "../api.js";
import { clock, duration } from "../locale.js";
import { confirmButton, field, form, json, said, showApiError, tx, words } from "./forms.js";
import { LIMITS, t } from "./strings.js";

const TICK_MS = 1000; // the code's time left is written again this often

export function render(store) {
  const path = `/v1/stores/${enc(store.store_id)}/kiosks`;
  const code = el("div", { class: "admin-code", id: "pairing", "aria-live": "polite" });
  const list = el("ul", { class: "admin-list", id: "admin-kiosk-list" });
  const listStatus = el("p", { class: "hint", "data-error-for": "" });
  const listing = el("section", { class: "card", "aria-labelledby": "kiosks-title" },
    tx("h3", { id: "kiosks-title" }, "kiosks_title"), listStatus, list);
  // The list read again (`quietly`: no "Loading" line, as when polled); the kiosks, or null.
  const load = async (quietly = false) => {
    if (!quietly) words(listStatus, (node) => (node.textContent = t("loading")));
    try {
      const { kiosks } = await api(path);
      words(listStatus, (node) => (node.textContent = kiosks.length ? "" : t("kiosks_empty")));
      list.replaceChildren(...kiosks.map((kiosk) => kioskItem(path, kiosk, listing, load)));
      return kiosks;
    } catch (error) {
      listStatus.textContent = "";
      showApiError(listing, error);
      return null;
    }
  };
  // While a code is live the list is read again every LIMITS.pairing_poll_ms: once the
  // kiosk has paired with it, the code gives way to a line saying so.
  let live = null; // the code shown, { issued, timer }
  const watch = (issued) => {
    clearInterval(live?.timer);
    const expires = new Date(issued.expires_at).getTime();
    const mine = { issued };
    live = mine;
    mine.timer = setInterval(async () => {
      if (!code.isConnected || Date.now() >= expires) return clearInterval(mine.timer);
      const paired = (await load(true))?.find((k) => k.kiosk_id === issued.kiosk_id && k.status === "paired");
      if (!paired || live !== mine) return;
      clearInterval(mine.timer);
      code.replaceChildren(tx("p", { class: "notice", role: "status", id: "pairing-done" }, "code_used", paired.label || paired.kiosk_id));
    }, LIMITS.pairing_poll_ms);
  };
  const issue = form({ id: "pairing-form" }, [
    field("label", "kiosk_label", { hint: "kiosk_label_hint", maxlength: LIMITS.chars.kiosk_label }),
    code,
  ], "issue_code", async (node) => {
    const label = node.elements.label.value.trim() || null;
    const issued = await api(path, json("POST", { label }));
    node.elements.label.value = "";
    showCode(code, issued);
    watch(issued);
    load();
  });
  load();
  return el("div", {}, issue, listing);
}

// The code in large digits, its expiry and the time left, until it expires.
function showCode(node, issued) {
  const expires = new Date(issued.expires_at).getTime();
  const expiry = () =>
    Date.now() < expires
      ? t("code_expires", clock(issued.expires_at), duration((expires - Date.now()) / 1000))
      : t("code_expired");
  const left = said("p", { class: "admin-code-expiry", id: "pairing-expiry" }, expiry);
  const digits = el("output", { class: "admin-code-digits", id: "pairing-code" }, issued.pairing_code);
  node.replaceChildren(tx("h4", {}, "code_title"), tx("p", {}, "code_text"), digits, left);
  const timer = setInterval(() => {
    left.textContent = expiry();
    if (Date.now() >= expires) digits.classList.add("expired");
    if (!left.isConnected || Date.now() >= expires) clearInterval(timer);
  }, TICK_MS);
}

// A kiosk's status, health and last heartbeat in a line; `more`: also its queue, battery
// and page version (the fleet).
export function facts(kiosk, more = false) {
  const paired = kiosk.status === "paired";
  return [
    t("kiosk_status")[kiosk.status] ?? kiosk.status,
    kiosk.health && paired ? t("kiosk_health")[kiosk.health] ?? kiosk.health : null,
    kiosk.last_seen_at ? t("kiosk_seen", clock(kiosk.last_seen_at)) : kiosk.paired_at ? t("kiosk_paired", clock(kiosk.paired_at)) : null,
    more && kiosk.last_seen_at ? t("kiosk_beat", kiosk.queue_length, kiosk.battery, kiosk.app_version) : null,
  ].filter(Boolean).join(" · ");
}

function kioskItem(path, kiosk, listing, load) {
  const name = kiosk.label || kiosk.kiosk_id;
  const item = el("li", { "data-kiosk-id": kiosk.kiosk_id, class: kiosk.status === "revoked" ? "revoked" : null },
    el("div", {}, el("p", { class: "admin-item-title" }, name), said("p", { class: "meta" }, () => facts(kiosk))));
  if (kiosk.status !== "revoked") {
    const revoke = confirmButton("revoke_for", [name], async () => {
      try {
        await api(`${path}/${enc(kiosk.kiosk_id)}/revoke`, { method: "POST" });
        await load();
      } catch (error) {
        showApiError(listing, error);
      }
    });
    item.append(revoke);
  }
  return item;
}
