// Demand response as the app shows it: an event's status at a given time, the
// body of a new event from its form, the hourly sums of results, live updates of
// the list, and the invitation errors in words. No React, no I/O.
import { calendarDay, clock, dateTime, zoneAbbreviation } from "./format.js";

const HOUR_MS = 3600 * 1000;

export const STATUS_LABELS = {
  scheduled: "Scheduled",
  active: "Under way",
  finished: "Finished",
  cancelled: "Cancelled",
};

export const ANSWER_LABELS = {
  invited: "Not answered",
  opted_in: "Opted in",
  opted_out: "Opted out",
};

// The longest event the platform accepts, in hours.
export const MAX_HOURS = 24;

// The status of an event at `now` (ms), as the platform derives it: cancelled once
// cancelled; scheduled before start, active until end (excluded), then finished.
export function statusAt(event, now = Date.now()) {
  if (!event) return null;
  if (event.cancelled_at || event.status === "cancelled") return "cancelled";
  const start = Date.parse(event.start);
  const end = Date.parse(event.end);
  if (Number.isNaN(start) || Number.isNaN(end)) return event.status || null;
  if (now < start) return "scheduled";
  if (now < end) return "active";
  return "finished";
}

// How many whole hours an event lasts.
export function eventHours(event) {
  return Math.round((Date.parse(event.end) - Date.parse(event.start)) / HOUR_MS);
}

// "2026-11-24 17:00–19:00 UTC" on the account's clock, or both dates when it
// crosses midnight there.
export function windowText(event) {
  if (!event?.start || !event?.end) return "–";
  if (calendarDay(event.start) === calendarDay(event.end)) {
    return `${calendarDay(event.start)} ${clock(event.start)}–${clock(event.end)} ${zoneAbbreviation(event.end)}`;
  }
  return `${dateTime(event.start).replace(/ \S+$/, "")} – ${dateTime(event.end)}`;
}

// The first whole UTC hour at least `leadHours` after `now`: a start the
// platform still takes as "in the future" by the time the form is sent.
export function nextWholeHour(now = new Date(), leadHours = 1) {
  const t = now.getTime() + leadHours * HOUR_MS;
  return new Date(Math.ceil(t / HOUR_MS) * HOUR_MS);
}

// The blank create form: starting at the next whole hour (an hour ahead), 2 h.
export function blankEventForm(now = new Date()) {
  const start = nextWholeHour(now);
  return {
    name: "",
    date: start.toISOString().slice(0, 10),
    hour: String(start.getUTCHours()),
    hours: "2",
    target_reduction_kw: "",
    incentive_per_kwh: "",
  };
}

// The start a form names, as ISO-8601 UTC ("…T17:00:00Z"), or null.
export function formStart(form) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(form.date || "")) return null;
  const hour = Number(form.hour);
  if (!Number.isInteger(hour) || hour < 0 || hour > 23) return null;
  const start = new Date(`${form.date}T${String(hour).padStart(2, "0")}:00:00Z`);
  // 2026-02-30 would roll over into March: refused rather than moved.
  if (Number.isNaN(start.getTime()) || start.toISOString().slice(0, 10) !== form.date) return null;
  return iso(start);
}

// The end a form names: its start plus its duration in hours, or null.
export function formEnd(form) {
  const start = formStart(form);
  const hours = Number(form.hours);
  if (!start || !Number.isInteger(hours)) return null;
  return iso(new Date(Date.parse(start) + hours * HOUR_MS));
}

function iso(date) {
  return date.toISOString().replace(".000Z", "Z");
}

function number(text) {
  if (text === "" || text === null || text === undefined) return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : text;
}

// The body of POST /api/dr/events from the create form (empty numbers go as
// null, so the platform names the field rather than checking a 0).
export function eventBody(form) {
  return {
    name: (form.name || "").trim(),
    start: formStart(form),
    end: formEnd(form),
    target_reduction_kw: number(form.target_reduction_kw),
    incentive_per_kwh: number(form.incentive_per_kwh),
  };
}

// The user directory, asked as staff type a name or an e-mail address: from three
// characters on (the server's trigram index needs as many), 20 people at a time.
export const DIRECTORY_MIN_CHARS = 3;
export const DIRECTORY_PAGE = 20;

// The directory's URL for what was typed, or null while it is too short to ask.
export function directoryPath(text, limit = DIRECTORY_PAGE) {
  const q = String(text || "").trim();
  if (q.length < DIRECTORY_MIN_CHARS) return null;
  return `/api/users/directory?${new URLSearchParams({ q, limit: String(limit) })}`;
}

// A person as staff know them: name and e-mail address, never an id (`person`
// from the directory, or an invitation or result that staff are shown, which
// carries the invited user's `name` and `email`).
export function personText(person) {
  if (!person?.name) return "A user whose name is unavailable";
  return person.email ? `${person.name} (${person.email})` : person.name;
}

function round6(value) {
  return Math.round(value * 1e6) / 1e6;
}

// Results summed over participants, hour by hour (oldest first): what the chart
// shows for the event as a whole.
export function hourlyTotals(participants) {
  const byHour = new Map();
  for (const participant of participants || []) {
    for (const row of participant.hours || []) {
      const sum = byHour.get(row.hour) || { hour: row.hour, baseline_kwh: 0, actual_kwh: 0, reduction_kwh: 0 };
      sum.baseline_kwh += Number(row.baseline_kwh) || 0;
      sum.actual_kwh += Number(row.actual_kwh) || 0;
      sum.reduction_kwh += Number(row.reduction_kwh) || 0;
      byHour.set(row.hour, sum);
    }
  }
  return [...byHour.values()]
    .sort((a, b) => Date.parse(a.hour) - Date.parse(b.hour))
    .map((sum) => ({
      hour: sum.hour,
      baseline_kwh: round6(sum.baseline_kwh),
      actual_kwh: round6(sum.actual_kwh),
      reduction_kwh: round6(sum.reduction_kwh),
    }));
}

// Latest start first, as the platform lists events.
function byStartDesc(a, b) {
  return Date.parse(b.start) - Date.parse(a.start);
}

// A list of events with one event changed or added: what is known of it is kept
// (a pushed event carries no invitation counts) and what came is laid over it.
export function upsertEvent(list, event) {
  if (!event?.id) return list;
  const events = list || [];
  const index = events.findIndex((e) => e.id === event.id);
  if (index === -1) return [...events, event].sort(byStartDesc);
  const next = [...events];
  next[index] = { ...events[index], ...event };
  return next;
}

// The list after a `dr.event` message {event, invitation, change}: for a user,
// the event with their invitation (a new invitation adds the event).
export function applyPush(list, data) {
  if (!data?.event?.id) return list;
  const event = { ...data.event };
  if (data.invitation) event.invitation = data.invitation;
  return upsertEvent(list, event);
}

// Answers counted from an event's `invitation_counts`.
export function countsText(counts) {
  if (!counts) return "–";
  const total = (counts.invited || 0) + (counts.opted_in || 0) + (counts.opted_out || 0);
  if (!total) return "nobody invited";
  return `${total} invited: ${counts.opted_in || 0} in, ${counts.opted_out || 0} out, ${counts.invited || 0} not answered`;
}

// What went wrong with `user_ids` in an invitation request, in words, or null:
// 404 lists the users that are gone (deleted since they were found); 400 names
// each bad entry by its index. `nameOf(id)` says who an id is.
export function invitationErrorText(error, ids = [], nameOf = (id) => id) {
  const value = error?.details?.user_ids;
  if (!value) return null;
  if (Array.isArray(value)) {
    if (error.status === 404) {
      return `${value.length === 1 ? "This user no longer exists" : "These users no longer exist"}: ${value.map(nameOf).join(", ")}.`;
    }
    return value.join(" ");
  }
  if (typeof value === "object") {
    return Object.entries(value)
      .map(([index, messages]) => {
        const text = Array.isArray(messages) ? messages.join(" ") : String(messages);
        const id = ids[Number(index)];
        return id === undefined ? text : `${nameOf(id)}: ${text}`;
      })
      .join("; ");
  }
  return String(value);
}

// Labels for the hours of one event: "17:00" when they all fall on one day of
// the account's clock, "11-24 23:00" when the event crosses midnight.
export function hourLabels(rows) {
  const days = new Set((rows || []).map((row) => calendarDay(row.hour)));
  return (hour) => (days.size <= 1 ? clock(hour) : `${calendarDay(hour).slice(5)} ${clock(hour)}`);
}

// A power, "2.50 kW"; "–" for a missing one.
export function kw(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "–";
  return `${Number(value).toFixed(digits)} kW`;
}

// A participant's dispatches (what the event sent their devices) by device, in
// the order first sent: each device's `start` and `end` command, or null.
export function dispatchesByDevice(dispatches) {
  const byDevice = new Map();
  const sorted = [...(dispatches || [])].sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0));
  for (const dispatch of sorted) {
    if (!byDevice.has(dispatch.device_id)) byDevice.set(dispatch.device_id, { device_id: dispatch.device_id, start: null, end: null });
    byDevice.get(dispatch.device_id)[dispatch.phase] = dispatch;
  }
  return [...byDevice.values()];
}
