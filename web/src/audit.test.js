import { describe, expect, it } from "vitest";
import { actionLabel, actorLabel, auditQuery, detailsText, filterError, objectLabel, PAGE_SIZE } from "./audit.js";

describe("auditQuery", () => {
  it("asks for a page of the newest records when nothing is filtered", () => {
    expect(auditQuery()).toEqual({ limit: PAGE_SIZE });
    expect(auditQuery({ actor: "  ", action: "" })).toEqual({ limit: PAGE_SIZE });
  });

  it("names each filter as the API does, trimmed", () => {
    expect(
      auditQuery({ actor: " 7a2e ", action: "devices.", objectType: "device", objectId: "d-1" }, null, 20),
    ).toEqual({ limit: 20, actor_id: "7a2e", action: "devices.", object_type: "device", object_id: "d-1" });
  });

  it("takes whole UTC days, the last one included", () => {
    expect(auditQuery({ from: "2026-12-01", to: "2026-12-31" })).toEqual({
      limit: PAGE_SIZE,
      from: "2026-12-01T00:00:00Z",
      to: "2027-01-01T00:00:00Z",
    });
    expect(auditQuery({ from: "yesterday" })).toEqual({ limit: PAGE_SIZE });
  });

  it("goes on from a cursor", () => {
    expect(auditQuery({ action: "users." }, "abc")).toEqual({ limit: PAGE_SIZE, action: "users.", cursor: "abc" });
  });
});

describe("filterError", () => {
  it("puts the server's words on the form's field", () => {
    const details = { actor_id: ["not a valid id"], from: ["Not a valid datetime."] };
    expect(filterError(details, "actor")).toBe("not a valid id");
    expect(filterError(details, "from")).toBe("Not a valid datetime.");
    expect(filterError(details, "action")).toBeNull();
    expect(filterError(undefined, "actor")).toBeNull();
  });
});

describe("records in words", () => {
  it("names known actions and keeps unknown ones", () => {
    expect(actionLabel("users.role_changed")).toBe("Role changed");
    expect(actionLabel("alarms.acknowledged")).toBe("Alarm acknowledged");
    expect(actionLabel("meters.exploded")).toBe("meters.exploded");
  });

  it("says who did it, or the platform", () => {
    expect(actorLabel(null)).toBe("The platform");
    expect(actorLabel({ id: "u-1", role: "ADMIN" }, { "u-1": "Ada" })).toBe("Ada (ADMIN)");
    expect(actorLabel({ id: "u-gone", role: "USER" }, {})).toBe("u-gone (USER)");
  });

  it("names users among the objects", () => {
    expect(objectLabel({ type: "user", id: "u-1" }, { "u-1": "Ada" })).toBe("User Ada");
    expect(objectLabel({ type: "device", id: "d-1" })).toBe("Device d-1");
    expect(objectLabel({ type: "gizmo", id: "g" })).toBe("gizmo g");
  });

  it("shows a change as before → after, the rest as pairs", () => {
    expect(detailsText({ from: "USER", to: "OPERATOR" })).toBe("USER → OPERATOR");
    expect(detailsText({ user_id: "u-2", from: null, to: "viewer" })).toBe("none → viewer; user id: u-2");
    expect(detailsText({ type: "ping", params: {} })).toBe("type: ping; params: {}");
    expect(detailsText({})).toBe("");
    expect(detailsText(null)).toBe("");
  });
});
