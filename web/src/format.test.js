import { afterEach, describe, expect, it } from "vitest";
import { axisNumber, calendarDay, clock, dateTime, showTimesIn, timeZoneShown, zoneAbbreviation } from "./format.js";

describe("axisNumber", () => {
  it("writes tiny values without an exponent", () => {
    expect(axisNumber(0.000045)).toBe("0.000045");
  });

  it("keeps three significant digits", () => {
    expect(axisNumber(1.23456)).toBe("1.23");
    expect(axisNumber(1234.5)).toBe("1,230");
  });

  it("writes zero as 0", () => {
    expect(axisNumber(0)).toBe("0");
  });
});

describe("instants on the account's clock", () => {
  afterEach(() => showTimesIn(null));

  it("are in UTC until the account's zone is known", () => {
    expect(dateTime("2026-07-02T07:00:00Z")).toBe("2026-07-02 07:00 UTC");
    expect(timeZoneShown()).toBe("UTC");
  });

  it("follow the account's zone, its summer time and its date", () => {
    showTimesIn("Europe/Berlin");
    expect(dateTime("2026-07-02T07:00:00Z")).toBe("2026-07-02 09:00 CEST");
    expect(dateTime("2026-12-02T23:30:00Z")).toBe("2026-12-03 00:30 CET");
    expect(clock("2026-12-02T23:30:00Z")).toBe("00:30");
    expect(calendarDay("2026-12-02T23:30:00Z")).toBe("2026-12-03");
    expect(zoneAbbreviation("2026-12-02T23:30:00Z")).toBe("CET");
  });

  it("write nothing for nothing", () => {
    expect(dateTime(null)).toBe("–");
    expect(clock(undefined)).toBe("");
  });
});
