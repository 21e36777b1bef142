// What the kiosk and staff pages do the same way: find and build nodes, write their words
// in the chosen language, switch screens, read their timings, take what a link's fragment
// gives and find the API. Served beside both pages (devtools/pages.py) and imported as
// "../common/page.js": no build step.

export const $ = (id) => document.getElementById(id);

// A node with its attributes (null, undefined and false leave one out; true is a bare
// attribute) and children; text children become text nodes, never markup.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = [value].flat().filter(Boolean).join(" ");
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

// text(key, ...args): the page's string in the current language, else in English; a string
// that takes arguments is a function of them.
export function translator(strings, currentLocale) {
  return (key, ...args) => {
    const value = (strings[currentLocale()] ?? strings.en)[key] ?? strings.en[key];
    return typeof value === "function" ? value(...args) : value;
  };
}

// The words the markup names ([data-text], [data-placeholder]) in the current language.
export function writeTexts(text) {
  for (const node of document.querySelectorAll("[data-text]")) node.textContent = text(node.dataset.text);
  for (const node of document.querySelectorAll("[data-placeholder]")) node.placeholder = text(node.dataset.placeholder);
}

// One screen (<section class="screen" id="screen-NAME">) shown, the others hidden; with
// `focus`, the keyboard (and a screen reader) moves to its heading.
export function showScreen(name, focus = false) {
  for (const screen of document.querySelectorAll(".screen")) screen.hidden = screen.id !== `screen-${name}`;
  if (focus) document.querySelector(`#screen-${name} h1`)?.focus();
}

export function currentScreen() {
  return document.querySelector(".screen:not([hidden])")?.id.replace("screen-", "");
}

// The page's timings in ms, each one shortened by a URL option of its name (tests and
// benchmarks do not wait out real timeouts): `?idle=1500`.
export function timings(defaults) {
  const options = new URLSearchParams(location.search);
  return Object.fromEntries(Object.entries(defaults).map(([name, ms]) => [name, Number(options.get(name)) || ms]));
}

// What a link's fragment gives (a fragment is never sent to a server), taken off the
// address bar at once so it is neither bookmarked nor shown.
export function takeFragment() {
  const given = new URLSearchParams(location.hash.slice(1));
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  localStorage.removeItem("api"); // an address an older version took from a link
  return given;
}

// What the deployment says about itself: `/config.json` beside the pages (written at
// deploy, served by the local stack; the kiosk's service worker keeps it for offline
// starts), read once; {} when there is none. Where a page sends a credential (the API, the
// staff page's sign-in service) comes from here only, never from the URL, a notification
// or customer text: a page told where to send its token would give it away.
let deployment = null;

export function deployConfig() {
  deployment ??= fetch("../config.json", { cache: "no-cache" })
    .then((response) => (response.ok ? response.json() : {}))
    .then((config) => (config && typeof config === "object" && !Array.isArray(config) ? config : {}))
    .catch(() => ({}));
  return deployment;
}

// An absolute http(s) address from the deployment's file, or null.
export function webAddress(value) {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url : null;
  } catch {
    return null;
  }
}

// The API's address: the deployment's `api_url`, else this page's own origin.
export async function apiAddress() {
  const url = webAddress((await deployConfig()).api_url);
  return url ? url.href.replace(/\/+$/, "") : location.origin;
}
