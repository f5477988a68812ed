import { afterEach, describe, expect, it } from "vitest";
import {
  axisNumber,
  calendarDay,
  clock,
  dateTime,
  energyAsTyped,
  energyFigure,
  energyNumber,
  energyUnitShown,
  inEnergyUnit,
  showEnergyIn,
  showTimesIn,
  timeZoneShown,
  zoneAbbreviation,
} from "./format.js";

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

describe("energy in the account's unit", () => {
  afterEach(() => showEnergyIn(null));

  it("is kWh until the account says otherwise", () => {
    expect(energyUnitShown()).toBe("kWh");
    expect(energyFigure(1.2344)).toBe("1.234 kWh");
    expect(energyFigure(12.5, 1)).toBe("12.5 kWh");
    expect(energyAsTyped(50)).toBe("50 kWh");
    expect(energyAsTyped(0.001)).toBe("0.001 kWh");
  });

  it("is Wh for an account that chose it, as precise as the kWh figure", () => {
    showEnergyIn("Wh");
    expect(energyUnitShown()).toBe("Wh");
    expect(energyFigure(1.2344)).toBe("1234 Wh");
    expect(energyFigure(0.5, 2)).toBe("500 Wh");
    expect(energyFigure(0.123456, 6)).toBe("123.456 Wh");
    expect(energyAsTyped(50)).toBe("50000 Wh");
    expect(energyAsTyped(0.001)).toBe("1 Wh");
    expect(energyNumber(2.25, 2)).toBe("2250");
  });

  it("gives charts and tables numbers in the unit, without float noise", () => {
    showEnergyIn("Wh");
    expect(inEnergyUnit(0.123456)).toBe(123.456);
    expect(inEnergyUnit(0.1 + 0.2)).toBe(300);
    expect(inEnergyUnit(null)).toBe(null);
    showEnergyIn("kWh");
    expect(inEnergyUnit(0.123456)).toBe(0.123456);
  });

  it("writes nothing known as a dash and no negative zero", () => {
    expect(energyFigure(null)).toBe("–");
    expect(energyFigure(undefined)).toBe("–");
    expect(energyFigure("not a number")).toBe("–");
    expect(energyNumber(-0.0001)).toBe("0.000");
    expect(energyAsTyped(null)).toBe("–");
  });

  it("falls back to kWh for a unit it does not know", () => {
    showEnergyIn("MWh");
    expect(energyFigure(1)).toBe("1.000 kWh");
    showEnergyIn("toString");
    expect(energyUnitShown()).toBe("kWh");
  });
});
