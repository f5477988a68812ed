// Alarm rules as the device and site pages edit them: the fields each type takes,
// a rule's form as the page keeps it (strings, as typed) and the body the API
// takes, and a rule's scope in words as seen from a device. No React, no I/O.
import { SEVERITIES, TYPES, typeLabel } from "./alarms.js";

// What each type's threshold means, in its unit; and whether the condition must
// last `duration_min` minutes first.
export const TYPE_FIELDS = {
  energy_over: { threshold: { unit: "kWh", label: "Energy in an hour (kWh)", hint: "An alarm when an hour's energy goes over it." }, duration: false },
  power_over: { threshold: { unit: "W", label: "Power (W)", hint: "An alarm when the power stays over it." }, duration: true },
  offline: { threshold: null, duration: true },
  no_reading: { threshold: null, duration: true },
  generation_below_forecast: { threshold: { unit: "%", label: "Below the forecast by (%)", hint: "An alarm when generation falls this far below its forecast." }, duration: false },
  soc_below: { threshold: { unit: "%", label: "Charge (% of capacity)", hint: "An alarm when the battery's charge falls below it." }, duration: false },
};

export const DURATION_HINT = {
  power_over: "Minutes the power must stay over the threshold.",
  offline: "Minutes the device must stay offline.",
  no_reading: "Minutes without a reading.",
};

// The kinds that only one type is about; the others apply to any device.
const TYPE_KINDS = {
  generation_below_forecast: ["pv"],
  soc_below: ["battery"],
};

// The types a rule of a device of `kind` can take (every type with no kind).
export function typesForKind(kind) {
  return TYPES.filter((type) => !kind || !TYPE_KINDS[type] || TYPE_KINDS[type].includes(kind));
}

export function fieldsFor(type) {
  return TYPE_FIELDS[type] || { threshold: null, duration: false };
}

const text = (value) => (value === null || value === undefined ? "" : String(value));

// The form of a new rule (scope: the page's, such as `{device_id}`), or of `rule`.
export function ruleForm(rule, { type = "energy_over" } = {}) {
  return {
    name: text(rule?.name),
    type: rule?.type || type,
    severity: rule?.severity || "major",
    enabled: rule ? Boolean(rule.enabled) : true,
    threshold: text(rule?.threshold),
    duration_min: text(rule?.duration_min),
    scope: rule ? scopeOf(rule) : "site",
    kind: text(rule?.kind),
    room_id: text(rule?.room_id),
  };
}

// Which of a site page's scopes a rule has: a room, its devices of one kind, or
// the whole site.
function scopeOf(rule) {
  if (rule.room_id) return "room";
  if (rule.kind) return "kind";
  return "site";
}

// A number as typed, or the text itself when it is not one, so that the server
// names the field; null when empty.
function number(value) {
  const trimmed = String(value ?? "").trim();
  if (trimmed === "") return null;
  const parsed = Number(trimmed);
  return Number.isFinite(parsed) ? parsed : trimmed;
}

// The threshold and duration a type takes from the form; the others null, so a
// rule whose type changed keeps nothing of the old one.
function condition(form) {
  const fields = fieldsFor(form.type);
  return {
    threshold: fields.threshold ? number(form.threshold) : null,
    duration_min: fields.duration ? number(form.duration_min) : null,
  };
}

// The scope of a new rule: a device (`{device_id}`) as given, or on a site's page
// the site, its devices of one kind, or one of its rooms.
export function scopeBody(form, scope) {
  if (scope.device_id) return { device_id: scope.device_id };
  if (form.scope === "room") return { room_id: form.room_id || null };
  if (form.scope === "kind") return { site_id: scope.site_id, kind: form.kind || null };
  return { site_id: scope.site_id };
}

// The body of POST /api/alarm-rules from the form and the page's scope.
export function newRuleBody(form, scope) {
  return {
    name: form.name.trim(),
    type: form.type,
    severity: form.severity,
    enabled: Boolean(form.enabled),
    ...condition(form),
    ...scopeBody(form, scope),
  };
}

// The body of PATCH /api/alarm-rules/{id}: what the form changes; a device's own
// limit takes only its severity and whether it is on (its threshold follows the
// device).
export function ruleChanges(form, rule) {
  if (rule?.device_limit) return { severity: form.severity, enabled: Boolean(form.enabled) };
  return {
    name: form.name.trim(),
    severity: form.severity,
    enabled: Boolean(form.enabled),
    ...condition({ ...form, type: rule?.type || form.type }),
  };
}

// Device kinds in a sentence, one and several.
const KIND_NOUNS = {
  meter: ["meter", "meters"],
  appliance: ["appliance", "appliances"],
  heat_pump: ["heat pump", "heat pumps"],
  ev_charger: ["EV charger", "EV chargers"],
  pv: ["PV system", "PV systems"],
  battery: ["battery", "batteries"],
};

function kindNoun(kind, plural = false) {
  const nouns = KIND_NOUNS[kind] || [kind, kind];
  return nouns[plural ? 1 : 0];
}

// Where a rule applies, as seen from `device` (its id, room and site) when given:
// "This device", "Its room", "Its site", "Heat pumps of its site", "Every heat
// pump"; from a site's page (no device) the room by name.
export function scopeText(rule, { device = null, roomNames = {} } = {}) {
  if (rule.device_id) return device && rule.device_id === device.id ? "This device" : "A device";
  if (rule.room_id) {
    if (device && rule.room_id === device.room_id) return "Its room";
    return roomNames[rule.room_id] ? `Room ${roomNames[rule.room_id]}` : "A room";
  }
  if (rule.site_id) {
    const place = device ? "of its site" : "of the site";
    if (rule.kind) return `${capitalised(kindNoun(rule.kind, true))} ${place}`;
    return device ? "Its site" : "The whole site";
  }
  if (rule.kind) return `Every ${kindNoun(rule.kind)}`;
  return "–";
}

function capitalised(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// Whether a rule listed on a device's page is the device's own rather than one it
// inherits from its room, site or kind.
export function isInherited(rule, device) {
  return !(rule.device_id && rule.device_id === device?.id);
}

// A rule's condition in words: "over 2 kWh in an hour", "over 3,000 W for 5 min",
// "offline for 15 min".
export function conditionText(rule) {
  const value = (v, unit) => `${Number(v).toLocaleString("en", { maximumFractionDigits: 3 })} ${unit}`;
  const lasting = rule.duration_min !== null && rule.duration_min !== undefined ? ` for ${rule.duration_min} min` : "";
  const t = rule.threshold;
  const has = t !== null && t !== undefined;
  switch (rule.type) {
    case "energy_over":
      return has ? `over ${value(t, "kWh")} in an hour` : "over its hourly limit";
    case "power_over":
      return has ? `over ${value(t, "W")}${lasting}` : `over its power limit${lasting}`;
    case "offline":
      return `offline${lasting}`;
    case "no_reading":
      return `no reading${lasting}`;
    case "generation_below_forecast":
      return has ? `${value(t, "%")} below forecast` : "below forecast";
    case "soc_below":
      return has ? `charge below ${value(t, "%")}` : "charge low";
    default:
      return typeLabel(rule.type);
  }
}

// Rules most severe first, then by name.
export function sortedRules(rules) {
  return [...(rules || [])].sort(
    (a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || String(a.name).localeCompare(String(b.name)),
  );
}
