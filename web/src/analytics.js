// Ranges, buckets and queries of the analytics page (GET /api/energy). Dates are
// calendar dates in the scope's time zone, as the API takes them; `to` is
// excluded.

export const PRESETS = {
  today: { label: "Today", resolution: "hour" },
  "7d": { label: "7 days", resolution: "day" },
  "30d": { label: "30 days", resolution: "day" },
  "12m": { label: "12 months", resolution: "month" },
  custom: { label: "Custom", resolution: "day" },
};

export const RESOLUTIONS = { hour: "Hour", day: "Day", month: "Month" };

// `date` (a Date) as YYYY-MM-DD on the calendar of `timeZone`.
export function localDate(date, timeZone = "UTC") {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(date);
}

function parts(isoDate) {
  const [year, month, day] = isoDate.split("-").map(Number);
  return { year, month, day };
}

function format(date) {
  return date.toISOString().slice(0, 10);
}

export function addDays(isoDate, days) {
  const { year, month, day } = parts(isoDate);
  return format(new Date(Date.UTC(year, month - 1, day + days)));
}

export function addMonths(isoDate, months) {
  const { year, month, day } = parts(isoDate);
  return format(new Date(Date.UTC(year, month - 1 + months, day)));
}

export function daysBetween(from, to) {
  const start = parts(from);
  const end = parts(to);
  return Math.round(
    (Date.UTC(end.year, end.month - 1, end.day) - Date.UTC(start.year, start.month - 1, start.day)) / 86_400_000,
  );
}

// The range a preset stands for on `now`'s date in `timeZone`: `{from, to,
// resolution}`. A custom range is the dates given, `to` included as typed and
// so passed on as the next day.
export function rangeFor(preset, { now = new Date(), timeZone = "UTC", custom = {} } = {}) {
  const today = localDate(now, timeZone);
  const tomorrow = addDays(today, 1);
  switch (preset) {
    case "today":
      return { from: today, to: tomorrow, resolution: "hour" };
    case "7d":
      return { from: addDays(today, -6), to: tomorrow, resolution: "day" };
    case "30d":
      return { from: addDays(today, -29), to: tomorrow, resolution: "day" };
    case "12m": {
      const month = `${today.slice(0, 7)}-01`;
      return { from: addMonths(month, -11), to: addMonths(month, 1), resolution: "month" };
    }
    case "custom": {
      const from = custom.from || today;
      const last = custom.to && custom.to >= from ? custom.to : from;
      return { from, to: addDays(last, 1), resolution: custom.resolution || "day" };
    }
    default:
      throw new Error(`unknown range preset ${preset}`);
  }
}

// The period of the same length just before `range`: months for a range of
// whole months, days otherwise.
export function previousPeriod({ from, to, resolution }) {
  if (resolution === "month" && from.endsWith("-01") && to.endsWith("-01")) {
    const months = (Number(to.slice(0, 4)) - Number(from.slice(0, 4))) * 12 + Number(to.slice(5, 7)) - Number(from.slice(5, 7));
    return { from: addMonths(from, -months), to: from, resolution };
  }
  return { from: addDays(from, -daysBetween(from, to)), to: from, resolution };
}

// The query string of /api/energy and /api/export/energy.csv.
export function energyQuery({ scope, id, from, to, resolution }) {
  const search = new URLSearchParams({ scope });
  if (scope !== "portfolio" && id) search.set("id", id);
  search.set("from", from);
  search.set("to", to);
  search.set("resolution", resolution);
  return `?${search.toString()}`;
}

// A bucket's label: its hour, day or month in `timeZone`.
export function bucketLabel(start, resolution, timeZone = "UTC") {
  const date = new Date(start);
  const options =
    resolution === "hour"
      ? { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }
      : resolution === "day"
        ? { month: "short", day: "numeric" }
        : { month: "short", year: "numeric" };
  return new Intl.DateTimeFormat("en-GB", { timeZone, ...options }).format(date);
}

// The change from `before` to `now` in %, or null when there was nothing before.
export function change(now, before) {
  if (!before) return null;
  return Math.round(((now - before) / Math.abs(before)) * 1000) / 10;
}

// The custom range a bucket opens into, one resolution finer: a month's days or
// a day's hours (`to` included, as the custom range's fields take it).
export function drillRange(start, resolution, timeZone = "UTC") {
  const from = localDate(new Date(start), timeZone);
  if (resolution === "month") return { preset: "custom", from, to: addDays(addMonths(from, 1), -1), resolution: "day" };
  return { preset: "custom", from, to: from, resolution: "hour" };
}

const FIGURES = ["import_kwh", "export_kwh", "net_kwh", "cost", "co2_kg"];

function figuresOf(row) {
  const numbers = { ...row };
  for (const name of FIGURES) numbers[name] = row[name] === null || row[name] === undefined ? null : Number(row[name]);
  return numbers;
}

// An /api/energy answer with its figures as numbers: the API gives them as exact
// decimal text, which the page only draws and rounds.
export function numeric(energy) {
  return { ...energy, series: energy.series.map(figuresOf), totals: figuresOf(energy.totals) };
}
