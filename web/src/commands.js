// A device's commands as the app works them out without the server: the types
// its kind takes (from `GET /api/command-types`, the platform's catalogue), the
// body of a command from its form, checked by the catalogue's bounds, the
// server's field errors named as the form's fields, and `command.updated`
// pushes merged into the history shown.

import { formError, flattenMessage } from "./batteries.js";

export const STATUS_LABELS = {
  pending: "Pending",
  delivered: "Delivered",
  acked: "Done",
  rejected: "Rejected",
  expired: "Expired",
};

// Statuses a command can still leave: it waits for its device.
export const OPEN_STATUSES = ["pending", "delivered"];

export const TYPE_LABELS = {
  ping: "Ping",
  switch: "Switch on or off",
  battery_setpoint: "Battery power",
  curtail: "Limit PV output",
  ev_current: "Charging current",
};

export const PARAM_LABELS = {
  on: "Switch",
  power_kw: "Power",
  max_percent: "Most output",
  amps: "Current",
};

// A parameter's label: its name in words, and its unit.
export function paramLabel(param) {
  const name = PARAM_LABELS[param.name] || param.name.replaceAll("_", " ");
  return param.unit ? `${name} (${param.unit})` : name;
}

// The types of the catalogue that a device of `kind` takes (`kinds` null: all).
export function typesFor(catalogue, kind) {
  return (catalogue || []).filter((type) => type.kinds === null || type.kinds === undefined || type.kinds.includes(kind));
}

// A type's form values before anything is typed: switches on, numbers empty.
export function blankParams(type) {
  return Object.fromEntries((type?.params || []).map((param) => [param.name, param.type === "boolean" ? "true" : ""]));
}

// The bounds of a number parameter, as a sentence: "between 0 and 100 %".
export function boundsText(param) {
  const unit = param.unit ? ` ${param.unit}` : "";
  const range = `between ${param.min} and ${param.max}${unit}`;
  if (param.min_nonzero) return `0 (off), or ${range.replace(`between ${param.min}`, `between ${param.min_nonzero}`)}`;
  return range;
}

// The message for a number parameter's value, or null when it is good.
function numberError(param, text) {
  if (text === "" || text === null || text === undefined) return param.required ? "Give a number." : null;
  const value = Number(text);
  if (!Number.isFinite(value)) return "Not a number.";
  const outside = (param.min !== null && value < param.min) || (param.max !== null && value > param.max);
  const inGap = param.min_nonzero && value > 0 && value < param.min_nonzero;
  if (outside || inGap) return `Must be ${boundsText(param)}.`;
  return null;
}

// The body of POST /api/devices/{id}/commands for `type` (a catalogue entry) and
// the form's `values`: { body } or { error } naming the fields, as the server would.
export function commandBody(type, values) {
  if (!type) return { error: formError("Choose a command.", { type: ["Choose a command."] }) };
  const params = {};
  const errors = {};
  for (const param of type.params) {
    const text = values?.[param.name];
    if (param.type === "boolean") {
      params[param.name] = text === true || text === "true";
      continue;
    }
    const message = numberError(param, text);
    if (message) errors[param.name] = [message];
    else if (text !== "" && text !== undefined) params[param.name] = Number(text);
  }
  if (Object.keys(errors).length) return { error: formError("Check the highlighted fields.", errors) };
  return { body: { type: type.type, params } };
}

// The server's 400 on a command, each parameter's message under its own name
// (the server nests them under `params`), as `Field` asks for them.
export function commandError(error) {
  if (!error?.details || Object.keys(error.details).length === 0) return error;
  const params = error.details.params;
  const nested = params && typeof params === "object" && !Array.isArray(params) ? params : {};
  return {
    message: error.message,
    status: error.status,
    details: error.details,
    field(name) {
      if (nested[name] !== undefined) return flattenMessage(nested[name]);
      const value = error.details[name];
      return value === undefined ? null : flattenMessage(value);
    },
  };
}

function rank(status) {
  const open = OPEN_STATUSES.indexOf(status);
  return open === -1 ? OPEN_STATUSES.length : open;
}

// What a command asked for, in a few words: "Switch on or off: on = true".
export function commandText(type, params) {
  const label = TYPE_LABELS[type] || type;
  const parts = Object.entries(params || {}).map(([name, value]) => `${name} = ${value}`);
  return parts.length ? `${label}: ${parts.join(", ")}` : label;
}

// The history with `command` (a `command.updated` push: the command without its
// history) applied: its status added to its history, once; a command of `deviceId`
// not shown yet (sent from another tab or by the platform) added on top.
export function applyCommandUpdate(list, command, deviceId) {
  if (!list || !command?.id || command.device_id !== deviceId) return list;
  const event = { status: command.status, detail: command.detail ?? null, at: command.updated_at };
  const index = list.findIndex((shown) => shown.id === command.id);
  if (index === -1) {
    const added = { ...command, history: [event] };
    return [added, ...list].sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
  }
  const shown = list[index];
  const history = shown.history || [];
  if (history.some((seen) => seen.status === command.status)) return list;
  // Two changes may arrive in either order; a status only moves forward
  // (pending, delivered, then an answer or expiry), so the later one counts.
  const newer = rank(command.status) > rank(shown.status);
  const merged = {
    ...shown,
    ...(newer && { status: command.status, detail: command.detail ?? null, updated_at: command.updated_at }),
    history: [...history, event].sort((a, b) => rank(a.status) - rank(b.status)),
  };
  return list.map((item, at) => (at === index ? merged : item));
}
