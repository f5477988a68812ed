import { describe, expect, it } from "vitest";
import {
  END_REASONS,
  clearToken,
  decodeClaims,
  endReasonText,
  loadToken,
  saveToken,
  secondsLeft,
} from "./session.js";

const KEY = "ems.session";

// A JWT-shaped token (base64url, no padding) with these claims; not signed.
function tokenWith(claims) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}.signature`;
}

// A sessionStorage stand-in.
function fakeStorage(initial = {}) {
  const items = new Map(Object.entries(initial));
  return {
    items,
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => items.set(key, String(value)),
    removeItem: (key) => items.delete(key),
  };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe("decodeClaims", () => {
  it("reads the payload of a token", () => {
    const claims = { sub: "u1", role: "ADMIN", exp: 2000000000 };
    expect(decodeClaims(tokenWith(claims))).toEqual(claims);
  });

  it("reads base64url characters (- and _) correctly", () => {
    // This payload's base64url has both "-" and "_" (where base64 has "+" and "/").
    const claims = { sub: "~~~>>>???", exp: 1 };
    const token = tokenWith(claims);
    expect(token.split(".")[1]).toMatch(/-/);
    expect(token.split(".")[1]).toMatch(/_/);
    expect(decodeClaims(token)).toEqual(claims);
  });

  it("answers null for anything that is not a token", () => {
    expect(decodeClaims("not-a-token")).toBeNull();
    expect(decodeClaims("a.!!!.c")).toBeNull();
    expect(decodeClaims(`x.${Buffer.from("42").toString("base64url")}.y`)).toBeNull();
    expect(decodeClaims(`x.${Buffer.from("null").toString("base64url")}.y`)).toBeNull();
    expect(decodeClaims("")).toBeNull();
    expect(decodeClaims(null)).toBeNull();
    expect(decodeClaims(undefined)).toBeNull();
  });
});

describe("secondsLeft", () => {
  it("counts down to exp from the given time", () => {
    const token = tokenWith({ exp: 1000 });
    expect(secondsLeft(token, 400_000)).toBe(600);
    expect(secondsLeft(token, 1_000_000)).toBe(0);
    expect(secondsLeft(token, 1_500_000)).toBe(-500);
  });

  it("uses the current time by default", () => {
    const left = secondsLeft(tokenWith({ exp: nowSeconds() + 120 }));
    expect(left).toBeGreaterThan(115);
    expect(left).toBeLessThanOrEqual(120);
  });

  it("treats a token without a numeric exp, or no token, as expired", () => {
    expect(secondsLeft(tokenWith({ sub: "u1" }), 0)).toBeLessThan(0);
    expect(secondsLeft(tokenWith({ exp: "2000000000" }), 0)).toBeLessThan(0);
    expect(secondsLeft("garbage", 0)).toBeLessThan(0);
  });
});

describe("token storage", () => {
  it("saves, loads and clears the token under its key", () => {
    const storage = fakeStorage();
    const token = tokenWith({ exp: nowSeconds() + 3600 });
    saveToken(token, storage);
    expect(storage.items.get(KEY)).toBe(token);
    expect(loadToken(storage)).toBe(token);
    clearToken(storage);
    expect(storage.items.has(KEY)).toBe(false);
    expect(loadToken(storage)).toBeNull();
  });

  it("drops an expired token when loading it", () => {
    const storage = fakeStorage({ [KEY]: tokenWith({ exp: nowSeconds() - 10 }) });
    expect(loadToken(storage)).toBeNull();
    expect(storage.items.has(KEY)).toBe(false);
  });

  it("drops an unreadable token when loading it", () => {
    const storage = fakeStorage({ [KEY]: "garbage" });
    expect(loadToken(storage)).toBeNull();
    expect(storage.items.has(KEY)).toBe(false);
  });

  it("leaves other keys alone", () => {
    const storage = fakeStorage({ other: "kept", [KEY]: "garbage" });
    loadToken(storage);
    clearToken(storage);
    expect(storage.items.get("other")).toBe("kept");
  });

  it("answers null with no storage at all", () => {
    expect(loadToken(undefined)).toBeNull();
    expect(loadToken(null)).toBeNull();
  });
});

describe("endReasonText", () => {
  it("explains each reason the server gives", () => {
    expect(endReasonText("expired")).toBe("Your session expired. Please sign in again.");
    expect(endReasonText("user_deleted")).toBe("Your account was deleted.");
    expect(endReasonText("role_changed")).toMatch(/role changed/);
    expect(endReasonText("logout")).toMatch(/signed out/);
    expect(endReasonText("unauthorized")).toMatch(/no longer valid/);
    for (const [reason, text] of Object.entries(END_REASONS)) {
      expect(endReasonText(reason)).toBe(text);
    }
  });

  it("falls back to the revoked text for an unknown reason", () => {
    expect(endReasonText("something_new")).toBe(END_REASONS.revoked);
    expect(endReasonText(undefined)).toBe(END_REASONS.revoked);
  });
});
