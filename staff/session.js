// Who is signed in and which store is open. The token lives in sessionStorage: this tab
// only, gone when it closes.
export const session = {
  get token() { return sessionStorage.getItem("token"); },
  get store() { return sessionStorage.getItem("store"); },
  get claims() { return tokenClaims(this.token); },
};

// The JWT's payload, read without verifying it: the API checks the signature; the page only
// needs the role and stores to offer the right choices.
export function tokenClaims(token) {
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

// Why a token cannot be used (a key of strings.js), or null.
export function tokenProblem(token) {
  const claims = tokenClaims(token);
  if (!claims || !["staff", "admin"].includes(claims.role)) return "token_malformed";
  if (typeof claims.exp === "number" && claims.exp * 1000 <= Date.now()) return "token_expired";
  return null;
}
