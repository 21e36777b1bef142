// The fleet (GET /v1/kiosks): every kiosk of a manager's regions or an admin's chain, most
// trouble first as the API sorts them (silent longest, never seen, longest queue).
import { el } from "../../common/page.js";
import { api } from "../api.js";
import { said, showApiError, tx } from "./forms.js";
import { facts } from "./kiosks.js";

export function render() {
  const list = el("ul", { class: "admin-list", id: "fleet-list" });
  const section = el("section", { class: "card" }, tx("h3", {}, "tab", "fleet"), list);
  api("/v1/kiosks").then(({ kiosks }) => {
    list.replaceChildren(...kiosks.map((kiosk) => el("li", {
      "data-kiosk-id": kiosk.kiosk_id, "data-health": kiosk.health,
    }, el("div", {},
      el("p", { class: "admin-item-title" }, `${kiosk.label || kiosk.kiosk_id} · ${kiosk.store_id}`),
      said("p", { class: "meta" }, () => facts(kiosk, true))))));
    if (!kiosks.length) list.append(tx("li", {}, "kiosks_empty"));
  }, (error) => showApiError(section, error));
  return section;
}
