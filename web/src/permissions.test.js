import { describe, expect, it } from "vitest";
import { can, offered, OPERATIONS } from "./permissions.js";

// As GET /api/auth/me answers for each role (tests/unit/users/test_permissions.py).
const USER = { role: "USER", permissions: ["batteries.create", "devices.create"] };
const OPERATOR = {
  role: "OPERATOR",
  permissions: ["devices.create", "devices.read_all", "dr.create", "dr.read_all", "users.find_users"],
};
const ADMIN = {
  role: "ADMIN",
  permissions: [
    "devices.read_all",
    "dr.read_all",
    "monitoring.manage_dead_letters",
    "support.read_inbox",
    "users.manage_users",
    "users.read_users",
  ],
};
// Reads what staff read and changes nothing.
const VIEWER = {
  role: "VIEWER",
  permissions: ["devices.read_all", "dr.read_all", "support.read_inbox", "users.find_users", "users.read_users"],
};

describe("can", () => {
  it("is what the account's permissions list", () => {
    expect(can(USER, "devices.create")).toBe(true);
    expect(can(USER, "dr.read_all")).toBe(false);
    expect(can(OPERATOR, "dr.read_all")).toBe(true);
    expect(can(ADMIN, "users.manage_users")).toBe(true);
    expect(can(VIEWER, "users.read_users")).toBe(true);
    expect(can(VIEWER, "users.manage_users")).toBe(false);
    expect(can(VIEWER, "dr.create")).toBe(false);
  });

  it("never reads the role", () => {
    expect(can({ role: "ADMIN" }, "users.manage_users")).toBe(false);
    expect(can({ role: "ADMIN", permissions: [] }, "users.manage_users")).toBe(false);
  });

  it("is false for nobody and for a malformed answer", () => {
    expect(can(null, "devices.create")).toBe(false);
    expect(can(undefined, "devices.create")).toBe(false);
    expect(can({ permissions: "devices.create" }, "devices.create")).toBe(false);
    expect(can({ permissions: { "devices.create": true } }, "devices.create")).toBe(false);
  });
});

describe("offered", () => {
  const LINKS = [
    { to: "/devices" },
    { to: "/support", unless: "support.read_inbox" },
    { to: "/admin/support", may: "support.read_inbox" },
    { to: "/admin/users", may: "users.read_users" },
    { to: "/operations", may: OPERATIONS },
  ];
  const shown = (user) => offered(LINKS, user).map((link) => link.to);

  it("shows each item to the accounts that may use it", () => {
    expect(shown(USER)).toEqual(["/devices", "/support"]);
    expect(shown(OPERATOR)).toEqual(["/devices", "/support"]);
    expect(shown(ADMIN)).toEqual(["/devices", "/admin/support", "/admin/users", "/operations"]);
    expect(shown(VIEWER)).toEqual(["/devices", "/admin/support", "/admin/users"]);
  });

  it("shows nobody's items only to nobody", () => {
    expect(shown(null)).toEqual(["/devices", "/support"]);
  });
});
