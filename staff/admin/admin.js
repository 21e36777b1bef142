// The admin screens of the staff page, in <section id="admin">, opened by the header's
// #admin-open button: managers and admins see stores (and each store's details, survey and
// kiosks), people, store-system credentials and (admins) the bulk upload; everyone signed
// in sees their own notifications there. The API decides what each call may do; the tabs
// only leave out what the role cannot use.
//
//   stores.js         the store list, a new store, and one store's sections:
//   store_form.js     its details           survey_editor.js  its survey
//   kiosks.js         its kiosks and pairing codes   fleet.js  every kiosk, most trouble first
//   people.js         invitations and removals   integrations.js  store-system credentials
//   onboarding.js     the CSV upload          notifications.js  my notifications
//   forms.js          fields, errors, words kept in the current language
//   strings.js        every string and limit  who.js            the role the token names
//
// Each screen's render() returns its node, built fresh when its tab opens (what another
// person saw is never kept): sign-out empties the section.
import { $, el, currentScreen, showScreen } from "../../common/page.js";
import * as fleet from "./fleet.js";
import { forgetRemoved, rewriteWords, selectTab, tabList, tx } from "./forms.js";
import * as integrations from "./integrations.js";
import * as notifications from "./notifications.js";
import * as onboarding from "./onboarding.js";
import * as people from "./people.js";
import * as stores from "./stores.js";
import { t } from "./strings.js";
import { administers, who } from "./who.js";

const TABS = {
  admin: { stores, fleet, people, integrations, onboarding, notifications },
  manager: { stores, fleet, people, integrations, notifications },
  staff: { notifications },
};

let previous = null; // the page's screen before the admin screens opened
let tab = null;

function tabsFor(person) {
  return TABS[person?.role] ?? TABS.staff;
}

// The header button: "Admin" for managers and admins, "My notifications" for staff (its
// words are written once by wire(), again at each change of language).
function renderButton() {
  const button = $("admin-open");
  const text = t(administers(who()) ? "open_admin" : "open_settings");
  if (button.hidden !== !who()) button.hidden = !who();
  if (button.textContent !== text) button.textContent = text;
}

function open() {
  const person = who();
  if (!person) return;
  if (currentScreen() !== "admin") previous = currentScreen();
  showScreen("admin");
  const section = $("admin");
  section.hidden = false;
  const names = Object.keys(tabsFor(person));
  const list = tabList("sections_label", "tab", names, (name) => ({
    id: `admin-tab-${name}`, "data-admin-tab": name, "aria-controls": "admin-panel",
  }), choose);
  list.id = "admin-tabs";
  list.hidden = names.length < 2;
  section.replaceChildren(
    el("div", { class: "title-row" },
      tx("h1", { id: "admin-title", tabindex: "-1" }, administers(person) ? "admin_title" : "settings_title"),
      tx("button", { type: "button", id: "admin-back", class: "link back" }, "back")),
    list,
    el("div", { id: "admin-panel", role: "tabpanel", tabindex: "-1" }),
  );
  $("admin-back").addEventListener("click", close);
  choose(tab && names.includes(tab) ? tab : names[0]);
  $("admin-title").focus();
}

function choose(name) {
  const person = who();
  const screens = tabsFor(person);
  if (!screens[name]) return;
  tab = name;
  selectTab($("admin-tabs"), name);
  $("admin-panel").setAttribute("aria-labelledby", `admin-tab-${name}`);
  $("admin-panel").replaceChildren(screens[name].render(person));
}

function close() {
  reset();
  showScreen(previous && previous !== "signin" ? previous : "store", true);
}

// Nothing of the admin screens stays on the page once they are closed or the person signs out.
function reset() {
  $("admin").hidden = true;
  $("admin").replaceChildren();
  forgetRemoved();
}

export function wire() {
  $("admin-open").addEventListener("click", open);
  // The header (#session) is shown at each sign-in and hidden at sign-out: the button
  // follows the person; a sign-out empties the admin section.
  new MutationObserver(() => {
    renderButton();
    if ($("session").hidden) {
      reset();
      tab = null;
    }
  }).observe($("session"), { attributes: true, attributeFilter: ["hidden"] });
  // languages.js writes <html lang> at each change of language: the admin words follow.
  new MutationObserver(() => {
    renderButton();
    rewriteWords();
  }).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  renderButton();
}
