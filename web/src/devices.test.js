import { describe, expect, it } from "vitest";
import { copyText, loginSections } from "./devices.js";

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
