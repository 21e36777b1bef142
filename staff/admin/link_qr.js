// A store's link survey: its address (/s/<store id> beside these pages, the kiosk page in
// link mode) and its QR code to print on receipts or table stands. The QR library
// (staff/vendor/qrcode-generator/, MIT, pinned) loads on first use, outside the page budget.
import { el } from "../../common/page.js";
import { tx, said } from "./forms.js";
import { t } from "./strings.js";

let library;
const CELL = 8; // px a module
export function linkUrl(storeId) {
  return new URL(`/s/${encodeURIComponent(storeId)}`, location.origin).href;
}

export function render(store) {
  const url = linkUrl(store.store_id);
  const image = el("img", { id: "link-qr-image", alt: "" });
  const sheet = el("figure", { class: "link-qr", id: "link-qr" },
    image,
    el("figcaption", {},
      el("strong", {}, store.name),
      said("span", { class: "link-qr-ask" }, () => t("link_qr_ask")),
      el("code", { id: "link-url" }, url)));
  const print = tx("button", { type: "button", id: "link-print", class: "primary" }, "link_print");
  print.addEventListener("click", () => {
    // admin.css prints only the sheet while the body has this class.
    document.body.classList.add("print-qr");
    window.addEventListener("afterprint", () => document.body.classList.remove("print-qr"), { once: true });
    window.print();
  });
  qrDataUrl(url).then((data) => {
    image.src = data;
    image.alt = t("link_qr_alt", store.name);
  });
  return el("div", { class: "admin-link" }, tx("p", { class: "hint" }, "link_hint"), sheet, print);
}

// A GIF data URL (the pages' CSP allows data: images, not inline styles an SVG would need).
export async function qrDataUrl(text) {
  library ??= import("../vendor/qrcode-generator/qrcode.mjs");
  const qrcode = (await library).default;
  const code = qrcode(0, "M"); // the smallest version that holds it; 15% of it may be lost
  code.addData(text);
  code.make();
  return code.createDataURL(CELL, 4 * CELL); // the 4-module quiet zone scanners need
}
