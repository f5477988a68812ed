import { describe, expect, it } from "vitest";
import { applyCommandUpdate, blankParams, commandBody, commandError, commandText, paramLabel, typesFor } from "./commands.js";

// As GET /api/command-types answers.
const CATALOGUE = [
  { type: "ping", kinds: null, params: [] },
  { type: "switch", kinds: ["appliance", "ev_charger", "heat_pump"], params: [{ name: "on", type: "boolean", required: true, min: null, max: null, unit: null, min_nonzero: null }] },
  { type: "battery_setpoint", kinds: ["battery"], params: [{ name: "power_kw", type: "number", required: true, min: -100, max: 100, unit: "kW", min_nonzero: null }] },
  { type: "curtail", kinds: ["pv"], params: [{ name: "max_percent", type: "number", required: true, min: 0, max: 100, unit: "%", min_nonzero: null }] },
  { type: "ev_current", kinds: ["ev_charger"], params: [{ name: "amps", type: "number", required: true, min: 0, max: 80, unit: "A", min_nonzero: 6 }] },
];
const type = (name) => CATALOGUE.find((t) => t.type === name);

describe("the types a device takes", () => {
  it("are ping and those that name its kind", () => {
    expect(typesFor(CATALOGUE, "ev_charger").map((t) => t.type)).toEqual(["ping", "switch", "ev_current"]);
    expect(typesFor(CATALOGUE, "meter").map((t) => t.type)).toEqual(["ping"]);
    expect(typesFor(null, "meter")).toEqual([]);
  });
});

describe("a command's body", () => {
  it("is the type with its parameters as numbers and booleans", () => {
    expect(commandBody(type("switch"), blankParams(type("switch")))).toEqual({ body: { type: "switch", params: { on: true } } });
    expect(commandBody(type("switch"), { on: "false" }).body.params).toEqual({ on: false });
    expect(commandBody(type("battery_setpoint"), { power_kw: "-2.5" }).body.params).toEqual({ power_kw: -2.5 });
    expect(commandBody(type("ping"), {})).toEqual({ body: { type: "ping", params: {} } });
  });

  it.each([
    ["curtail", { max_percent: "101" }, "max_percent", "between 0 and 100 %"],
    ["curtail", { max_percent: "-1" }, "max_percent", "between 0 and 100 %"],
    ["curtail", { max_percent: "" }, "max_percent", "Give a number."],
    ["battery_setpoint", { power_kw: "abc" }, "power_kw", "Not a number."],
    ["ev_current", { amps: "3" }, "amps", "0 (off), or between 6 and 80 A"],
    ["ev_current", { amps: "81" }, "amps", "between 6 and 80 A"],
  ])("refuses %s with %o on its field", (name, values, field, message) => {
    const { body, error } = commandBody(type(name), values);
    expect(body).toBeUndefined();
    expect(error.field(field)).toContain(message);
  });

  it("takes the bounds themselves and an EV charger's 0", () => {
    expect(commandBody(type("curtail"), { max_percent: "100" }).body.params).toEqual({ max_percent: 100 });
    expect(commandBody(type("ev_current"), { amps: "0" }).body.params).toEqual({ amps: 0 });
    expect(commandBody(type("ev_current"), { amps: "6" }).body.params).toEqual({ amps: 6 });
  });

  it("needs a type", () => {
    expect(commandBody(undefined, {}).error.field("type")).toBe("Choose a command.");
  });
});

describe("the server's refusal", () => {
  it("names each parameter under its own field, and the type under `type`", () => {
    const error = commandError({ status: 400, message: "invalid request", details: { params: { amps: ["0 pauses"] }, type: ["a pv device does not take switch"] } });
    expect(error.field("amps")).toBe("0 pauses");
    expect(error.field("type")).toBe("a pv device does not take switch");
    expect(error.field("on")).toBeNull();
  });

  it("passes an error without fields as it is", () => {
    const error = { status: 503, message: "down", details: {} };
    expect(commandError(error)).toBe(error);
  });
});

describe("command.updated on the history", () => {
  const sent = {
    id: "c1",
    device_id: "d1",
    type: "switch",
    params: { on: true },
    status: "pending",
    created_at: "2026-11-22T18:00:00Z",
    updated_at: "2026-11-22T18:00:00Z",
    detail: null,
    history: [{ status: "pending", detail: null, at: "2026-11-22T18:00:00Z" }],
  };

  it("moves a shown command on and adds the step to its history", () => {
    const next = applyCommandUpdate([sent], { ...sent, status: "acked", detail: "switched on", updated_at: "2026-11-22T18:00:01Z" }, "d1");
    expect(next[0].status).toBe("acked");
    expect(next[0].detail).toBe("switched on");
    expect(next[0].history.map((e) => e.status)).toEqual(["pending", "acked"]);
    expect(sent.status).toBe("pending");
  });

  it("keeps the later status when the changes arrive out of order", () => {
    const acked = applyCommandUpdate([sent], { ...sent, status: "acked", updated_at: "2026-11-22T18:00:01Z" }, "d1");
    const next = applyCommandUpdate(acked, { ...sent, status: "delivered", updated_at: "2026-11-22T18:00:00Z" }, "d1");
    expect(next[0].status).toBe("acked");
    expect(next[0].history.map((e) => e.status)).toEqual(["pending", "delivered", "acked"]);
  });

  it("adds a status once, however often it is pushed", () => {
    const list = [sent];
    expect(applyCommandUpdate(list, sent, "d1")).toBe(list);
  });

  it("puts a command not shown yet on top, and ignores other devices'", () => {
    const newer = { ...sent, id: "c2", created_at: "2026-11-22T18:05:00Z", status: "delivered" };
    const next = applyCommandUpdate([sent], newer, "d1");
    expect(next.map((c) => c.id)).toEqual(["c2", "c1"]);
    expect(next[0].history).toEqual([{ status: "delivered", detail: null, at: newer.updated_at }]);
    const list = [sent];
    expect(applyCommandUpdate(list, { ...newer, device_id: "d2" }, "d1")).toBe(list);
    expect(applyCommandUpdate(null, newer, "d1")).toBeNull();
  });
});

describe("a command in words", () => {
  it("is its type's label and its parameters", () => {
    expect(commandText("switch", { on: false })).toBe("Switch on or off: on = false");
    expect(commandText("ping", {})).toBe("Ping");
  });
});

describe("a parameter's label", () => {
  it("names it in words with its unit", () => {
    expect(paramLabel(type("ev_current").params[0])).toBe("Current (A)");
    expect(paramLabel(type("switch").params[0])).toBe("Switch");
    expect(paramLabel({ name: "new_thing", unit: null })).toBe("new thing");
  });
});
