import { describe, expect, it } from "vitest";
import { addDays, addMonths, bucketLabel, change, drillRange, numeric, energyQuery, localDate, previousPeriod, rangeFor } from "./analytics.js";

// 23:30 UTC on 31 March 2026: already 1 April in Berlin, still 31 March in New York.
const NOW = new Date("2026-03-31T23:30:00Z");

describe("localDate", () => {
  it("is the calendar date in the zone", () => {
    expect(localDate(NOW, "UTC")).toBe("2026-03-31");
    expect(localDate(NOW, "Europe/Berlin")).toBe("2026-04-01");
    expect(localDate(NOW, "America/New_York")).toBe("2026-03-31");
  });
});

describe("date arithmetic", () => {
  it("crosses months and years", () => {
    expect(addDays("2026-02-28", 1)).toBe("2026-03-01");
    expect(addDays("2026-01-01", -1)).toBe("2025-12-31");
    expect(addMonths("2026-01-01", -11)).toBe("2025-02-01");
  });
});

describe("rangeFor", () => {
  it("takes today in the site's zone", () => {
    expect(rangeFor("today", { now: NOW, timeZone: "Europe/Berlin" })).toEqual({
      from: "2026-04-01",
      to: "2026-04-02",
      resolution: "hour",
    });
  });

  it("counts 7 and 30 days back from today, today included", () => {
    expect(rangeFor("7d", { now: NOW })).toEqual({ from: "2026-03-25", to: "2026-04-01", resolution: "day" });
    expect(rangeFor("30d", { now: NOW })).toEqual({ from: "2026-03-02", to: "2026-04-01", resolution: "day" });
  });

  it("takes 12 whole months, this one included", () => {
    expect(rangeFor("12m", { now: NOW })).toEqual({ from: "2025-04-01", to: "2026-04-01", resolution: "month" });
  });

  it("includes a custom range's last day", () => {
    const custom = { from: "2026-03-01", to: "2026-03-10", resolution: "day" };
    expect(rangeFor("custom", { now: NOW, custom })).toEqual({ from: "2026-03-01", to: "2026-03-11", resolution: "day" });
  });

  it("makes a custom range that ends before it starts one day long", () => {
    const custom = { from: "2026-03-10", to: "2026-03-01" };
    expect(rangeFor("custom", { now: NOW, custom })).toMatchObject({ from: "2026-03-10", to: "2026-03-11" });
  });
});

describe("previousPeriod", () => {
  it("is as many days just before", () => {
    expect(previousPeriod({ from: "2026-03-25", to: "2026-04-01", resolution: "day" })).toEqual({
      from: "2026-03-18",
      to: "2026-03-25",
      resolution: "day",
    });
  });

  it("is as many months just before", () => {
    expect(previousPeriod({ from: "2025-04-01", to: "2026-04-01", resolution: "month" })).toEqual({
      from: "2024-04-01",
      to: "2025-04-01",
      resolution: "month",
    });
  });
});

describe("energyQuery", () => {
  it("leaves the id out of the portfolio", () => {
    expect(energyQuery({ scope: "portfolio", id: "x", from: "2026-03-01", to: "2026-03-02", resolution: "hour" })).toBe(
      "?scope=portfolio&from=2026-03-01&to=2026-03-02&resolution=hour",
    );
    expect(energyQuery({ scope: "site", id: "s1", from: "2026-03-01", to: "2026-03-02", resolution: "day" })).toBe(
      "?scope=site&id=s1&from=2026-03-01&to=2026-03-02&resolution=day",
    );
  });
});

describe("bucketLabel", () => {
  it("writes hours in the zone", () => {
    expect(bucketLabel("2026-03-29T01:00:00Z", "hour", "Europe/Berlin")).toBe("03:00");
  });

  it("writes days and months", () => {
    expect(bucketLabel("2026-03-28T23:00:00Z", "day", "Europe/Berlin")).toBe("29 Mar");
    expect(bucketLabel("2026-02-28T23:00:00Z", "month", "Europe/Berlin")).toBe("Mar 2026");
  });
});

describe("change", () => {
  it("is the change in % with one decimal", () => {
    expect(change(12, 10)).toBe(20);
    expect(change(5, 15)).toBe(-66.7);
  });

  it("is null without a previous figure", () => {
    expect(change(5, 0)).toBeNull();
  });
});

describe("drillRange", () => {
  it("opens a month into its days", () => {
    expect(drillRange("2026-01-31T23:00:00Z", "month", "Europe/Berlin")).toEqual({
      preset: "custom",
      from: "2026-02-01",
      to: "2026-02-28",
      resolution: "day",
    });
  });

  it("opens a day into its hours", () => {
    expect(drillRange("2026-03-29T04:00:00Z", "day", "America/New_York")).toEqual({
      preset: "custom",
      from: "2026-03-29",
      to: "2026-03-29",
      resolution: "hour",
    });
  });
});

describe("numeric", () => {
  it("turns the exact decimal texts into numbers, a null cost kept", () => {
    const answer = {
      scope: "portfolio",
      series: [{ start: "2026-03-01", import_kwh: "1.5", export_kwh: "0", net_kwh: "1.5", cost: null, co2_kg: "0.6" }],
      totals: { import_kwh: "1.5", export_kwh: "0", net_kwh: "1.5", cost: null, co2_kg: "0.6" },
    };
    const result = numeric(answer);
    expect(result.series[0]).toEqual({ start: "2026-03-01", import_kwh: 1.5, export_kwh: 0, net_kwh: 1.5, cost: null, co2_kg: 0.6 });
    expect(result.totals.import_kwh).toBe(1.5);
    expect(result.scope).toBe("portfolio");
  });
});
