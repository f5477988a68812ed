import { describe, expect, it } from "vitest";
import { percent, power, rankedSites } from "./kpis.js";

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
    const sites = [
      { name: "B", today_import_kwh: 2 },
      { name: "C", today_import_kwh: 9 },
      { name: "A", today_import_kwh: 2 },
    ];
    expect(rankedSites(sites).map((site) => site.name)).toEqual(["C", "A", "B"]);
  });
});
