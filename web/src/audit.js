// The audit log as the app shows it: the query of a page from the filters' form,
// each record's action and details in words, and who did it. No React, no I/O.

// The actions the platform records, by area, as the filter offers them.
export const ACTION_LABELS = {
  "users.role_changed": "Role changed",
  "users.password_set": "Password set by an administrator",
  "users.deleted": "User deleted",
  "auth.account_deleted": "Own account deleted",
  "auth.password_changed": "Password changed",
  "auth.password_reset": "Password reset by e-mail link",
  "devices.command_issued": "Device command",
  "devices.credentials_rotated": "Device credentials issued",
  "devices.deleted": "Device deleted",
  "devices.site_deleted": "Site deleted",
  "devices.member_role_changed": "Site member's role changed",
  "devices.member_removed": "Site member removed",
  "dr.event_created": "DR event created",
  "dr.event_cancelled": "DR event cancelled",
  "trading.settled": "Trading hour settled",
  "alarms.acknowledged": "Alarm acknowledged",
  "alarms.cleared": "Alarm cleared",
};

// Every action of an area: the filter's prefixes.
export const AREA_LABELS = {
  "users.": "Users (all)",
  "auth.": "Own accounts (all)",
  "devices.": "Devices and sites (all)",
  "dr.": "Demand response (all)",
  "trading.": "Trading (all)",
  "alarms.": "Alarms (all)",
};

export const OBJECT_TYPES = {
  user: "User",
  device: "Device",
  site: "Site",
  dr_event: "DR event",
  settlement: "Settlement",
  alarm: "Alarm",
};

export const PAGE_SIZE = 50;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

// The day after `day` ("2026-12-02" → "2026-12-03"), as UTC calendar days.
function nextDay(day) {
  const moment = new Date(`${day}T00:00:00Z`);
  moment.setUTCDate(moment.getUTCDate() + 1);
  return moment.toISOString().slice(0, 10);
}

// The query of `GET /api/audit` for the filters' form and a page's cursor. The
// dates are whole UTC days, both included: `to` asks for records before the day
// after it.
export function auditQuery(filters = {}, cursor = null, limit = PAGE_SIZE) {
  const params = { limit };
  const text = (value) => (typeof value === "string" ? value.trim() : "");
  if (text(filters.actor)) params.actor_id = text(filters.actor);
  if (text(filters.action)) params.action = text(filters.action);
  if (text(filters.objectType)) params.object_type = text(filters.objectType);
  if (text(filters.objectId)) params.object_id = text(filters.objectId);
  if (DAY.test(text(filters.from))) params.from = `${text(filters.from)}T00:00:00Z`;
  if (DAY.test(text(filters.to))) params.to = `${nextDay(text(filters.to))}T00:00:00Z`;
  if (cursor) params.cursor = cursor;
  return params;
}

// The server's 400 on a filter, named by the form's fields.
export const FILTER_FIELDS = {
  actor_id: "actor",
  action: "action",
  object_type: "objectType",
  object_id: "objectId",
  from: "from",
  to: "to",
};

// The message of the form's field `name` in a 400 answer's `details`.
export function filterError(details, name) {
  for (const [param, field] of Object.entries(FILTER_FIELDS)) {
    if (field === name && details?.[param]) return [].concat(details[param]).join(" ");
  }
  return null;
}

// An action in words; one the app does not know yet as it came.
export function actionLabel(action) {
  return ACTION_LABELS[action] || action;
}

// Who did it: the user's name when known (`names`, by id), else their id; the
// platform itself when no one did.
export function actorLabel(actor, names = {}) {
  if (!actor) return "The platform";
  return `${names[actor.id] || actor.id} (${actor.role})`;
}

// What it was done to, in words.
export function objectLabel(object, names = {}) {
  if (!object) return "";
  const kind = OBJECT_TYPES[object.type] || object.type;
  const name = object.type === "user" ? names[object.id] : null;
  return `${kind} ${name || object.id}`;
}

// The details of a record in one line: "USER → OPERATOR" for a change; the rest
// as key: value pairs.
export function detailsText(details) {
  if (!details || typeof details !== "object") return "";
  const parts = [];
  const rest = { ...details };
  if ("from" in rest || "to" in rest) {
    parts.push(`${rest.from ?? "none"} → ${rest.to ?? "none"}`);
    delete rest.from;
    delete rest.to;
  }
  for (const [key, value] of Object.entries(rest)) {
    const shown = value !== null && typeof value === "object" ? JSON.stringify(value) : String(value);
    parts.push(`${key.replaceAll("_", " ")}: ${shown}`);
  }
  return parts.join("; ");
}
