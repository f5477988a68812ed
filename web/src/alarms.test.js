import { describe, expect, it } from "vitest";
import {
  actionBody,
  alarmsPath,
  appendPage,
  applyAlarm,
  bySeverity,
  countText,
  DEFAULT_STATUS,
  filtersFromSearch,
  matchesFilters,
  measure,
  mostSevere,
  originatorPath,
  searchFromFilters,
  severityLabel,
  severityRank,
  stateText,
  summarySeverity,
  typeLabel,
  unacknowledgedCount,
} from "./alarms.js";

const DEVICE = "11111111-1111-1111-1111-111111111111";
const SITE = "22222222-2222-2222-2222-222222222222";

// An alarm as the API answers it, with `changes` laid over.
function alarm(id, changes = {}) {
  return {
    id,
    type: "energy_over",
    severity: "major",
    originator: { type: "device", id: DEVICE, name: "Heat pump" },
    device_id: DEVICE,
    site_id: SITE,
    rule_id: null,
    status: "active",
    acknowledged: false,
    started_at: "2026-12-02T10:00:00Z",
    ended_at: null,
    updated_at: "2026-12-02T10:00:00Z",
    value: 3.2,
    threshold: 2,
    unit: "kWh",
    message: "Heat pump used 3.2 kWh in the hour from 09:00 UTC, over its 2 kWh limit",
    acknowledged_by: null,
    acknowledged_at: null,
    cleared_by: null,
    comment: null,
    permissions: { acknowledge: true, clear: true },
    ...changes,
  };
}

const ALL = { status: "any", severity: [], site_id: "", device_id: "", type: "" };

describe("severities", () => {
  it("are ordered most severe first, unknown ones last", () => {
    expect(["warning", "critical", "odd", "minor", "major"].sort(bySeverity)).toEqual(["critical", "major", "minor", "warning", "odd"]);
    expect(severityRank("critical")).toBe(0);
    expect(severityRank("warning")).toBe(3);
    expect(severityRank(undefined)).toBe(4);
    expect(mostSevere(["minor", "major", "warning"])).toBe("major");
    expect(mostSevere([])).toBeNull();
  });

  it("and types have labels, and an unknown one is shown as it came", () => {
    expect(severityLabel("critical")).toBe("Critical");
    expect(severityLabel("odd")).toBe("odd");
    expect(severityLabel(null)).toBe("–");
    expect(typeLabel("soc_below")).toBe("Battery charge low");
    expect(typeLabel("no_reading")).toBe("No readings");
    expect(typeLabel("new_type")).toBe("new_type");
  });
});

describe("the filters in the address", () => {
  it("are read with defaults, leaving out what is unknown", () => {
    expect(filtersFromSearch(new URLSearchParams(""))).toEqual({ status: DEFAULT_STATUS, severity: [], site_id: "", device_id: "", type: "" });
    expect(filtersFromSearch(new URLSearchParams("status=unack&severity=minor,critical,bogus,minor&type=offline&site_id=s1&device_id=d1"))).toEqual({
      status: "unack",
      severity: ["critical", "minor"],
      site_id: "s1",
      device_id: "d1",
      type: "offline",
    });
    expect(filtersFromSearch(new URLSearchParams("status=weird&type=weird")).status).toBe(DEFAULT_STATUS);
    expect(filtersFromSearch(new URLSearchParams("type=weird")).type).toBe("");
  });

  it("are written with only what differs from the defaults", () => {
    expect(searchFromFilters({ status: DEFAULT_STATUS, severity: [], site_id: "", device_id: "", type: "" })).toBe("");
    expect(searchFromFilters({ status: "cleared", severity: ["minor", "critical"], site_id: "s1", device_id: "", type: "power_over" })).toBe(
      "?status=cleared&severity=critical,minor&site_id=s1&type=power_over",
    );
  });

  it("survive a round trip", () => {
    const filters = { status: "ack", severity: ["major", "warning"], site_id: "s1", device_id: "d1", type: "soc_below" };
    expect(filtersFromSearch(new URLSearchParams(searchFromFilters(filters)))).toEqual(filters);
  });
});

describe("the API's query", () => {
  it("always names the status and the page size", () => {
    expect(alarmsPath({ status: "active", severity: [] })).toBe("/api/alarms?status=active&limit=50");
    expect(alarmsPath({})).toBe(`/api/alarms?status=${DEFAULT_STATUS}&limit=50`);
  });

  it("names the severities as a comma list, most severe first, and the others when set", () => {
    const path = alarmsPath({ status: "any", severity: ["warning", "critical"], site_id: SITE, device_id: DEVICE, type: "offline" });
    const params = new URL(path, "http://x").searchParams;
    expect(params.get("severity")).toBe("critical,warning");
    expect(path).toContain("severity=critical,warning&");
    expect(params.get("site_id")).toBe(SITE);
    expect(params.get("device_id")).toBe(DEVICE);
    expect(params.get("type")).toBe("offline");
    expect(params.get("before")).toBeNull();
  });

  it("asks for the page after a cursor", () => {
    const params = new URL(alarmsPath(ALL, { before: "abc==" }), "http://x").searchParams;
    expect(params.get("before")).toBe("abc==");
    expect(params.get("status")).toBe("any");
  });
});

describe("a pushed alarm against the filters", () => {
  it.each([
    ["any", {}, true],
    ["active", {}, true],
    ["active", { status: "cleared" }, false],
    ["cleared", { status: "cleared" }, true],
    ["cleared", {}, false],
    ["unack", {}, true],
    ["unack", { acknowledged: true }, false],
    ["unack", { status: "cleared" }, false],
    ["ack", { acknowledged: true }, true],
    ["ack", { acknowledged: true, status: "cleared" }, true],
    ["ack", {}, false],
  ])("status %s takes %o: %s", (status, changes, expected) => {
    expect(matchesFilters(alarm("a", changes), { ...ALL, status })).toBe(expected);
  });

  it("matches by severity, type, site and device", () => {
    const a = alarm("a");
    expect(matchesFilters(a, { ...ALL, severity: ["major", "critical"] })).toBe(true);
    expect(matchesFilters(a, { ...ALL, severity: ["critical"] })).toBe(false);
    expect(matchesFilters(a, { ...ALL, type: "energy_over" })).toBe(true);
    expect(matchesFilters(a, { ...ALL, type: "offline" })).toBe(false);
    expect(matchesFilters(a, { ...ALL, site_id: SITE })).toBe(true);
    expect(matchesFilters(a, { ...ALL, site_id: "other" })).toBe(false);
    expect(matchesFilters(a, { ...ALL, device_id: DEVICE })).toBe(true);
    expect(matchesFilters(a, { ...ALL, device_id: "other" })).toBe(false);
    expect(matchesFilters(alarm("s", { device_id: null, originator: { type: "site", id: SITE, name: "Home" } }), { ...ALL, device_id: DEVICE })).toBe(false);
    expect(matchesFilters(null, ALL)).toBe(false);
  });
});

describe("the list as alarms arrive", () => {
  const page = {
    alarms: [alarm("c", { started_at: "2026-12-02T12:00:00Z" }), alarm("b", { started_at: "2026-12-02T11:00:00Z" })],
    next: null,
  };
  const ACTIVE = { ...ALL, status: "active" };

  it("puts a new matching alarm in its place, newest first", () => {
    const newest = applyAlarm(page, alarm("d", { started_at: "2026-12-02T13:00:00Z" }), ACTIVE);
    expect(newest.alarms.map((a) => a.id)).toEqual(["d", "c", "b"]);
    const between = applyAlarm(page, alarm("x", { started_at: "2026-12-02T11:30:00Z" }), ACTIVE);
    expect(between.alarms.map((a) => a.id)).toEqual(["c", "x", "b"]);
  });

  it("replaces the row of an alarm it has", () => {
    const acked = alarm("b", { started_at: "2026-12-02T11:00:00Z", acknowledged: true, acknowledged_by: { id: "u", name: "Ann" } });
    const next = applyAlarm(page, acked, ACTIVE);
    expect(next.alarms.map((a) => a.id)).toEqual(["c", "b"]);
    expect(next.alarms[1].acknowledged_by.name).toBe("Ann");
  });

  it("lets go of an alarm that no longer matches, and ignores one that never did", () => {
    const cleared = applyAlarm(page, alarm("c", { started_at: "2026-12-02T12:00:00Z", status: "cleared" }), ACTIVE);
    expect(cleared.alarms.map((a) => a.id)).toEqual(["b"]);
    const other = applyAlarm(page, alarm("z", { severity: "warning" }), { ...ACTIVE, severity: ["critical"] });
    expect(other).toBe(page);
  });

  it("leaves an alarm older than those shown to the next page while there is one", () => {
    const more = { ...page, next: "cursor" };
    expect(applyAlarm(more, alarm("old", { started_at: "2026-12-01T00:00:00Z" }), ACTIVE)).toBe(more);
    expect(applyAlarm(page, alarm("old", { started_at: "2026-12-01T00:00:00Z" }), ACTIVE).alarms.map((a) => a.id)).toEqual(["c", "b", "old"]);
  });

  it("keeps an alarm once when the next page brings it again", () => {
    const pushed = applyAlarm(page, alarm("d", { started_at: "2026-12-02T13:00:00Z" }), ACTIVE);
    const next = appendPage(pushed, { alarms: [alarm("b"), alarm("a", { started_at: "2026-12-02T09:00:00Z" })], next: null });
    expect(next.alarms.map((a) => a.id)).toEqual(["d", "c", "b", "a"]);
    expect(next.next).toBeNull();
    expect(appendPage({ alarms: [], next: "x" }, { alarms: [], next: "y" }).next).toBe("y");
  });

  it("orders two that started together by id, whatever came first", () => {
    const same = "2026-12-02T12:00:00Z";
    const one = applyAlarm({ alarms: [alarm("a", { started_at: same })], next: null }, alarm("b", { started_at: same }), ACTIVE);
    const two = applyAlarm({ alarms: [alarm("b", { started_at: same })], next: null }, alarm("a", { started_at: same }), ACTIVE);
    expect(one.alarms.map((a) => a.id)).toEqual(two.alarms.map((a) => a.id));
  });
});

describe("an alarm's details", () => {
  it("link to the device or the site", () => {
    expect(originatorPath({ type: "device", id: "d1", name: "x" })).toBe("/devices/d1");
    expect(originatorPath({ type: "site", id: "s1", name: "x" })).toBe("/sites/s1");
    expect(originatorPath(null)).toBeNull();
  });

  it("say their state and values", () => {
    expect(stateText(alarm("a"))).toBe("Active, not acknowledged");
    expect(stateText(alarm("a", { status: "cleared", acknowledged: true }))).toBe("Cleared, acknowledged");
    expect(measure(3.2, "kWh")).toBe("3.2 kWh");
    expect(measure(1500, "W")).toBe("1,500 W");
    expect(measure(null, "W")).toBe("–");
    expect(measure(5, null)).toBe("5");
  });

  it("send a comment only when one was typed", () => {
    expect(actionBody("")).toEqual({});
    expect(actionBody("   ")).toEqual({});
    expect(actionBody(" on it ")).toEqual({ comment: "on it" });
  });
});

describe("the header's count", () => {
  it("is the active alarms not acknowledged, 0 while unknown", () => {
    expect(unacknowledgedCount({ active: 5, unacknowledged: 3, by_severity: {} })).toBe(3);
    expect(unacknowledgedCount(null)).toBe(0);
    expect(unacknowledgedCount({ unacknowledged: "x" })).toBe(0);
    expect(countText(1)).toBe("1 active alarm not acknowledged");
    expect(countText(4)).toBe("4 active alarms not acknowledged");
  });

  it("takes the colour of the most severe level with active alarms", () => {
    expect(summarySeverity({ by_severity: { critical: 0, major: 2, minor: 1, warning: 0 } })).toBe("major");
    expect(summarySeverity({ by_severity: { critical: 0, major: 0, minor: 0, warning: 0 } })).toBeNull();
    expect(summarySeverity(null)).toBeNull();
  });
});
