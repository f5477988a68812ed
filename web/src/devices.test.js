import { describe, expect, it } from "vitest";
import { applyStatus, copyText, loginSections, statusesById, watts } from "./devices.js";

const ID = "7a2e0c4e-5b1a-4c8e-9d3f-2b6a1c0e9f11";
const ANSWER = {
  device_id: ID,
  username: `ems-device-${ID}`,
  password: "kq3-secret",
  mqtt: {
    client_id: `ems-device-${ID}`,
    username: `ems:ems-device-${ID}`,
    port: 1884,
    publish_topic: `ems/devices/${ID}/reading`,
    command_topic: `ems/devices/${ID}/commands`,
  },
  amqp: { vhost: "ems", exchange: "ems.data", routing_key: `device.${ID}.reading` },
};

const rows = (sections) =>
  Object.fromEntries(sections.flatMap((s) => s.rows.map((r) => [`${s.title}/${r.label}`, r.value])));

describe("a device's login as shown", () => {
  it("has every part of the answer, under its section", () => {
    expect(rows(loginSections(ANSWER, "ems.example.org"))).toEqual({
      "Login/User name": `ems-device-${ID}`,
      "Login/Password": "kq3-secret",
      "MQTT/Host": "ems.example.org",
      "MQTT/Port": "1884",
      "MQTT/MQTT user name": `ems:ems-device-${ID}`,
      "MQTT/Client id": `ems-device-${ID}`,
      "MQTT/Publish topic": `ems/devices/${ID}/reading`,
      "MQTT/Command topic": `ems/devices/${ID}/commands`,
      "AMQP/Virtual host": "ems",
      "AMQP/Exchange": "ems.data",
      "AMQP/Routing key": `device.${ID}.reading`,
    });
  });

  it("marks only the password as the secret to copy", () => {
    const secrets = loginSections(ANSWER, "h").flatMap((s) => s.rows.filter((r) => r.secret));
    expect(secrets).toEqual([{ label: "Password", value: "kq3-secret", secret: true }]);
  });

  it("takes each value from the answer, not from a pattern", () => {
    const other = { ...ANSWER, mqtt: { ...ANSWER.mqtt, port: 2883, username: "u" } };
    const shown = rows(loginSections(other, "localhost"));
    expect(shown["MQTT/Port"]).toBe("2883");
    expect(shown["MQTT/MQTT user name"]).toBe("u");
    expect(shown["MQTT/Host"]).toBe("localhost");
  });
});

describe("copying", () => {
  it("writes the text to the clipboard", async () => {
    const written = [];
    expect(await copyText("pw", { writeText: async (t) => written.push(t) })).toBe(true);
    expect(written).toEqual(["pw"]);
  });

  it("says false when there is no clipboard or it refuses", async () => {
    expect(await copyText("pw", undefined)).toBe(false);
    expect(await copyText("pw", {})).toBe(false);
    const refusing = { writeText: async () => Promise.reject(new DOMException("denied", "NotAllowedError")) };
    expect(await copyText("pw", refusing)).toBe(false);
  });
});

describe("devices' status", () => {
  const statuses = statusesById([
    { device_id: "d1", online: false, last_seen: null, power_w: null },
    { device_id: "d2", online: true, last_seen: "2026-11-22T10:00:00Z", power_w: 40 },
  ]);

  it("is taken by device, and a push replaces one device's", () => {
    const next = applyStatus(statuses, { device_id: "d1", online: true, since: "2026-11-22T10:05:00Z", last_seen: "2026-11-22T10:05:00Z", power_w: 1650 });
    expect(next.d1).toMatchObject({ online: true, last_seen: "2026-11-22T10:05:00Z", power_w: 1650 });
    expect(next.d2).toBe(statuses.d2);
    expect(statuses.d1.online).toBe(false);
  });

  it("waits for the list to load", () => {
    expect(applyStatus(null, { device_id: "d1", online: true })).toBeNull();
  });

  it("writes power in whole watts", () => {
    expect(watts(1650.4)).toBe("1,650 W");
    expect(watts(-300)).toBe("-300 W");
    expect(watts(null)).toBe("–");
  });
});
