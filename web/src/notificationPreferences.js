// The account's notification preferences as their page edits them: the form as
// the page keeps it and the whole object `PUT /api/notification-preferences`
// takes, and the server's messages by the form's fields. No React, no I/O.
import { SEVERITIES } from "./alarms.js";

// The channels, in the order the page shows them.
export const CHANNELS = [
  { key: "app_severities", label: "In the app" },
  { key: "email_severities", label: "By e-mail" },
];

// Quiet hours when they are switched on and none were set.
export const DEFAULT_QUIET = { start: "22:00", end: "07:00" };
export const DEFAULT_DIGEST_HOUR = 8;

// Known severities, most severe first, once each.
function severities(list) {
  const chosen = new Set(list || []);
  return SEVERITIES.filter((severity) => chosen.has(severity));
}

// "7:00" or "07:00:00" as "07:00" (what a time input holds); anything else as it is.
export function hhmm(value) {
  const match = /^(\d{1,2}):(\d{2})/.exec(String(value || ""));
  return match ? `${match[1].padStart(2, "0")}:${match[2]}` : String(value || "");
}

// The form from the preferences (`GET`), or from nothing.
export function preferencesForm(preferences) {
  const quiet = preferences?.quiet_hours;
  const digest = preferences?.digest;
  return {
    app_severities: severities(preferences?.app_severities ?? SEVERITIES),
    email_severities: severities(preferences?.email_severities ?? ["critical"]),
    quiet: Boolean(quiet),
    quiet_start: hhmm(quiet?.start || DEFAULT_QUIET.start),
    quiet_end: hhmm(quiet?.end || DEFAULT_QUIET.end),
    digest: Boolean(digest?.enabled),
    digest_hour: String(digest?.hour ?? DEFAULT_DIGEST_HOUR),
  };
}

// The form with `severity` of `channel` ticked or not.
export function withSeverity(form, channel, severity, checked) {
  const list = new Set(form[channel]);
  if (checked) list.add(severity);
  else list.delete(severity);
  return { ...form, [channel]: severities([...list]) };
}

// The whole object PUT takes: quiet hours null when off; the digest's hour kept
// when it is off, so that switching it on again finds it.
export function preferencesBody(form) {
  const hour = Number(form.digest_hour);
  return {
    app_severities: severities(form.app_severities),
    email_severities: severities(form.email_severities),
    quiet_hours: form.quiet ? { start: hhmm(form.quiet_start), end: hhmm(form.quiet_end) } : null,
    digest: {
      enabled: Boolean(form.digest),
      hour: Number.isInteger(hour) ? hour : form.digest_hour,
    },
  };
}

function flatten(value) {
  if (Array.isArray(value)) return value.map(flatten).join(" ");
  if (value && typeof value === "object") return Object.values(value).map(flatten).join(" ");
  return String(value);
}

// The server's message for a form field, by its path in the body
// ("quiet_hours.start", "digest.hour"); a message for the whole of
// `quiet_hours` or `digest` shows on each of its fields' parent.
export function fieldMessage(error, path) {
  let value = error?.details;
  for (const key of path.split(".")) {
    if (value === null || value === undefined || typeof value !== "object" || Array.isArray(value)) return null;
    value = value[key];
  }
  return value === null || value === undefined ? null : flatten(value);
}

// The form's field names as the body's paths, for `Field`'s `error.field(name)`.
export const FIELD_PATHS = {
  app_severities: "app_severities",
  email_severities: "email_severities",
  quiet_hours: "quiet_hours",
  quiet_start: "quiet_hours.start",
  quiet_end: "quiet_hours.end",
  digest_hour: "digest.hour",
  digest: "digest.enabled",
};

// The message for the form's field `name` (a message for the whole of
// `quiet_hours` given as a list belongs to the quiet hours themselves).
export function formFieldMessage(error, name) {
  const path = FIELD_PATHS[name] || name;
  const value = error?.details?.quiet_hours;
  if (name === "quiet_hours") return Array.isArray(value) || typeof value === "string" ? flatten(value) : null;
  if (name === "digest") {
    const digest = error?.details?.digest;
    if (Array.isArray(digest) || typeof digest === "string") return flatten(digest);
  }
  return fieldMessage(error, path);
}

// A 24-hour day's hours, as the digest's choice: [{value: "0", label: "00:00"} …].
export function hoursOfDay() {
  return Array.from({ length: 24 }, (_, hour) => ({ value: String(hour), label: `${String(hour).padStart(2, "0")}:00` }));
}
