import { describe, expect, it } from "vitest";
import { conditionText, fieldsFor, isInherited, newRuleBody, ruleChanges, ruleForm, scopeText, sortedRules, typesForKind } from "./alarmRules.js";

const DEVICE = { id: "d1", room_id: "r1", site_id: "s1", kind: "heat_pump" };

// A rule as the API answers it, with `changes` laid over.
function rule(changes = {}) {
  return {
    id: "rule-1",
    name: "Too much",
    type: "energy_over",
    severity: "major",
    enabled: true,
    device_id: "d1",
    room_id: null,
    site_id: null,
    kind: null,
    threshold: 2,
    duration_min: null,
    device_limit: false,
    created_at: "2026-12-01T00:00:00Z",
    updated_at: "2026-12-01T00:00:00Z",
    permissions: { update: true, delete: true },
    ...changes,
  };
}

describe("the fields of a rule", () => {
  it("follow its type: threshold with its unit, duration", () => {
    expect(fieldsFor("energy_over")).toMatchObject({ threshold: { unit: "kWh" }, duration: false });
    expect(fieldsFor("power_over")).toMatchObject({ threshold: { unit: "W" }, duration: true });
    expect(fieldsFor("offline")).toEqual({ threshold: null, duration: true });
    expect(fieldsFor("no_reading")).toEqual({ threshold: null, duration: true });
    expect(fieldsFor("generation_below_forecast")).toMatchObject({ threshold: { unit: "%" }, duration: false });
    expect(fieldsFor("soc_below")).toMatchObject({ threshold: { unit: "%" }, duration: false });
    expect(fieldsFor("unknown")).toEqual({ threshold: null, duration: false });
  });

  it("offer a device the types its kind can raise", () => {
    expect(typesForKind("heat_pump")).toEqual(["energy_over", "power_over", "offline", "no_reading"]);
    expect(typesForKind("pv")).toContain("generation_below_forecast");
    expect(typesForKind("pv")).not.toContain("soc_below");
    expect(typesForKind("battery")).toContain("soc_below");
    expect(typesForKind(null)).toHaveLength(6);
  });
});

describe("a new rule's body", () => {
  it("for a device has its threshold as a number and no duration for energy", () => {
    const form = { ...ruleForm(null), name: " Heat pump hour ", threshold: "2.5", duration_min: "10" };
    expect(newRuleBody(form, { device_id: "d1" })).toEqual({
      name: "Heat pump hour",
      type: "energy_over",
      severity: "major",
      enabled: true,
      threshold: 2.5,
      duration_min: null,
      device_id: "d1",
    });
  });

  it("has a duration and no threshold for offline", () => {
    const form = { ...ruleForm(null, { type: "offline" }), name: "Gone", threshold: "5", duration_min: "15", severity: "critical" };
    expect(newRuleBody(form, { device_id: "d1" })).toMatchObject({ type: "offline", threshold: null, duration_min: 15, severity: "critical" });
  });

  it("has both for power, and sends what is not a number as typed for the server to name", () => {
    const form = { ...ruleForm(null, { type: "power_over" }), name: "Peak", threshold: "3000", duration_min: "abc" };
    expect(newRuleBody(form, { device_id: "d1" })).toMatchObject({ threshold: 3000, duration_min: "abc" });
    expect(newRuleBody({ ...form, threshold: "" }, { device_id: "d1" }).threshold).toBeNull();
  });

  it("on a site's page is for the site, its devices of a kind, or a room", () => {
    const form = { ...ruleForm(null), name: "Site", threshold: "10" };
    expect(newRuleBody(form, { site_id: "s1" })).toMatchObject({ site_id: "s1" });
    expect(newRuleBody(form, { site_id: "s1" })).not.toHaveProperty("kind");
    expect(newRuleBody({ ...form, scope: "kind", kind: "heat_pump" }, { site_id: "s1" })).toMatchObject({ site_id: "s1", kind: "heat_pump" });
    const room = newRuleBody({ ...form, scope: "room", room_id: "r1" }, { site_id: "s1" });
    expect(room).toMatchObject({ room_id: "r1" });
    expect(room).not.toHaveProperty("site_id");
  });
});

describe("a rule's form and changes", () => {
  it("read the rule as strings and send back what can change", () => {
    const form = ruleForm(rule({ type: "power_over", threshold: 3000, duration_min: 5 }));
    expect(form).toMatchObject({ name: "Too much", type: "power_over", severity: "major", enabled: true, threshold: "3000", duration_min: "5" });
    expect(ruleChanges({ ...form, enabled: false, threshold: "3500" }, rule({ type: "power_over" }))).toEqual({
      name: "Too much",
      severity: "major",
      enabled: false,
      threshold: 3500,
      duration_min: 5,
    });
  });

  it("send only severity and enabled for a device's own limit", () => {
    const limit = rule({ device_limit: true, threshold: 2 });
    const form = { ...ruleForm(limit), severity: "critical", threshold: "99" };
    expect(ruleChanges(form, limit)).toEqual({ severity: "critical", enabled: true });
  });

  it("take a site page's scope back from the rule", () => {
    expect(ruleForm(rule({ device_id: null, site_id: "s1", kind: "pv" })).scope).toBe("kind");
    expect(ruleForm(rule({ device_id: null, room_id: "r1" })).scope).toBe("room");
    expect(ruleForm(rule({ device_id: null, site_id: "s1" })).scope).toBe("site");
    expect(ruleForm(null)).toMatchObject({ enabled: true, severity: "major", threshold: "", duration_min: "" });
  });
});

describe("where a rule applies", () => {
  it("is said from the device's side, marking what it inherits", () => {
    expect(scopeText(rule(), { device: DEVICE })).toBe("This device");
    expect(isInherited(rule(), DEVICE)).toBe(false);
    const room = rule({ device_id: null, room_id: "r1" });
    expect(scopeText(room, { device: DEVICE })).toBe("Its room");
    expect(isInherited(room, DEVICE)).toBe(true);
    expect(scopeText(rule({ device_id: null, site_id: "s1" }), { device: DEVICE })).toBe("Its site");
    expect(scopeText(rule({ device_id: null, site_id: "s1", kind: "heat_pump" }), { device: DEVICE })).toBe("Heat pumps of its site");
    expect(scopeText(rule({ device_id: null, kind: "heat_pump" }), { device: DEVICE })).toBe("Every heat pump");
    expect(scopeText(rule({ device_id: null, kind: "ev_charger" }), { device: DEVICE })).toBe("Every EV charger");
  });

  it("is said from the site's side, rooms by name", () => {
    expect(scopeText(rule({ device_id: null, site_id: "s1" }))).toBe("The whole site");
    expect(scopeText(rule({ device_id: null, site_id: "s1", kind: "battery" }))).toBe("Batteries of the site");
    expect(scopeText(rule({ device_id: null, room_id: "r2" }), { roomNames: { r2: "Cellar" } })).toBe("Room Cellar");
    expect(scopeText(rule({ device_id: null, room_id: "r3" }))).toBe("A room");
  });
});

describe("a rule's condition", () => {
  it.each([
    [{ type: "energy_over", threshold: 2 }, "over 2 kWh in an hour"],
    [{ type: "power_over", threshold: 3000, duration_min: 5 }, "over 3,000 W for 5 min"],
    [{ type: "offline", threshold: null, duration_min: 15 }, "offline for 15 min"],
    [{ type: "no_reading", threshold: null, duration_min: 60 }, "no reading for 60 min"],
    [{ type: "generation_below_forecast", threshold: 30 }, "30 % below forecast"],
    [{ type: "soc_below", threshold: 15 }, "charge below 15 %"],
  ])("%o reads %s", (changes, expected) => {
    expect(conditionText(rule(changes))).toBe(expected);
  });
});

describe("rules", () => {
  it("are listed most severe first, then by name", () => {
    const list = [rule({ id: "1", name: "b", severity: "minor" }), rule({ id: "2", name: "z", severity: "critical" }), rule({ id: "3", name: "a", severity: "minor" })];
    expect(sortedRules(list).map((r) => r.id)).toEqual(["2", "3", "1"]);
  });
});
