import { describe, expect, it } from "vitest";
import {
  applyState,
  controlBody,
  planTimeline,
  fixed,
  batteryBody,
  DEFAULT_LOAD,
  flattenMessage,
  formatList,
  hourLabel,
  hourStart,
  parseList,
  PRICE_PRESETS,
  rotate,
  scheduleBody,
  scheduleError,
  signedPower,
} from "./batteries.js";

describe("price and load profiles", () => {
  it("have 24 hours each", () => {
    for (const preset of Object.values(PRICE_PRESETS)) {
      expect(preset.import).toHaveLength(24);
      expect(preset.export).toHaveLength(24);
    }
    expect(DEFAULT_LOAD).toHaveLength(24);
  });

  it("make the evening dearer than the night by default", () => {
    const { import: prices } = PRICE_PRESETS.tou;
    expect(prices[18]).toBeGreaterThan(prices[3]);
  });
});

describe("parseList", () => {
  it("reads numbers separated by commas, semicolons or spaces", () => {
    expect(parseList("1, 2;3 4\n-0.5", { count: 5 })).toEqual({ values: [1, 2, 3, 4, -0.5] });
  });

  it("reads back what formatList writes", () => {
    expect(parseList(formatList(DEFAULT_LOAD)).values).toEqual(DEFAULT_LOAD);
  });

  it("counts the values", () => {
    expect(parseList("1, 2", { count: 3 }).error).toMatch(/Give 3 numbers.*2 given/);
  });

  it("names the value that is not a number, by its hour", () => {
    expect(parseList("1, x, 3", { count: 3 }).error).toMatch(/Value 2 \(01:00\).*“x”/);
  });

  it("keeps values in range", () => {
    expect(parseList("1, 2000", { count: 2, min: -1000, max: 1000 }).error).toMatch(/Value 2/);
  });
});

describe("hours", () => {
  it("rotates a day's profile to start at an hour", () => {
    expect(rotate([0, 1, 2, 3], 1)).toEqual([1, 2, 3, 0]);
    expect(rotate([0, 1, 2, 3], 6)).toEqual([2, 3, 0, 1]);
    expect(rotate([0, 1, 2, 3], 0)).toEqual([0, 1, 2, 3]);
  });

  it("labels hours past midnight", () => {
    expect(hourLabel(5)).toBe("05:00");
    expect(hourLabel(25)).toBe("01:00");
  });

  it("finds the start of the current UTC hour", () => {
    expect(hourStart(new Date("2026-11-22T20:14:53.123Z"))).toBe("2026-11-22T20:00:00Z");
  });
});

describe("scheduleBody", () => {
  const form = {
    importPrices: formatList(PRICE_PRESETS.tou.import),
    exportPrices: formatList(PRICE_PRESETS.tou.export),
    loadSource: "profile",
    load: formatList(DEFAULT_LOAD),
  };

  it("sends the profiles from the current hour on", () => {
    const { body } = scheduleBody(form, 20);
    expect(body.import_prices).toHaveLength(24);
    expect(body.import_prices[0]).toBe(PRICE_PRESETS.tou.import[20]);
    expect(body.import_prices[4]).toBe(PRICE_PRESETS.tou.import[0]);
    expect(body.load_kwh[0]).toBe(DEFAULT_LOAD[20]);
    expect(body).not.toHaveProperty("load_device_id");
  });

  it("names a device to forecast instead of the load", () => {
    const { body } = scheduleBody({ ...form, loadSource: "dev-1", load: "broken" }, 0);
    expect(body.load_device_id).toBe("dev-1");
    expect(body).not.toHaveProperty("load_kwh");
  });

  it("gives field errors like the server's", () => {
    const { error, body } = scheduleBody({ ...form, exportPrices: "1, 2" }, 0);
    expect(body).toBeUndefined();
    expect(error.field("export_prices")).toMatch(/Give 24 numbers/);
    expect(error.field("import_prices")).toBeNull();
    expect(Object.keys(error.details)).toEqual(["export_prices"]);
  });
});

describe("server errors", () => {
  it("flattens per-item messages", () => {
    expect(flattenMessage({ 3: ["Too big."] })).toBe("3: Too big.");
    expect(flattenMessage(["a", "b"])).toBe("a b");
    expect(flattenMessage(undefined)).toBeNull();
  });

  it("names list items by the hour of the day they stand at", () => {
    const error = { status: 400, message: "invalid request", details: { import_prices: { 2: ["Must be …"] }, load_kwh: ["x"] } };
    const readable = scheduleError(error, 22);
    expect(readable.field("import_prices")).toBe("at 00:00: Must be …");
    expect(readable.field("load_kwh")).toBe("x");
    expect(readable.field("export_prices")).toBeNull();
    expect(readable.message).toBe("invalid request");
  });
});

describe("batteryBody", () => {
  it("leaves out empty optional fields", () => {
    expect(
      batteryBody({ device_id: "d", capacity_kwh: "10", max_charge_kw: "5", max_discharge_kw: "4", efficiency: "", min_soc: "0.1", max_soc: "", soc_kwh: "" }),
    ).toEqual({ device_id: "d", capacity_kwh: 10, max_charge_kw: 5, max_discharge_kw: 4, min_soc: 0.1 });
  });
});

describe("applyState", () => {
  const list = [
    { id: "a", soc_kwh: 1, soc_fraction: 0.1, mode: "idle", power_kw: 0, updated_at: "t0" },
    { id: "b", soc_kwh: 2, soc_fraction: 0.2, mode: "idle", power_kw: 0, updated_at: "t0" },
  ];

  it("updates the battery it names", () => {
    const next = applyState(list, { battery_id: "b", soc_kwh: 3, soc_fraction: 0.3, mode: "charging", power_kw: 2 }, "t1");
    expect(next[1]).toEqual({ id: "b", soc_kwh: 3, soc_fraction: 0.3, mode: "charging", power_kw: 2, updated_at: "t1" });
    expect(next[0]).toBe(list[0]);
    expect(list[1].mode).toBe("idle");
  });

  it("leaves the list alone for another battery, or before it loads", () => {
    expect(applyState(list, { battery_id: "z", mode: "charging" })).toBe(list);
    expect(applyState(null, { battery_id: "a" })).toBeNull();
  });
});

describe("signedPower", () => {
  it("draws discharging below the axis", () => {
    expect(signedPower({ action: "charge", power_kw: 2 })).toBe(2);
    expect(signedPower({ action: "discharge", power_kw: 2 })).toBe(-2);
    expect(signedPower({ action: "idle", power_kw: 0 })).toBe(0);
  });
});

describe("fixed", () => {
  it("writes no negative zero", () => {
    expect(fixed(-0.0001, 2)).toBe("0.00");
    expect(fixed(-0.5, 2)).toBe("-0.50");
    expect(fixed(null)).toBe("–");
  });
});

describe("switching control", () => {
  const form = {
    importPrices: formatList(PRICE_PRESETS.flat.import),
    exportPrices: formatList(PRICE_PRESETS.flat.export),
    loadSource: "profile",
    load: formatList(DEFAULT_LOAD),
  };

  it("to manual needs nothing else", () => {
    expect(controlBody("manual", form, 5)).toEqual({ body: { control: "manual" } });
  });

  it("to auto takes the plan's prices and use from the current hour", () => {
    const { body } = controlBody("auto", form, 5);
    expect(body.control).toBe("auto");
    expect(body.plan.load_kwh[0]).toBe(DEFAULT_LOAD[5]);
    expect(body.plan.import_prices).toHaveLength(24);
  });

  it("to auto names a bad list", () => {
    expect(controlBody("auto", { ...form, importPrices: "1, 2" }, 0).error.field("import_prices")).toContain("24 numbers");
  });
});

describe("the plan against what was executed", () => {
  it("puts steps and control intervals on one time line, reported charge where there is one", () => {
    const timeline = planTimeline({
      steps: [
        { index: 0, starts_at: "2026-11-22T18:00:00Z", power_kw: 2.5, soc_kwh_start: 5, soc_kwh_end: 7.4 },
        { index: 1, starts_at: "2026-11-22T19:00:00Z", power_kw: -1, soc_kwh_start: 7.4, soc_kwh_end: 6.3 },
      ],
      intervals: [
        { starts_at: "2026-11-22T18:15:00Z", planned_power_kw: 2.5, planned_soc_kwh: 5.6, reported_soc_kwh: 5.5, replanned: null, command_id: "c2", command_status: "acked" },
        { starts_at: "2026-11-22T18:00:00Z", planned_power_kw: 2.5, planned_soc_kwh: 5, reported_soc_kwh: null, replanned: "no plan", command_id: "c1", command_status: "expired" },
      ],
    });
    expect(timeline.map((p) => [p.at.slice(11, 16), p.planned_soc_kwh, p.reported_soc_kwh, p.command_status])).toEqual([
      ["18:00", 5, null, "expired"],
      ["18:15", 5.6, 5.5, "acked"],
      ["19:00", 7.4, null, null],
    ]);
  });

  it("gives each interval's command the status it has now", () => {
    const plan = {
      steps: [],
      intervals: [
        { starts_at: "2026-11-22T18:00:00Z", planned_power_kw: 1, planned_soc_kwh: 5, reported_soc_kwh: 5, replanned: null, command_id: "c1", command_status: "pending" },
        { starts_at: "2026-11-22T18:15:00Z", planned_power_kw: 1, planned_soc_kwh: 5.2, reported_soc_kwh: null, replanned: null, command_id: "c2", command_status: "delivered" },
      ],
    };
    const timeline = planTimeline(plan, [{ id: "c1", status: "acked" }, { id: "c9", status: "rejected" }]);
    expect(timeline.map((p) => p.command_status)).toEqual(["acked", "delivered"]);
  });

  it("is empty for a manual battery", () => {
    expect(planTimeline({ steps: [], intervals: [] })).toEqual([]);
    expect(planTimeline(null)).toEqual([]);
  });
});
