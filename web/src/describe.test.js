import { describe, expect, it } from "vitest";
import { describeMessage, describeNotification } from "./describe.js";
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
