// Who is signed in, as the admin screens need it: the role, stores and regions the token
// names (session.js reads them from a pool ID token's groups or a local token's claims).
// For display only: the API decides what each call may do.
import { session } from "../session.js";

export function who() {
  const claims = session.claims;
  if (!claims) return null;
  return { role: claims.role, stores: claims.stores ?? [], regions: claims.regions ?? [], email: claims.sub ?? "" };
}

// Managers and admins administer; everyone chooses their own notifications.
export const administers = (person) => person?.role === "admin" || person?.role === "manager";
