// The access token: kept in memory and in this tab's sessionStorage (so a reload
// keeps the user signed in, and closing the tab forgets it), never in
// localStorage, a cookie or a URL other than the /ws handshake the contract asks
// for. The app signs out by itself when the token's `exp` comes.

const KEY = "ems.session";

export function decodeClaims(token) {
  try {
    const payload = token.split(".")[1];
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const claims = JSON.parse(json);
    return typeof claims === "object" && claims ? claims : null;
  } catch {
    return null;
  }
}

// Seconds until the token expires (negative once it has).
export function secondsLeft(token, now = Date.now()) {
  const claims = decodeClaims(token);
  if (!claims || typeof claims.exp !== "number") return -1;
  return claims.exp - now / 1000;
}

export function loadToken(storage = globalThis.sessionStorage) {
  const token = storage?.getItem(KEY) || null;
  if (token && secondsLeft(token) > 0) return token;
  storage?.removeItem(KEY);
  return null;
}

export function saveToken(token, storage = globalThis.sessionStorage) {
  storage?.setItem(KEY, token);
}

export function clearToken(storage = globalThis.sessionStorage) {
  storage?.removeItem(KEY);
}

// What the sign-in page tells a user whose session ended without them asking.
export const END_REASONS = {
  expired: "Your session expired. Please sign in again.",
  logout: "You were signed out from another window.",
  user_deleted: "Your account was deleted.",
  role_changed: "Your role changed. Please sign in again.",
  password_changed: "Your password was changed. Please sign in again.",
  revoked: "Your session was ended. Please sign in again.",
  unauthorized: "Your session is no longer valid. Please sign in again.",
};

export function endReasonText(reason) {
  return END_REASONS[reason] || END_REASONS.revoked;
}
