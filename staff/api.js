// The storepulse API as the staff page calls it: the signed-in token on every call (a pool
// session's ID token renewed first when due), the API's error body as an ApiError, and the
// refusals every call treats the same way.
import { text } from "./locale.js";
import { freshToken } from "./session.js";

let address = location.origin; // until the deployment's address is known (useApi)

export function useApi(origin) {
  address = origin;
}

// The local stack's API (on this machine): the developer-token sign-in is offered there.
export function apiIsLocal() {
  return ["127.0.0.1", "localhost", "[::1]"].includes(new URL(address).hostname);
}

export const enc = encodeURIComponent;

// `details`: the error body's list (which fields failed), so a form marks those fields.
export class ApiError extends Error {
  constructor(status, message, code, details = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export async function api(path, init = {}) {
  return (await request(path, init)).json().catch(() => null);
}

// The answer itself (a CSV export reads its text and its Link header). `path` is the API's
// path, or a whole URL on the API's own origin (a Link header's): the token goes nowhere else.
export async function request(path, init = {}) {
  const url = new URL(path.startsWith("/") ? address + path : path);
  if (url.origin !== new URL(address).origin) throw new ApiError(0, `not the API: ${url.origin}`);
  const token = await freshToken();
  if (!token) throw new ApiError(401, text("signed_out"));
  let response;
  try {
    response = await fetch(url, {
      ...init,
      cache: "no-store",
      headers: {
        Authorization: `Bearer ${token}`,
        ...(init.body ? { "Content-Type": "application/json" } : {}),
      },
    });
  } catch {
    throw new ApiError(0, text("offline"));
  }
  if (!response.ok) {
    const error = (await response.json().catch(() => null))?.error;
    throw new ApiError(response.status, error?.message || `HTTP ${response.status}`, error?.code, error?.details ?? []);
  }
  return response;
}

// What the page does on a refusal any call may get (a 401 signs out, a 403 closes the
// store's list): said once by the entry module, so this module needs no screen.
const refusals = new Map(); // status -> what to do

export function onRefusal(status, handle) {
  refusals.set(status, handle);
}

// True when the error was one of those refusals, and handled.
export function handledGlobally(error) {
  const handle = refusals.get(error.status);
  if (!handle) return false;
  handle();
  return true;
}
