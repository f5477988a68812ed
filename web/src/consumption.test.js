import { describe, expect, it } from "vitest";
import { applyTotals, energyRows } from "./consumption.js";

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

describe("import, export and net", () => {
  it("are worked out per hour, net being import − export, with the day's totals", () => {
    const day = {
      hours: [
        { hour: "2026-11-22T11:00:00Z", kwh: 0.2, export_kwh: 1.5 },
        { hour: "2026-11-22T18:00:00Z", kwh: 1.1, export_kwh: 0 },
      ],
    };
    const { hours, totals } = energyRows(day);
    expect(hours.map((row) => row.net)).toEqual([-1.3, 1.1]);
    expect(totals).toEqual({ import: 1.3, export: 1.5, net: -0.2 });
  });

  it("counts a live update's export too", () => {
    const shown = { device_id: "d1", hours: [{ hour: "h", kwh: 0, export_kwh: 0 }], total_kwh: 0, total_export_kwh: 0 };
    const next = applyTotals(shown, [{ device_id: "d1", hour: "h", kwh: 0.1, export_kwh: 0.4 }]);
    expect(next.total_export_kwh).toBe(0.4);
    expect(next.hours[0].export_kwh).toBe(0.4);
  });
});
