// People who sign in: an invitation by e-mail with a role and stores (POST /v1/staff; the
// pool e-mails a temporary password), the list (GET /v1/staff), a removal (DELETE
// /v1/staff/{email}: their sign-in stops at once). A manager invites staff of their
// region's stores; an admin anyone.
import { el } from "../../common/page.js";
import { api, enc } from "../api.js";
import { confirmButton, field, form, json, said, showApiError, showError, tx, words } from "./forms.js";
import { checkedValues, listStores, storeChecklist } from "./stores.js";
import { LIMITS, t } from "./strings.js";

export function render(person) {
  const list = el("ul", { class: "admin-list", id: "admin-people-list" });
  const status = el("p", { class: "hint", "data-error-for": "" });
  const listing = el("section", { class: "card", "aria-labelledby": "people-title" },
    tx("h2", { id: "people-title" }, "people_title"), status, list);
  const done = el("p", { class: "notice", role: "status" });
  const invite = el("div", {}, tx("p", { class: "hint" }, "loading"));
  const load = async () => {
    try {
      const { staff } = await api("/v1/staff");
      words(status, (node) => (node.textContent = staff.length ? "" : t("people_empty")));
      list.replaceChildren(...staff.map((someone) => personItem(someone, listing, done, load)));
    } catch (error) {
      showApiError(listing, error);
    }
  };
  listStores().then(
    (stores) => invite.replaceChildren(inviteForm(person, stores, done, load)),
    (error) => {
      invite.replaceChildren(el("p", { class: "error", "data-error-for": "" }));
      showApiError(invite, error);
    },
  );
  load();
  return el("div", {}, done, invite, listing);
}

function inviteForm(person, stores, done, load) {
  const roles = person.role === "admin" ? ["staff", "manager", "admin"] : ["staff"];
  const checklist = storeChecklist("stores", "stores_legend", stores);
  const region = field("region", "invite_region_label", { autocapitalize: "off", list: "admin-regions" });
  const regions = [...new Set(stores.map((store) => store.region).filter(Boolean))];
  const node = form({ id: "invite-form", "aria-labelledby": "invite-title" }, [
    tx("h2", { id: "invite-title" }, "invite_title"),
    field("email", "email_label", { type: "email", required: true, autocapitalize: "off" }),
    el("fieldset", {},
      tx("legend", {}, "role_label"),
      ...roles.map((role) =>
        el("label", { class: "admin-check" },
          el("input", { type: "radio", name: "role", value: role, checked: role === "staff" }),
          tx("span", {}, "roles", role))),
      el("p", { class: "error", "data-error-for": "role" })),
    checklist,
    region,
    el("datalist", { id: "admin-regions" }, ...regions.map((name) => el("option", { value: name }))),
  ], "invite_button", async (formNode) => {
    done.textContent = "";
    const body = readInvitation(formNode);
    if (!body) return;
    const invited = await api("/v1/staff", json("POST", body));
    formNode.reset();
    follow();
    words(done, (n) => (n.textContent = t(invited.status === "exists" ? "invited_exists" : "invited", invited.email)));
    load();
  });
  // Staff have stores, a manager a region, an admin neither.
  const follow = () => {
    const role = node.elements.role.value;
    checklist.hidden = role !== "staff";
    region.hidden = role !== "manager";
  };
  node.addEventListener("change", (event) => event.target.name === "role" && follow());
  follow();
  return node;
}

function readInvitation(form) {
  const email = form.elements.email.value.trim().toLowerCase();
  const role = form.elements.role.value;
  const stores = role === "staff" ? checkedValues(form, "stores") : null;
  const region = role === "manager" ? form.elements.region.value.trim().toLowerCase() : null;
  const problems = [];
  if (!LIMITS.email.test(email)) problems.push(["email", "email_invalid"]);
  if (role === "staff" && !stores.length) problems.push(["stores", "stores_missing"]);
  if (role === "manager" && !LIMITS.region.test(region)) problems.push(["region", "region_invalid"]);
  for (const [name, key] of problems) showError(form, name, key);
  return problems.length ? null : { email, role, stores, region };
}

function personItem(someone, listing, done, load) {
  const where = () =>
    someone.role === "admin" ? "" : someone.role === "manager" ? someone.region ?? "" : (someone.stores ?? []).join(", ");
  const item = el("li", { "data-email": someone.email },
    el("div", {},
      el("p", { class: "admin-item-title" }, someone.email),
      said("p", { class: "meta" }, () =>
        [t("role_short")[someone.role] ?? someone.role, where(), someone.status].filter(Boolean).join(" · "))));
  item.append(confirmButton("remove_for", [someone.email], async () => {
    try {
      await api(`/v1/staff/${enc(someone.email)}`, { method: "DELETE" });
      words(done, (n) => (n.textContent = t("removed", someone.email)));
      await load();
    } catch (error) {
      showApiError(listing, error);
    }
  }));
  return item;
}
