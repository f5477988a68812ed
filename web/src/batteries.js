// What the batteries page works out without the server: price and load profiles,
// the body of a schedule request, live state merged into the list, and errors that
// name list items by the hour they are for.

export const HOURS = 24;

// Tariffs by UTC hour of the day (00:00 first), per kWh.
export const PRICE_PRESETS = {
  tou: {
    label: "Time of use: cheap at night, evening peak",
    import: [
      0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.18, 0.26, 0.26, 0.26, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0.28, 0.38, 0.38, 0.38,
      0.38, 0.26, 0.14, 0.14,
    ],
    export: Array(HOURS).fill(0.05),
  },
  solar: {
    label: "Spot market: midday solar dip, evening peak",
    import: [
      0.14, 0.12, 0.11, 0.11, 0.12, 0.15, 0.22, 0.3, 0.26, 0.16, 0.08, 0.02, -0.02, 0.01, 0.06, 0.14, 0.24, 0.36, 0.42,
      0.38, 0.3, 0.24, 0.19, 0.16,
    ],
    export: [
      0.06, 0.05, 0.04, 0.04, 0.05, 0.06, 0.1, 0.14, 0.12, 0.07, 0.03, 0, -0.03, 0, 0.02, 0.06, 0.11, 0.17, 0.2, 0.18,
      0.14, 0.11, 0.08, 0.07,
    ],
  },
  flat: {
    label: "Flat rate",
    import: Array(HOURS).fill(0.25),
    export: Array(HOURS).fill(0.08),
  },
};

export const DEFAULT_PRESET = "tou";

// A household's use by UTC hour of the day: low at night, morning and evening peaks.
export const DEFAULT_LOAD = [
  0.3, 0.25, 0.25, 0.25, 0.3, 0.4, 0.7, 0.9, 0.6, 0.4, 0.35, 0.4, 0.5, 0.4, 0.35, 0.4, 0.6, 1.1, 1.4, 1.3, 1.0, 0.8,
  0.6, 0.4,
];

export function formatList(values) {
  return values.map((value) => String(value)).join(", ");
}

// Numbers from what a person typed: separated by commas, semicolons or spaces.
// Returns { values } or { error } (a sentence for the field).
export function parseList(text, { count = HOURS, min = -Infinity, max = Infinity } = {}) {
  const parts = String(text ?? "")
    .split(/[\s,;]+/)
    .filter((part) => part !== "");
  if (parts.length !== count) {
    return { error: `Give ${count} numbers, one per hour (${parts.length} given).` };
  }
  const values = [];
  for (const [index, part] of parts.entries()) {
    const value = Number(part);
    if (!Number.isFinite(value)) {
      return { error: `Value ${index + 1} (${hourLabel(index)}) is not a number: “${part}”.` };
    }
    if (value < min || value > max) {
      return { error: `Value ${index + 1} (${hourLabel(index)}) must be between ${min} and ${max}.` };
    }
    values.push(value);
  }
  return { values };
}

// "05:00" for hour 5 of the day.
export function hourLabel(hour) {
  return `${String(((hour % 24) + 24) % 24).padStart(2, "0")}:00`;
}

// A day's profile (00:00 first) as the hours from `start` on: a plan starts now.
export function rotate(values, start) {
  const shift = ((start % values.length) + values.length) % values.length;
  return [...values.slice(shift), ...values.slice(0, shift)];
}

// The start of the UTC hour `now` is in, as ISO text ("2026-11-22T20:00:00Z").
export function hourStart(now = new Date()) {
  const date = new Date(now);
  date.setUTCMinutes(0, 0, 0);
  return date.toISOString().replace(".000Z", "Z");
}

// An error a form shows like the server's: a message, the fields it names and
// field(name) for each of them.
export function formError(message, details = {}) {
  return {
    message,
    details,
    field(name) {
      return flattenMessage(details[name]);
    },
  };
}

// Marshmallow's per-item messages ({"3": ["..."]}) as one sentence; `label(key)`
// names an item.
export function flattenMessage(value, label = (key) => key) {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map((item) => flattenMessage(item, label)).join(" ");
  if (typeof value === "object") {
    return Object.entries(value)
      .map(([key, inner]) => `${label(key)}: ${flattenMessage(inner, label)}`)
      .join(" ");
  }
  return String(value);
}

// The server's error on a schedule, its list items named by the hour of the day
// they stand at in the form (the request's list starts at `startHour`).
export function scheduleError(error, startHour) {
  if (!error?.details || Object.keys(error.details).length === 0) return error;
  const label = (key) => (/^\d+$/.test(key) ? `at ${hourLabel(startHour + Number(key))}` : key);
  return {
    message: error.message,
    status: error.status,
    details: error.details,
    field(name) {
      const value = error.details[name];
      return value === undefined ? null : flattenMessage(value, label);
    },
  };
}

// The body of POST /api/batteries/{id}/schedule from the form, or the form's
// errors. Profiles are by hour of the day; the plan starts at `startHour`.
export function scheduleBody(form, startHour) {
  const errors = {};
  const body = {};
  const lists = [
    ["import_prices", form.importPrices, { min: -1000, max: 1000 }],
    ["export_prices", form.exportPrices, { min: -1000, max: 1000 }],
  ];
  if (form.loadSource === "profile") lists.push(["load_kwh", form.load, { min: -100000, max: 100000 }]);
  for (const [name, text, range] of lists) {
    const parsed = parseList(text, range);
    if (parsed.error) errors[name] = [parsed.error];
    else body[name] = rotate(parsed.values, startHour);
  }
  if (form.loadSource !== "profile") body.load_device_id = form.loadSource;
  if (Object.keys(errors).length) return { error: formError("Check the highlighted fields.", errors) };
  return { body };
}

// The body of POST /api/batteries: numbers for what was typed, optional ones left
// out when empty so the server's defaults apply.
export function batteryBody(form) {
  const body = {
    device_id: form.device_id,
    capacity_kwh: Number(form.capacity_kwh),
    max_charge_kw: Number(form.max_charge_kw),
    max_discharge_kw: Number(form.max_discharge_kw),
  };
  for (const name of ["efficiency", "min_soc", "max_soc", "soc_kwh"]) {
    if (form[name] !== "" && form[name] !== null && form[name] !== undefined) body[name] = Number(form[name]);
  }
  return body;
}

// The list with one battery's live state (`battery.state` data) applied.
export function applyState(list, state, at) {
  if (!list || !state?.battery_id) return list;
  let changed = false;
  const next = list.map((battery) => {
    if (battery.id !== state.battery_id) return battery;
    changed = true;
    const update = { ...battery };
    for (const name of ["soc_kwh", "soc_fraction", "mode", "power_kw"]) {
      if (state[name] !== undefined) update[name] = state[name];
    }
    if (at) update.updated_at = at;
    return update;
  });
  return changed ? next : list;
}

export const MODE_LABELS = { idle: "Idle", charging: "Charging", discharging: "Discharging" };
export const ACTION_LABELS = { charge: "Charge", discharge: "Discharge", idle: "Idle" };

// A number to `digits` decimals, without a "-0.00" for a tiny negative.
export function fixed(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "–";
  const text = Number(value).toFixed(digits);
  return Number(text) === 0 ? (0).toFixed(digits) : text;
}

export function percent(fraction, digits = 0) {
  if (fraction === null || fraction === undefined || Number.isNaN(Number(fraction))) return "–";
  return `${(Number(fraction) * 100).toFixed(digits)} %`;
}

// Power as the chart draws it: charging up, discharging down.
export function signedPower(hour) {
  if (hour.action === "charge") return hour.power_kw;
  if (hour.action === "discharge") return -hour.power_kw;
  return 0;
}

// A power to two decimals, "2.50 kW"; "–" for a missing one.
export function kw(value) {
  if (value === null || value === undefined) return "–";
  return `${fixed(value, 2)} kW`;
}

// The body of PUT /api/batteries/{id}/control: `manual`, or `auto` with the plan
// worked out for the form's prices and use (as a schedule takes them); { body }
// or { error }.
export function controlBody(control, form, startHour) {
  if (control !== "auto") return { body: { control: "manual" } };
  const { body, error } = scheduleBody(form, startHour);
  return error ? { error } : { body: { control: "auto", plan: body } };
}

// Auto mode's plan (`GET /api/batteries/{id}/plan`) against what was executed, on
// one time line: at each step's and each control interval's start, the charge
// planned then and the charge the device reported (null where none was), and the
// interval's command with its status. The plan keeps a command's status as it was
// issued; `commands` (the device's, `GET /api/devices/{id}/commands` moved by
// `command.updated`) say where each stands now.
export function planTimeline(plan, commands = []) {
  const now = Object.fromEntries((commands || []).map((command) => [command.id, command.status]));
  const points = new Map();
  const at = (time) => {
    if (!points.has(time)) {
      points.set(time, {
        at: time,
        planned_soc_kwh: null,
        reported_soc_kwh: null,
        planned_power_kw: null,
        command_id: null,
        command_status: null,
        replanned: null,
      });
    }
    return points.get(time);
  };
  for (const step of plan?.steps || []) {
    const point = at(step.starts_at);
    point.planned_soc_kwh = step.soc_kwh_start;
    point.planned_power_kw = step.power_kw;
  }
  for (const interval of plan?.intervals || []) {
    const point = at(interval.starts_at);
    point.planned_soc_kwh = interval.planned_soc_kwh;
    point.planned_power_kw = interval.planned_power_kw;
    point.reported_soc_kwh = interval.reported_soc_kwh ?? null;
    point.command_id = interval.command_id ?? null;
    point.command_status = interval.command_status ?? null;
    point.replanned = interval.replanned ?? null;
  }
  for (const point of points.values()) {
    if (point.command_id && now[point.command_id]) point.command_status = now[point.command_id];
  }
  return [...points.values()].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}
