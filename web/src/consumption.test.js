import { describe, expect, it } from "vitest";
import { applyTotals } from "./consumption.js";

const day = {
  device_id: "d1",
  date: "2026-11-22",
  unit: "kWh",
  hours: Array.from({ length: 24 }, (_, h) => ({
    hour: `2026-11-22T${String(h).padStart(2, "0")}:00:00Z`,
    kwh: h === 3 ? 0.5 : 0,
  })),
  total_kwh: 0.5,
};

describe("applyTotals", () => {
  it("moves the bars of this device and day, and the total with them", () => {
    const next = applyTotals(day, [
      { device_id: "d1", hour: "2026-11-22T03:00:00Z", kwh: 0.75 },
      { device_id: "d1", hour: "2026-11-22T10:00:00Z", kwh: 0.1 },
    ]);
    expect(next.hours[3].kwh).toBe(0.75);
    expect(next.hours[10].kwh).toBe(0.1);
    expect(next.total_kwh).toBe(0.85);
    expect(day.hours[3].kwh).toBe(0.5); // the shown day is not edited in place
  });

  it("ignores other devices and other days", () => {
    const next = applyTotals(day, [
      { device_id: "d2", hour: "2026-11-22T03:00:00Z", kwh: 9 },
      { device_id: "d1", hour: "2026-11-23T03:00:00Z", kwh: 9 },
    ]);
    expect(next).toBe(day);
  });

  it("waits for the day to load", () => {
    expect(applyTotals(null, [{ device_id: "d1", hour: "x", kwh: 1 }])).toBeNull();
  });
});
