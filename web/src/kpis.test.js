import { describe, expect, it } from "vitest";
import { hourOf, percent, power, rankedSites } from "./kpis.js";

describe("power", () => {
  it("writes watts below a kilowatt and kilowatts above", () => {
    expect(power(950.4)).toBe("950 W");
    expect(power(7400)).toBe("7.40 kW");
    expect(power(-3200)).toBe("-3.20 kW");
    expect(power(null)).toBe("–");
  });
});

describe("percent", () => {
  it("writes a share with one decimal", () => {
    expect(percent(0.4237)).toBe("42.4 %");
    expect(percent(null)).toBe("–");
  });
});

describe("rankedSites", () => {
  it("puts the biggest consumer first, ties by name", () => {
    const figures = [
      { id: "b", today_import_kwh: "2" },
      { id: "c", today_import_kwh: "9.5" },
      { id: "a", today_import_kwh: "2.0" },
      { id: "0123456789", today_import_kwh: "10" },
    ];
    const sites = [
      { id: "a", name: "A" },
      { id: "b", name: "B" },
      { id: "c", name: "C" },
    ];
    expect(rankedSites(figures, sites).map((site) => site.name)).toEqual(["01234567", "C", "A", "B"]);
  });
});

describe("hourOf", () => {
  it("writes the hour on the site's clock", () => {
    expect(hourOf("2026-10-25T17:00:00Z", "Europe/Berlin")).toBe("18:00");
  });

  it("names the browser's zone when the figures span several", () => {
    expect(hourOf("2026-10-25T17:00:00Z", null)).toMatch(/^\d\d:00 \S+/);
  });
});
