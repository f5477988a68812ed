// Alarms as the app shows them: severities and types in words and in order, the
// Alarms page's filters as they stand in the address and as the API's query, a
// pushed alarm matched against them, and the list kept newest first as alarms
// arrive. No React, no I/O.
import { query } from "./api.js";
import { ALARM_CREATED, ALARM_UPDATED } from "./pushes.generated.js";

// The pushes of the alarms service (`data`: the alarm).
export { ALARM_CREATED, ALARM_UPDATED };
export const ALARM_PUSHES = [ALARM_CREATED, ALARM_UPDATED];

// Most severe first.
export const SEVERITIES = ["critical", "major", "minor", "warning"];

export const SEVERITY_LABELS = {
  critical: "Critical",
  major: "Major",
  minor: "Minor",
  warning: "Warning",
};

export const TYPES = ["energy_over", "power_over", "offline", "no_reading", "generation_below_forecast", "soc_below"];

export const TYPE_LABELS = {
  energy_over: "Energy over its limit",
  power_over: "Power over its limit",
  offline: "Offline",
  no_reading: "No readings",
  generation_below_forecast: "Generation below forecast",
  soc_below: "Battery charge low",
};

export const STATUSES = ["any", "active", "cleared", "unack", "ack"];

export const STATUS_LABELS = {
  any: "All",
  active: "Active",
  cleared: "Cleared",
  unack: "Active, not acknowledged",
  ack: "Acknowledged",
};

// What the page shows without a status in its address.
export const DEFAULT_STATUS = "active";

// The longest comment an acknowledgement or a clearing takes.
export const COMMENT_MAX = 500;

// Alarms asked for at a time.
export const PAGE_SIZE = 50;

// The rank of a severity: 0 for the most severe, after all the known ones for
// anything else.
export function severityRank(severity) {
  const rank = SEVERITIES.indexOf(severity);
  return rank === -1 ? SEVERITIES.length : rank;
}

export function bySeverity(a, b) {
  return severityRank(a) - severityRank(b);
}

export function severityLabel(severity) {
  return SEVERITY_LABELS[severity] || severity || "–";
}

export function typeLabel(type) {
  return TYPE_LABELS[type] || type || "–";
}

// The most severe of `severities`, or null.
export function mostSevere(severities) {
  return [...(severities || [])].sort(bySeverity)[0] ?? null;
}

// A number with its unit: "3.2 kWh", "1,500 W", "15 min", "20 %"; "–" for none.
export function measure(value, unit) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "–";
  const number = Number(value).toLocaleString("en", { maximumFractionDigits: 3 });
  return unit ? `${number} ${unit}` : number;
}

// A query string with its commas as they are (a list of severities reads
// `severity=critical,major`, as the API documents it).
function listQuery(params) {
  return query(params).replace(/%2C/gi, ",");
}

// The known severities named in a comma list, most severe first, once each.
function severityList(text) {
  const named = new Set(String(text || "").split(",").map((part) => part.trim()));
  return SEVERITIES.filter((severity) => named.has(severity));
}

// The filters an address names (its URLSearchParams): anything unknown is left
// out, so a hand-edited address shows a list rather than an error.
export function filtersFromSearch(search) {
  const get = (name) => search.get(name) || "";
  const status = get("status");
  const type = get("type");
  return {
    status: STATUSES.includes(status) ? status : DEFAULT_STATUS,
    severity: severityList(get("severity")),
    site_id: get("site_id"),
    device_id: get("device_id"),
    type: TYPES.includes(type) ? type : "",
  };
}

// The address's query for `filters`: only what differs from the defaults, so the
// plain address is the default view.
export function searchFromFilters(filters) {
  const params = {
    status: filters.status && filters.status !== DEFAULT_STATUS ? filters.status : "",
    severity: severityList((filters.severity || []).join(",")).join(","),
    site_id: filters.site_id || "",
    device_id: filters.device_id || "",
    type: filters.type || "",
  };
  return listQuery(params);
}

// The path of `GET /api/alarms` for `filters` (the page after `before`, when
// given): the status always named, the rest when set.
export function alarmsPath(filters, { before = null, limit = PAGE_SIZE } = {}) {
  return `/api/alarms${listQuery({
    status: filters.status || DEFAULT_STATUS,
    severity: severityList((filters.severity || []).join(",")).join(","),
    site_id: filters.site_id,
    device_id: filters.device_id,
    type: filters.type,
    limit,
    before,
  })}`;
}

// Whether the status filter takes `alarm`: "unack" as the header's count has it
// (active and not acknowledged), "ack" whatever the alarm's status.
export function statusMatches(status, alarm) {
  switch (status || DEFAULT_STATUS) {
    case "any":
      return true;
    case "active":
      return alarm.status === "active";
    case "cleared":
      return alarm.status === "cleared";
    case "unack":
      return alarm.status === "active" && !alarm.acknowledged;
    case "ack":
      return Boolean(alarm.acknowledged);
    default:
      return false;
  }
}

// Whether `alarm` (as pushed or answered) belongs in the list `filters` load.
export function matchesFilters(alarm, filters) {
  if (!alarm?.id) return false;
  if (!statusMatches(filters.status, alarm)) return false;
  if (filters.severity?.length && !filters.severity.includes(alarm.severity)) return false;
  if (filters.type && alarm.type !== filters.type) return false;
  if (filters.site_id && alarm.site_id !== filters.site_id) return false;
  if (filters.device_id && alarm.device_id !== filters.device_id) return false;
  return true;
}

// Newest first, as the API lists them; by id between two that started together,
// so that the order does not depend on arrival.
export function newestFirst(a, b) {
  const at = Date.parse(b.started_at) - Date.parse(a.started_at);
  if (at) return at;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

// The list (`{alarms, next}`, as the API answers) with `alarm` (pushed, or the
// answer to an acknowledgement) applied: it replaces the row of its id, or is put
// in its place when it matches the filters, and leaves when it no longer does. An
// alarm older than the last one shown while more pages remain is left for "More"
// to bring, where it would otherwise appear twice.
export function applyAlarm(page, alarm, filters) {
  if (!page || !alarm?.id) return page;
  const alarms = page.alarms || [];
  const index = alarms.findIndex((one) => one.id === alarm.id);
  if (!matchesFilters(alarm, filters)) {
    return index === -1 ? page : { ...page, alarms: alarms.filter((one) => one.id !== alarm.id) };
  }
  if (index !== -1) {
    const next = [...alarms];
    next[index] = alarm;
    return { ...page, alarms: next };
  }
  const last = alarms[alarms.length - 1];
  if (page.next && last && newestFirst(last, alarm) < 0) return page;
  return { ...page, alarms: [...alarms, alarm].sort(newestFirst) };
}

// The list with the next page (`more`, as the API answers `before=next`) after
// it; an alarm already shown (pushed meanwhile) is kept once, as it is now.
export function appendPage(page, more) {
  const shown = new Set((page?.alarms || []).map((alarm) => alarm.id));
  const added = (more?.alarms || []).filter((alarm) => !shown.has(alarm.id));
  return { alarms: [...(page?.alarms || []), ...added], next: more?.next ?? null };
}

// Where an alarm's originator is shown in the app.
export function originatorPath(originator) {
  if (!originator?.id) return null;
  if (originator.type === "device") return `/devices/${originator.id}`;
  if (originator.type === "site") return `/sites/${originator.id}`;
  return null;
}

// An alarm's state in words: "Active, not acknowledged", "Cleared, acknowledged".
export function stateText(alarm) {
  const status = alarm.status === "cleared" ? "Cleared" : "Active";
  return `${status}, ${alarm.acknowledged ? "acknowledged" : "not acknowledged"}`;
}

// The body of an acknowledgement or a clearing: the comment when one was typed.
export function actionBody(comment) {
  const text = String(comment || "").trim();
  return text ? { comment: text } : {};
}

// The header's count: active alarms not acknowledged, from the summary; 0 while
// it is unknown.
export function unacknowledgedCount(summary) {
  const count = Number(summary?.unacknowledged);
  return Number.isFinite(count) && count > 0 ? count : 0;
}

// The header count's words, for screen readers and the tooltip.
export function countText(count) {
  return count === 1 ? "1 active alarm not acknowledged" : `${count} active alarms not acknowledged`;
}

// The most severe level with active alarms in a summary, or null.
export function summarySeverity(summary) {
  return SEVERITIES.find((severity) => Number(summary?.by_severity?.[severity]) > 0) ?? null;
}
