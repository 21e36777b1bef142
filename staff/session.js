// Who is signed in and which store is open. Everything lives in sessionStorage: this tab
// only, gone when it closes. Two kinds of sign-in:
//   the user pool (Cognito): `token` is the ID token, the API's bearer; `refresh_token`
//     renews it before it expires (`token_expires`, ms in this browser's clock), so a shift
//     needs no new sign-in;
//   a developer token (HS256, the local stack and tests): `token` alone, not renewed.
import { timings } from "../common/page.js";
import * as cognito from "./cognito.js";

const TIMING = timings({
  renew: 300000, // renew the ID token this long before it expires
  renew_retry: 30000, // after a renewal that could not reach Cognito
});

export const session = {
  get token() { return sessionStorage.getItem("token"); },
  get store() { return sessionStorage.getItem("store"); },
  get claims() { return tokenClaims(this.token); },
  // Signed in through the pool, with a refresh token to renew the ID token.
  get renewable() { return Boolean(sessionStorage.getItem("refresh_token")); },
};

// The JWT's payload, read without verifying it: the API checks the signature; the page only
// needs the role and stores to offer the right choices.
function payload(token) {
  const parts = (token || "").split(".");
  if (parts.length !== 3) return null;
  try {
    const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
    return claims && typeof claims === "object" && !Array.isArray(claims) ? claims : null;
  } catch {
    return null;
  }
}

// The person as the API sees them, for display and the choices offered only (the API
// decides): `sub` (who: the e-mail, lower case, for a pool user, as tasks record it),
// `role` ("staff", "manager", "admin"), `stores`, `regions`, `exp`, and `pool` (true for
// the pool's ID tokens). A pool user's role and stores are their `cognito:groups`:
// `admin`; `manager:<region>`; `store:<store_id>`.
export function tokenClaims(token) {
  const claims = payload(token);
  if (!claims || claims.token_use !== "id") return claims;
  const groups = Array.isArray(claims["cognito:groups"]) ? claims["cognito:groups"].map(String) : [];
  const named = (prefix) => groups.filter((g) => g.startsWith(prefix)).map((g) => g.slice(prefix.length));
  const regions = named("manager:");
  const role = groups.includes("admin") ? "admin" : regions.length ? "manager" : "staff";
  const who = String(claims.email ?? claims["cognito:username"] ?? claims.sub ?? "").toLowerCase();
  return { sub: who, role, stores: named("store:"), regions, exp: claims.exp, pool: true };
}

// Why a token cannot be used (a key of strings.js), or null. `byExp`: its own `exp` says
// whether it has expired (a pool session's expiry is this browser's: see keepTokens).
export function tokenProblem(token, byExp = true) {
  const claims = tokenClaims(token);
  if (!claims || !["staff", "manager", "admin"].includes(claims.role)) return "token_malformed";
  if (byExp && typeof claims.exp === "number" && claims.exp * 1000 <= Date.now()) return "token_expired";
  return null;
}

let renewTimer = 0;
let renewing = null;
let ended = () => {}; // what the page does when the pool refuses to renew (signin.js says)

export function onSessionEnded(handle) {
  ended = handle;
}

// A developer token, as pasted.
export function keepToken(token) {
  forgetTokens();
  sessionStorage.setItem("token", token);
}

// The pool's tokens, after a sign-in or a renewal.
function keepTokens(tokens) {
  sessionStorage.setItem("token", tokens.id);
  sessionStorage.setItem("refresh_token", tokens.refresh);
  sessionStorage.setItem("token_expires", String(tokens.expiresAt));
  scheduleRenewal();
}

export function startSession(tokens) {
  forgetTokens();
  keepTokens(tokens);
}

// Signed out: the tokens and the store forgotten, the refresh token revoked (the page does
// not wait for it: signing out works offline too; the ID token then lives out its hour).
export function endSession() {
  const refreshToken = sessionStorage.getItem("refresh_token");
  forgetTokens();
  sessionStorage.removeItem("store");
  if (refreshToken) cognito.revoke(refreshToken).catch((error) => console.warn("token not revoked:", error.message));
}

export function forgetTokens() {
  clearTimeout(renewTimer);
  renewTimer = 0;
  for (const key of ["token", "refresh_token", "token_expires"]) sessionStorage.removeItem(key);
}

const expiresAt = () => Number(sessionStorage.getItem("token_expires")) || 0;

// The renewal timer, from the token's expiry (after a reload too); at least a second away,
// so that tokens shorter-lived than `renew` (the pool's last 60 minutes) cannot make a loop.
export function scheduleRenewal() {
  clearTimeout(renewTimer);
  if (!session.renewable) return;
  renewTimer = setTimeout(renew, Math.max(1000, expiresAt() - TIMING.renew - Date.now()));
}

// One renewal at a time. True when the session has a usable ID token after it; a refusal
// ends the session (`ended`), a Cognito out of reach is tried again later.
export function renew() {
  renewing ??= (async () => {
    const refreshToken = sessionStorage.getItem("refresh_token");
    if (!refreshToken) return false;
    try {
      const tokens = await cognito.refresh(refreshToken);
      if (sessionStorage.getItem("refresh_token") !== refreshToken) return false; // signed out meanwhile
      keepTokens(tokens);
      return true;
    } catch (error) {
      if (error.code === "Network") {
        clearTimeout(renewTimer);
        renewTimer = setTimeout(renew, TIMING.renew_retry);
        return expiresAt() > Date.now();
      }
      if (sessionStorage.getItem("refresh_token") === refreshToken) ended(cognito.problemKey(error, "renew"));
      return false;
    }
  })().finally(() => {
    renewing = null;
  });
  return renewing;
}

// A pool session whose ID token has expired (a tab asleep past its renewal, a reload).
export function poolTokenExpired() {
  return session.renewable && expiresAt() <= Date.now();
}

// The bearer for the next API call: a pool session's ID token is renewed first when it is
// due (a tab asleep past its timer wakes with an old token).
export async function freshToken() {
  if (session.renewable && expiresAt() - TIMING.renew <= Date.now()) await renew();
  return session.token;
}
