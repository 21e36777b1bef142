// The storepulse kiosk: one tap to rate, optional follow-up and callback offer, thank you,
// reset. Every tap goes to the durable queue first; a sync loop sends it when it can.
import { $, apiAddress, currentScreen, showScreen, takeFragment, timings, translator, writeTexts } from "../common/page.js";
import { CALLING_CODES, LIMITS, STRINGS } from "./strings.js";
import * as durable from "./queue.js";

const TIMING = timings({
  idle: 30000, // follow-up screens give up after this
  thanks: 4000, // thank-you screen, then reset
  sync: 5000, // sync loop period when all is well
  // An ordinary rating waits up to this long for others to share its request (a request
  // costs more than the ratings in it); one asking for a callback goes at once, and the
  // link survey sends at once (a phone's page may close).
  batch: 60000,
  survey: 60000, // survey refresh, also how a revoked kiosk learns it
  heartbeat: 240000, // "still here" to the API: under the 5 minutes it expects, with margin
});
// Sent in each heartbeat, so the fleet view shows which tablets run an old page.
const APP_VERSION = "0.2.0";
const MAX_BACKOFF = 60000;
const FACE_COLOURS = ["#e8604c", "#f29b4b", "#f6d04d", "#9fd26a", "#4caf63"];

// Preview (`?preview`): the staff page's draft survey (PREVIEW_KEY), shown exactly as
// customers will see it, with a badge; no token, and nothing is queued or sent.
const PREVIEW = new URLSearchParams(location.search).has("preview");
const PREVIEW_KEY = "storepulse.preview";
const queue = PREVIEW ? previewQueue() : durable;

// Link mode (`/s/<store code>`, from a printed QR code): the survey on the customer's own
// phone. No pairing and no token: the store code names the store, and a random device id
// kept here is sent for the API's abuse limits. One customer per phone, so no reset.
const LINK = location.pathname.match(/^\/s\/([a-z0-9][a-z0-9-]{1,62})\/?$/)?.[1] ?? null;
const PATHS = LINK
  ? { survey: `/v1/link/${LINK}/survey`, ratings: `/v1/link/${LINK}/ratings` }
  : { survey: "/v1/kiosk/survey", ratings: "/v1/kiosk/ratings" };
const LINK_BATCH = 5; // the link API's largest batch
// A receipt's QR code may name the visit (`?visit=<ref>`): its rating then counts once with
// the visit's other answers. A ref the API would refuse is not sent (the score must not be).
const VISIT = LINK ? new URLSearchParams(location.search).get("visit")?.trim() : null;
const VISIT_REF = VISIT && /^[^\x00-\x1f\x7f]{1,100}$/.test(VISIT) ? VISIT : null;
// Where the survey is kept: a store's link survey apart from a kiosk's (the same origin).
const SURVEY_KEY = PREVIEW ? PREVIEW_KEY : LINK ? `link_survey:${LINK}` : "survey";
const SURVEY_AT_KEY = LINK ? `${SURVEY_KEY}_at` : "survey_at";

function deviceId() {
  let id = localStorage.getItem("device_id");
  if (!id) localStorage.setItem("device_id", (id = crypto.randomUUID()));
  return id;
}

const config = loadConfig();
let survey = JSON.parse(localStorage.getItem(SURVEY_KEY) || "null");
let locale = "en";
let flow = null; // the customer being served: {ratingId, score, reasons, phone}
let idleTimer = 0;
let syncTimer = 0;
let heartbeatTimer = 0;
let syncing = false;
let failures = 0;
let lastSync = Number(localStorage.getItem("last_sync")) || 0;
let retryAt = Number(localStorage.getItem("retry_at")) || 0; // the server's Retry-After, as a time
let pairCode = "";
// Tap-to-follow-up times in ms, read by benchmarks/kiosk.py.
export const tapTimings = (window.kioskTimings = []);

// A kiosk token may come once in the URL fragment and is kept. The API address never comes
// from the URL: see apiAddress().
function loadConfig() {
  if (PREVIEW || LINK) return { api: location.origin, token: null };
  const token = takeFragment().get("token");
  if (token) localStorage.setItem("token", token);
  return {
    api: location.origin,
    get token() { return localStorage.getItem("token"); },
  };
}

const text = translator(STRINGS, () => locale);

function show(name) {
  showScreen(name);
  clearTimeout(idleTimer);
  if (name === "followup" || name === "callback") idleTimer = setTimeout(giveUp, TIMING.idle);
}

// ---- text and languages ---------------------------------------------------------------

function renderTexts() {
  document.documentElement.lang = locale;
  writeTexts(text);
  $("languages").setAttribute("aria-label", text("languages_label"));
  $("store-name").textContent = survey?.store_name ?? "";
  // The consent the customer ticks is the API's versioned text, the one its record names.
  const consent = survey?.consent?.callback;
  if (consent) $("consent-text").textContent = consent.text[locale] ?? consent.text.en;
  if (survey) {
    $("question").textContent = survey.question[locale] ?? survey.question[survey.default_locale];
    renderFaces();
    renderLanguages();
  }
  if (flow) renderFollowup();
  renderKeypadLabels();
  renderStatus();
}

function renderLanguages() {
  const box = $("languages");
  box.replaceChildren(
    ...survey.locales.filter((code) => STRINGS[code]).map((code) => {
      const button = document.createElement("button");
      button.textContent = STRINGS[code].language_name;
      button.lang = code;
      button.setAttribute("aria-pressed", String(code === locale));
      button.onclick = () => { locale = code; renderTexts(); };
      return button;
    }),
  );
}

// ---- rating ---------------------------------------------------------------------------

function faceSvg(level, colour) {
  const bend = (level - 0.5) * 28; // frown (-) to smile (+)
  return `<svg viewBox="0 0 100 100" aria-hidden="true"><circle cx="50" cy="50" r="45" fill="${colour}" stroke="#14181f" stroke-width="4"/>`
    + `<circle cx="35" cy="40" r="6" fill="#14181f"/><circle cx="65" cy="40" r="6" fill="#14181f"/>`
    + `<path d="M30 ${68 - bend / 2} Q50 ${68 + bend} 70 ${68 - bend / 2}" fill="none" stroke="#14181f" stroke-width="6" stroke-linecap="round"/></svg>`;
}

function renderFaces() {
  const { min, max, kind } = survey.scale;
  const count = max - min + 1;
  const buttons = [];
  for (let score = min; score <= max; score++) {
    const button = document.createElement("button");
    const level = (score - min) / (max - min);
    button.className = kind === "smiley" && count <= 5 ? "face" : "face number";
    button.dataset.score = String(score);
    if (button.className === "face") {
      const labels = text("scale_labels");
      const label = labels[Math.round(level * (labels.length - 1))];
      button.innerHTML = `${faceSvg(level, FACE_COLOURS[Math.round(level * 4)])}<span>${label}</span>`;
      button.setAttribute("aria-label", `${label}, ${text("score_label", score - min + 1, count)}`);
    } else {
      button.textContent = String(score);
      button.setAttribute("aria-label", text("score_label", score, max));
    }
    // click, not pointerdown: the lifted finger must not land on the next screen's buttons.
    button.addEventListener("click", (event) => rate(score, event.timeStamp));
    buttons.push(button);
  }
  $("faces").replaceChildren(...buttons);
}

const isUnhappy = (score) => score <= survey.callback_at_or_below;
const isHappy = (score) => score > (survey.scale.min + survey.scale.max) / 2;

async function rate(score, tappedAt) {
  if (flow || currentScreen() !== "rate") return; // one tap starts the flow; the rest wait for reset
  flow = { ratingId: crypto.randomUUID(), score, reasons: new Set(), phone: "" };
  setFacesDisabled(true);
  await queue.add({
    rating_id: flow.ratingId,
    score,
    tapped_at: new Date().toISOString(),
    survey_version: survey.version, // the version this customer answered (absent: unknown)
    ...(VISIT_REF ? { visit_ref: VISIT_REF } : {}),
    locale,
    reasons: [],
    comment: null,
    callback: null,
  });
  renderFollowup();
  show("followup");
  requestAnimationFrame(() => tapTimings.push(performance.now() - tappedAt));
  renderStatus();
}

function setFacesDisabled(disabled) {
  for (const button of $("faces").children) button.disabled = disabled;
}

// ---- follow-up ------------------------------------------------------------------------

function renderFollowup() {
  const score = flow.score;
  $("followup-title").textContent = text(
    isUnhappy(score) ? "unhappy_title" : isHappy(score) ? "happy_title" : "neutral_title",
  );
  const labels = survey.reason_labels[locale] ?? survey.reason_labels.en ?? {};
  $("reasons").replaceChildren(
    ...survey.reasons.map((reason) => {
      const chip = document.createElement("button");
      chip.textContent = labels[reason] ?? reason;
      chip.dataset.reason = reason;
      chip.setAttribute("aria-pressed", String(flow.reasons.has(reason)));
      chip.onclick = () => {
        if (flow.reasons.has(reason)) flow.reasons.delete(reason);
        else flow.reasons.add(reason);
        chip.setAttribute("aria-pressed", String(flow.reasons.has(reason)));
      };
      return chip;
    }),
  );
  renderExpectation();
}

// The expectation question (where the survey asks it): one optional tap, worse / as
// expected / better, beside the reasons; a second tap on the chosen answer clears it.
function renderExpectation() {
  $("expectation-block").hidden = !survey.ask_expectation;
  const labels = text("expectation");
  $("expectation").replaceChildren(
    ...Object.keys(labels).map((value) => {
      const chip = document.createElement("button");
      chip.textContent = labels[value];
      chip.dataset.expectation = value;
      chip.setAttribute("role", "radio");
      chip.setAttribute("aria-checked", String(flow.expectation === value));
      chip.onclick = () => {
        flow.expectation = flow.expectation === value ? null : value;
        renderExpectation();
      };
      return chip;
    }),
  );
}

function followupAnswers() {
  const comment = $("comment").value.trim().slice(0, LIMITS.comment) || null;
  return { reasons: [...flow.reasons], comment, expectation: flow.expectation ?? null };
}

async function followupDone(keep) {
  if (!flow) return;
  if (keep) await queue.update(flow.ratingId, followupAnswers());
  if (isUnhappy(flow.score)) {
    show("callback");
    renderPhone();
  } else {
    await finish(false);
  }
}

// ---- callback offer -------------------------------------------------------------------

function keypad(container, keys, onKey) {
  container.replaceChildren(
    ...keys.map((key) => {
      const button = document.createElement("button");
      button.dataset.key = key;
      button.textContent = key === "back" ? "⌫" : key === "clear" ? "C" : key;
      button.onclick = () => onKey(key);
      return button;
    }),
  );
}

function renderKeypadLabels() {
  for (const button of document.querySelectorAll('[data-key="back"]')) button.setAttribute("aria-label", text("backspace"));
  for (const button of document.querySelectorAll('[data-key="clear"]')) button.setAttribute("aria-label", text("clear"));
}

// A number typed without "+" takes the store's country code (and loses a trunk 0).
export function toE164(typed, country) {
  let digits = typed.replace(/[^\d+]/g, "");
  if (digits.startsWith("+")) digits = digits.slice(1);
  else if (digits.startsWith("00")) digits = digits.slice(2);
  else digits = (CALLING_CODES[country] ?? "1") + digits.replace(/^0/, "");
  if (!/^[1-9]\d{7,14}$/.test(digits)) return null;
  if (digits.startsWith("1") && !/^1[2-9]\d{2}[2-9]\d{6}$/.test(digits)) return null; // NANP
  if (digits.startsWith("86") && !/^86(1[3-9]\d{9}|[2-9]\d{8,10})$/.test(digits)) return null;
  return `+${digits}`;
}

function renderPhone() {
  $("phone").textContent = flow?.phone ?? "";
  const valid = flow && toE164(flow.phone, survey.country);
  $("phone-error").textContent = flow?.phone.length >= 7 && !valid ? text("phone_invalid") : "";
  $("callback-yes").disabled = !(valid && $("consent").checked);
}

function phoneKey(key) {
  if (!flow) return;
  if (key === "back") flow.phone = flow.phone.slice(0, -1);
  else if (key === "+") flow.phone = flow.phone ? flow.phone : "+";
  else if (flow.phone.length < LIMITS.phone) flow.phone += key;
  renderPhone();
}

async function acceptCallback() {
  const phone = toE164(flow.phone, survey.country);
  if (!phone || !$("consent").checked) return;
  const name = $("callback-name").value.trim().slice(0, LIMITS.name) || null;
  const version = survey.consent?.callback?.version;
  const callback = { phone, name, consent: true, ...(version ? { consent_version: version } : {}) };
  await queue.update(flow.ratingId, { callback });
  await finish(true);
}

// ---- thank you and reset --------------------------------------------------------------

async function finish(withCallback) {
  const ratingId = flow.ratingId;
  await queue.update(ratingId, {}, "ready");
  $("thanks-text").textContent = text(withCallback ? "thanks_callback" : "thanks_text");
  show("thanks");
  scheduleSync(0);
  if (!LINK) setTimeout(reset, TIMING.thanks);
}

// Idle on a follow-up screen: what the customer gave so far is kept and sent.
async function giveUp() {
  if (!flow) return;
  await queue.update(flow.ratingId, followupAnswers(), "ready");
  scheduleSync(0);
  reset();
}

// The next customer must never see the last one's answers: every input is emptied.
function reset() {
  flow = null;
  $("comment").value = "";
  $("callback-name").value = "";
  $("consent").checked = false;
  $("phone").textContent = "";
  $("phone-error").textContent = "";
  $("reasons").replaceChildren();
  $("expectation").replaceChildren();
  locale = survey?.default_locale ?? "en";
  renderTexts();
  setFacesDisabled(false);
  show(config.token || PREVIEW || LINK ? "rate" : "pair");
}

// ---- sync -----------------------------------------------------------------------------

function scheduleSync(delay) {
  if (PREVIEW) return;
  clearTimeout(syncTimer);
  syncTimer = setTimeout(sync, delay);
}

async function sync() {
  if (syncing) return;
  syncing = true;
  let next = TIMING.sync;
  try {
    if (config.token || LINK) {
      await refreshSurvey();
      const wait = await sendQueued();
      lastSync = Date.now();
      localStorage.setItem("last_sync", String(lastSync));
      if (wait) next = retryLater(wait);
      else retryAt = 0;
    }
    failures = 0;
  } catch (error) {
    if (error instanceof RetryLater) {
      // A 503: the server is up and says when to come back; not a failure of the kiosk.
      failures = 0;
      next = retryLater(error.wait);
    } else {
      failures += 1;
      next = Math.min(MAX_BACKOFF, 1000 * 2 ** failures) * (0.5 + Math.random() / 2);
    }
    console.warn("sync failed, retrying in", Math.round(next), "ms:", error.message);
  } finally {
    syncing = false;
    if (!retryAt) localStorage.removeItem("retry_at");
    renderStatus();
    scheduleSync(next);
  }
}

// The server asked to wait `wait` ms (Retry-After) before sending again: kept, so a reload
// waits too. A little jitter spreads a store's kiosks.
function retryLater(wait) {
  const delay = wait * (1 + Math.random() / 5);
  retryAt = Date.now() + delay;
  localStorage.setItem("retry_at", String(retryAt));
  return delay;
}

class RetryLater extends Error {
  constructor(wait) {
    super(`the server asks to retry in ${wait} ms`);
    this.wait = wait;
  }
}

// Retry-After in ms (seconds on the wire); 5 s if it is missing or not a number.
function retryAfter(response) {
  const seconds = Number(response.headers.get("Retry-After"));
  return (Number.isFinite(seconds) && seconds >= 0 ? seconds : 5) * 1000;
}

async function request(path, init = {}) {
  const response = await fetch(`${config.api}${path}`, {
    ...init,
    headers: {
      "Content-Type": "application/json",
      ...(LINK ? {} : { Authorization: `Bearer ${config.token}` }),
      ...init.headers,
    },
  });
  if (response.status === 401 && !LINK) {
    unpair();
    throw new Error("unauthorised: pairing again");
  }
  // A 429 in link mode: this phone (or the store) is over its limit; it waits as told.
  if (response.status === 503 || (LINK && response.status === 429)) throw new RetryLater(retryAfter(response));
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response;
}

async function api(path, init = {}) {
  return (await request(path, init)).json();
}

async function refreshSurvey() {
  const stale = Date.now() - Number(localStorage.getItem(SURVEY_AT_KEY) || 0) > TIMING.survey;
  if (survey && !stale) return;
  useSurvey(await api(PATHS.survey));
}

function useSurvey(fresh) {
  const changed = JSON.stringify(fresh) !== JSON.stringify(survey);
  survey = fresh;
  if (!PREVIEW) {
    localStorage.setItem(SURVEY_KEY, JSON.stringify(fresh));
    localStorage.setItem(SURVEY_AT_KEY, String(Date.now()));
  }
  // An unchanged survey leaves the screen alone: faces rebuilt under a finger lose the tap.
  if (!changed) return;
  if (!flow) locale = fresh.default_locale;
  renderTexts();
}

// Sends the ready ratings, a batch at a time. Returns 0 when all went, or the ms to wait
// (Retry-After) when some were answered `retry`: those stay queued for the next sync.
async function sendQueued() {
  for (;;) {
    const batch = await queue.ready(LINK ? LINK_BATCH : LIMITS.batch);
    if (batch.length === 0 || !(LINK || dueToSend(batch))) return 0;
    const body = { sent_at: new Date().toISOString(), ratings: batch.map((entry) => entry.rating) };
    if (LINK) body.device_id = deviceId();
    const response = await request(PATHS.ratings, { method: "POST", body: JSON.stringify(body) });
    const { results } = await response.json();
    const done = [];
    let again = false;
    for (const result of results) {
      const callbackOnly = result.error?.details?.every((d) => d.field.startsWith("callback"));
      if (result.status === "rejected" && callbackOnly) {
        // Keep the rating: it goes again without the callback the server refused.
        await queue.update(result.rating_id, { callback: null });
      } else if (["stored", "duplicate", "rejected"].includes(result.status)) {
        if (result.status === "rejected") console.warn("rating rejected:", result.error?.message);
        done.push(result.rating_id);
      } else {
        again = true; // `retry` (or a status this kiosk does not know): it stays queued
      }
    }
    await queue.remove(done);
    renderStatus();
    // The retry ones come first in the queue: sending again now would send them again.
    if (again) return retryAfter(response);
  }
}

// A kiosk's ready ratings go when one asks for a callback (the loop to staff is counted in
// seconds), when a full request's worth is ready, or when the oldest has waited `batch`.
const FULL_REQUEST = 10;
function dueToSend(batch) {
  const oldest = Math.min(...batch.map((entry) => entry.created));
  return (
    batch.length >= FULL_REQUEST ||
    batch.some((entry) => entry.rating.callback) ||
    Date.now() - oldest >= TIMING.batch
  );
}

async function renderStatus() {
  if (PREVIEW) return;
  const waiting = await queue.count();
  const time = lastSync ? new Date(lastSync).toLocaleTimeString(locale) : text("status_never");
  const status = $("sync-status");
  const retrying = waiting > 0 && retryAt > 0;
  status.dataset.state = failures > 0 ? "failing" : retrying ? "retrying" : waiting > 0 ? "waiting" : "synced";
  status.dataset.waiting = String(waiting);
  const line = retrying ? "status_retrying" : waiting ? "status_waiting" : "status_synced";
  $("sync-text").textContent = waiting ? text(line, waiting, time) : text(line, time);
}

// ---- heartbeat ------------------------------------------------------------------------

// Every TIMING.heartbeat while the page is open and paired: the queue's length, the last
// sync, this page's version and, where the browser tells, the battery. A failed one is not
// retried: the next comes on time, and a kiosk silent for 30 minutes alerts its store.
async function heartbeat() {
  clearTimeout(heartbeatTimer);
  heartbeatTimer = setTimeout(heartbeat, TIMING.heartbeat);
  if (PREVIEW || LINK || !config.token || !navigator.onLine) return;
  const body = {
    queue_length: await queue.count(),
    last_sync_at: lastSync ? new Date(lastSync).toISOString() : null,
    app_version: APP_VERSION,
    battery: await batteryLevel(),
  };
  try {
    await request("/v1/kiosk/heartbeat", { method: "POST", body: JSON.stringify(body) });
  } catch (error) {
    console.warn("heartbeat failed:", error.message);
  }
}

async function batteryLevel() {
  try {
    return navigator.getBattery ? Math.round((await navigator.getBattery()).level * 100) / 100 : null;
  } catch {
    return null; // a browser that refuses (a permissions policy): unknown, not an error
  }
}

// ---- pairing --------------------------------------------------------------------------

function unpair() {
  localStorage.removeItem("token");
  if (!flow) show("pair");
}

function pairKey(key) {
  if (key === "back") pairCode = pairCode.slice(0, -1);
  else if (key === "clear") pairCode = "";
  else if (pairCode.length < LIMITS.pairing_code) pairCode += key;
  $("pair-code").textContent = pairCode;
  $("pair-button").disabled = pairCode.length !== LIMITS.pairing_code;
  $("pair-error").textContent = "";
}

async function pair() {
  $("pair-button").disabled = true;
  try {
    const response = await fetch(`${config.api}/v1/kiosks/pair`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ pairing_code: pairCode }),
    });
    if (response.status === 429) {
      const minutes = Math.max(1, Math.ceil(Number(response.headers.get("Retry-After")) / 60) || 1);
      $("pair-error").textContent = text("pair_limited", minutes);
      return;
    }
    if (!response.ok) {
      $("pair-error").textContent = text("pair_failed");
      return;
    }
    const paired = await response.json();
    localStorage.setItem("token", paired.token);
    localStorage.setItem("kiosk_id", paired.kiosk_id);
    useSurvey(paired.survey);
    pairCode = "";
    $("pair-code").textContent = "";
    reset();
    scheduleSync(0);
    heartbeat();
  } catch {
    $("pair-error").textContent = text("pair_offline");
  } finally {
    $("pair-button").disabled = pairCode.length !== LIMITS.pairing_code;
  }
}

// ---- start ----------------------------------------------------------------------------

function wire() {
  $("comment").maxLength = LIMITS.comment;
  $("callback-name").maxLength = LIMITS.name;
  keypad($("pair-keypad"), ["1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "back"], pairKey);
  keypad($("phone-keypad"), ["1", "2", "3", "4", "5", "6", "7", "8", "9", "+", "0", "back"], phoneKey);
  $("pair-button").onclick = pair;
  $("followup-skip").onclick = () => followupDone(false);
  $("followup-next").onclick = () => followupDone(true);
  $("callback-no").onclick = () => finish(false);
  $("callback-yes").onclick = acceptCallback;
  $("consent").onchange = renderPhone;
  // Any touch on a follow-up screen restarts its idle countdown.
  document.addEventListener("pointerdown", () => {
    const screen = currentScreen();
    if (screen === "followup" || screen === "callback") show(screen);
  });
  document.addEventListener("input", () => {
    if (currentScreen() === "followup" || currentScreen() === "callback") show(currentScreen());
  });
  // Kiosk mode: no context menu, no pinch or double-tap zoom, no drag-out.
  document.addEventListener("contextmenu", (event) => event.preventDefault());
  document.addEventListener("gesturestart", (event) => event.preventDefault());
  document.addEventListener("dragstart", (event) => event.preventDefault());
  window.addEventListener("online", () => {
    scheduleSync(0);
    heartbeat();
  });
}

// The preview's queue: the same calls as queue.js, keeping nothing.
function previewQueue() {
  const nothing = async () => {};
  return { add: nothing, update: nothing, closeOpen: nothing, remove: nothing, ready: async () => [], count: async () => 0 };
}

// A preview shows the badge instead of the sync status, and the draft the staff page saves
// next in its place (the staff page writes it in another tab: a `storage` event).
function startPreview() {
  $("preview-badge").hidden = false;
  $("sync-status").style.display = "none"; // .sync sets display: `hidden` would not win
  window.addEventListener("storage", (event) => {
    if (event.key === PREVIEW_KEY && event.newValue) useSurvey(JSON.parse(event.newValue));
  });
}

async function start() {
  wire();
  if (PREVIEW) {
    startPreview();
    locale = survey?.default_locale ?? "en";
    reset();
    return;
  }
  config.api = await apiAddress();
  await queue.closeOpen(); // a reload mid-flow: send what that customer gave
  locale = survey?.default_locale ?? "en";
  renderTexts();
  reset();
  scheduleSync(Math.max(0, retryAt - Date.now())); // a reload honours a Retry-After too
  heartbeat();
  renderStatus();
  setInterval(renderStatus, 10000);
  // The kiosk's offline start; a phone opening a link is online, and /s/ is not its scope.
  if ("serviceWorker" in navigator && !LINK) navigator.serviceWorker.register("sw.js").catch(() => {});
}

start();
