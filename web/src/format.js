// How the app writes numbers, energy, money and times. An instant is shown in the
// account's time zone (its preferences; UTC until it is known) with the zone's
// abbreviation; what the API counts by UTC day or hour (a device's day, prices
// by hour, a DR event's whole hours) is shown in UTC and says so.

// Energy is shown in the account's unit (its preferences: kWh or Wh; kWh until
// it is known). The API, its CSV files and what forms take stay in kWh: only
// what the app writes for people is converted.

// How many of each unit an account may choose make one kWh.
export const ENERGY_UNITS = { kWh: 1, Wh: 1000 };

let energyUnit = "kWh";

// The unit energy is shown in: the signed-in account's.
export function showEnergyIn(unit) {
  energyUnit = Object.hasOwn(ENERGY_UNITS, unit ?? "") ? unit : "kWh";
}

export function energyUnitShown() {
  return energyUnit;
}

// Decimals in the account's unit for `digits` decimals of kWh: as precise, never
// finer than the figure is (1.234 kWh is 1234 Wh).
function decimalsFor(digits) {
  return Math.max(0, digits - Math.round(Math.log10(ENERGY_UNITS[energyUnit])));
}

// A figure the API gives in kWh (to 6 decimals), as a number in the account's
// unit, for charts and tables: 0.123456 kWh is 123.456 Wh.
export function inEnergyUnit(valueKwh) {
  if (valueKwh === null || valueKwh === undefined) return valueKwh;
  return Number((Number(valueKwh) * ENERGY_UNITS[energyUnit]).toFixed(decimalsFor(6)));
}

// "1.234" or "1234": energy the API gives in kWh, in the account's unit without
// its name (for a column that names it), with `digits` decimals of a kWh.
export function energyNumber(valueKwh, digits = 3) {
  if (valueKwh === null || valueKwh === undefined || Number.isNaN(Number(valueKwh))) return "–";
  const text = (Number(valueKwh) * ENERGY_UNITS[energyUnit]).toFixed(decimalsFor(digits));
  // No "-0.000" for a figure that rounds to nothing.
  return Number(text) === 0 ? text.replace("-", "") : text;
}

// "1.234 kWh" or "1234 Wh": the same with the unit's name.
export function energyFigure(valueKwh, digits = 3) {
  const number = energyNumber(valueKwh, digits);
  return number === "–" ? number : `${number} ${energyUnit}`;
}

// A figure as it was typed (a limit, a quantity traded): 50 kWh, 1.5 kWh, 0.001
// kWh (or 50000 Wh, 1500 Wh, 1 Wh).
export function energyAsTyped(valueKwh) {
  if (valueKwh === null || valueKwh === undefined) return "–";
  return `${Number(inEnergyUnit(valueKwh).toFixed(decimalsFor(3)))} ${energyUnit}`;
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
