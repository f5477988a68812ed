// How the app writes numbers, energy, money and times. Times are shown in UTC,
// as the platform aggregates them.

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
