// The stores the person may see (GET /v1/stores: all for an admin, their region's for a
// manager), a new store (POST /v1/stores), and one store's sections: its details (PATCH),
// its survey and its kiosks.
import { el } from "../../common/page.js";
import { api, enc } from "../api.js";
import * as kiosks from "./kiosks.js";
import * as linkQr from "./link_qr.js";
import { form, json, label, said, selectTab, showApiError, tabList, tx, words } from "./forms.js";
import { readStore, storeFields } from "./store_form.js";
import { LIMITS, t } from "./strings.js";
import * as surveyEditor from "./survey_editor.js";
import * as webhooks from "./webhooks.js";

const SECTIONS = {
  details: renderDetails,
  survey: surveyEditor.render,
  kiosks: kiosks.render,
  link: linkQr.render,
  webhooks: webhooks.render,
};

export async function listStores() {
  return (await api("/v1/stores")).stores;
}

export function render(person) {
  const root = el("div", { class: "admin-stores" });
  showList(root, person);
  return root;
}

function showList(root, person) {
  const list = el("ul", { id: "admin-store-list", class: "admin-list", "aria-busy": "true" });
  const status = tx("p", { class: "hint", role: "status" }, "loading");
  const create = form({ id: "store-create", "aria-labelledby": "store-create-title" },
    [tx("h2", { id: "store-create-title" }, "create_title"), ...storeFields(null, person)],
    "create_button",
    async (node) => {
      const store = readStore(node, null, person);
      if (!store) return;
      const created = await api("/v1/stores", json("POST", store));
      node.reset();
      showStore(root, person, created, "survey", () => t("created", created.store_id));
    });
  root.replaceChildren(
    el("section", { class: "card", "aria-labelledby": "admin-stores-title" },
      tx("h2", { id: "admin-stores-title" }, "stores_title"), status, list),
    create,
  );
  listStores().then(
    (stores) => {
      list.removeAttribute("aria-busy");
      words(status, (node) => (node.textContent = stores.length ? "" : t("stores_empty")));
      list.replaceChildren(...stores.map((store) => storeItem(root, person, store)));
      if (stores.length >= LIMITS.find_from) list.before(finder(list));
    },
    (error) => {
      list.removeAttribute("aria-busy");
      showApiError(status.parentNode, error);
      status.textContent = "";
    },
  );
}

function storeItem(root, person, store) {
  const open = tx("button", { type: "button", class: "secondary small" }, "open_store");
  label(open, "aria-label", () => t("open_store_for", store.name));
  open.addEventListener("click", () => showStore(root, person, store, "details"));
  return el("li", { "data-store-id": store.store_id },
    el("div", {},
      said("p", { class: "admin-item-title" }, () => t("store_line", store.store_id, store.name)),
      said("p", { class: "meta" }, () => t("store_meta", store.region ?? t("no_region"), store.timezone, store.country))),
    open);
}

// One store: its sections as tabs, `section` open; `message` said once it is shown.
function showStore(root, person, store, section, message) {
  const panel = el("div", { class: "admin-store-panel", role: "tabpanel", tabindex: "-1" });
  const back = tx("button", { type: "button", class: "link back" }, "back_to_stores");
  back.addEventListener("click", () => showList(root, person));
  const title = el("h2", { id: "admin-store-title", tabindex: "-1" }, t("store_line", store.store_id, store.name));
  const note = el("p", { class: "notice", role: "status" });
  if (message) words(note, (node) => (node.textContent = message()));
  const open = (name) => {
    selectTab(tabs, name);
    panel.replaceChildren(SECTIONS[name](store, person, (changed) => {
      store = changed;
      title.textContent = t("store_line", store.store_id, store.name);
    }));
  };
  const tabs = tabList("store_view_label", "store_view", Object.keys(SECTIONS), (name) => ({ "data-section": name }), (name) => {
    note.textContent = "";
    open(name);
  });
  root.replaceChildren(back, title, note, tabs, panel);
  open(section);
  title.focus();
}

function renderDetails(store, person, changed) {
  const saved = el("p", { class: "notice", role: "status" });
  const edit = form({ id: "store-edit" }, storeFields(store, person), "save_store", async (node) => {
    saved.textContent = "";
    const fields = readStore(node, store, person);
    if (!fields) return;
    const updated = await api(`/v1/stores/${enc(store.store_id)}`, json("PATCH", fields));
    changed(updated);
    words(saved, (n) => (n.textContent = t("store_saved")));
  });
  return el("div", {}, saved, edit);
}

// Checkboxes of stores (name `name`), for invitations and credentials: those in `checked` ticked.
export function storeChecklist(name, legendKey, stores, checked = []) {
  const boxes = el("div", { class: "admin-checklist" },
    ...stores.map((store) =>
      el("label", { class: "admin-check" },
        el("input", { type: "checkbox", name, value: store.store_id, checked: checked.includes(store.store_id) }),
        said("span", {}, () => t("store_line", store.store_id, store.name)))));
  return el("fieldset", {},
    tx("legend", {}, legendKey),
    stores.length >= LIMITS.find_from ? finder(boxes) : null,
    boxes,
    el("p", { class: "error", "data-error-for": name }));
}

// A search box over a list of stores (a chain has hundreds): the items without the typed
// text are hidden (a ticked box stays ticked).
function finder(items) {
  const input = el("input", { type: "search", class: "admin-find", autocomplete: "off", spellcheck: "false" });
  label(input, "aria-label", () => t("find_store"));
  label(input, "placeholder", () => t("find_store"));
  input.addEventListener("input", () => {
    const typed = input.value.trim().toLowerCase();
    for (const item of items.children) item.hidden = Boolean(typed) && !item.textContent.toLowerCase().includes(typed);
  });
  return input;
}

export function checkedValues(scope, name) {
  return [...scope.querySelectorAll(`input[name="${name}"]:checked`)].map((input) => input.value);
}
