import { afterEach, describe, expect, it } from "vitest";
import { describeMessage, describeNotification, describeOverconsumption } from "./describe.js";
import { showEnergyIn, showTimesIn } from "./format.js";
import { DEVICE_STATUS } from "./pushes.generated.js";

describe("describeNotification", () => {
  it("says a device went offline, and when it was last heard from", () => {
    const text = describeNotification({ reason: "offline", device_id: "d1", last_seen: "2026-11-22T10:15:00Z", hour: null, kwh: null }, "Boiler");
    expect(text).toBe("Boiler went offline (last heard from 2026-11-22 10:15 UTC).");
  });

  it("says a device is online", () => {
    expect(describeNotification({ reason: "online", last_seen: null })).toBe("A device is online (never heard from before).");
  });

  it("still describes overconsumption", () => {
    const text = describeNotification({ reason: "hourly", hour: "2026-11-22T18:00:00Z", kwh: 0.61, limit_kwh: 0.5 }, "Oven");
    expect(text).toBe("Oven used 0.610 kWh in the hour from 18:00 UTC, over its limit of 0.500 kWh.");
  });
});

describe("describeMessage", () => {
  it("names the device of a device.status message", () => {
    const message = { type: DEVICE_STATUS, data: { device_id: "d1", online: true, last_seen: "2026-11-22T10:15:00Z" } };
    expect(describeMessage(message, { d1: "Roof" })).toBe("Roof is online (last heard from 2026-11-22 10:15 UTC).");
  });
});

describe("an over-limit hour on the account's clock", () => {
  afterEach(() => showTimesIn(null));

  it("names the hour in the account's zone", () => {
    showTimesIn("Europe/Berlin");
    const data = { reason: "hourly", hour: "2026-12-02T09:00:00Z", kwh: 2, limit_kwh: 1 };
    expect(describeOverconsumption(data, "Boiler")).toBe(
      "Boiler used 2.000 kWh in the hour from 10:00 CET, over its limit of 1.000 kWh.",
    );
  });
});

describe("an over-limit hour in the account's unit", () => {
  afterEach(() => showEnergyIn(null));

  it("gives the energy and the limit in Wh", () => {
    showEnergyIn("Wh");
    const data = { reason: "hourly", hour: "2026-12-02T09:00:00Z", kwh: 0.61, limit_kwh: 0.5 };
    expect(describeOverconsumption(data, "Oven")).toBe("Oven used 610 Wh in the hour from 09:00 UTC, over its limit of 500 Wh.");
  });
});
