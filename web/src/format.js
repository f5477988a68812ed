// How the app writes numbers, energy, money and times. An instant is shown in the
// account's time zone (its preferences; UTC until it is known) with the zone's
// abbreviation; what the API counts by UTC day or hour (a device's day, prices
// by hour, a DR event's whole hours) is shown in UTC and says so.

export function kwh(value, digits = 3) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "–";
  return `${Number(value).toFixed(digits)} kWh`;
}

// A limit as it was typed: 50 kWh, 1.5 kWh, 0.001 kWh.
export function limitKwh(value) {
  if (value === null || value === undefined) return "–";
  return `${Number(Number(value).toFixed(3))} kWh`;
}

// A chart axis's tick: three significant digits, never in scientific notation,
// so an axis over a few milliwatt-hours reads 0.000045 rather than 4.5E-5.
const AXIS = new Intl.NumberFormat("en", {
  maximumSignificantDigits: 3,
  notation: "standard",
});

export function axisNumber(value) {
  return AXIS.format(value);
}

export function money(value) {
  if (value === null || value === undefined) return "–";
  return Number(value).toFixed(2);
}

export function utcDate(date = new Date()) {
  return date.toISOString().slice(0, 10);
}

export function utcHour(iso) {
  return iso ? `${iso.slice(11, 16)}` : "";
}

export function utcDateTime(iso) {
  if (!iso) return "–";
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

export const DEVICE_KINDS = {
  meter: "Meter",
  appliance: "Appliance",
  heat_pump: "Heat pump",
  ev_charger: "EV charger",
  pv: "PV",
  battery: "Battery",
};

// "18:00:01 UTC": a time to the second, for what happens within a minute.
export function utcTime(iso) {
  if (!iso) return "–";
  return `${iso.slice(11, 19)} UTC`;
}

let shownIn = "UTC";

// The time zone instants are shown in: the signed-in account's.
export function showTimesIn(zone) {
  shownIn = zone || "UTC";
}

export function timeZoneShown() {
  return shownIn;
}

const PIECES = new Map();

function pieces(iso) {
  if (!PIECES.has(shownIn)) {
    PIECES.set(
      shownIn,
      new Intl.DateTimeFormat("en-GB", {
        timeZone: shownIn,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
        timeZoneName: "short",
      }),
    );
  }
  const found = {};
  for (const part of PIECES.get(shownIn).formatToParts(new Date(iso))) found[part.type] = part.value;
  return found;
}

// "2026-12-02 08:00 CET": an instant on the account's clock.
export function dateTime(iso) {
  if (!iso) return "–";
  const p = pieces(iso);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} ${p.timeZoneName}`;
}

// "08:00": the time of day of an instant on the account's clock.
export function clock(iso) {
  if (!iso) return "";
  const p = pieces(iso);
  return `${p.hour}:${p.minute}`;
}

// "2026-12-02": the date of an instant on the account's clock.
export function calendarDay(iso) {
  const p = pieces(iso);
  return `${p.year}-${p.month}-${p.day}`;
}

// "CET": the zone's abbreviation at an instant.
export function zoneAbbreviation(iso) {
  return pieces(iso).timeZoneName;
}
