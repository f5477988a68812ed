// Merging live hourly totals into the day the page shows.

// `day` is GET /api/consumption/day; `totals` the `consumption.updated` totals.
// Returns a new day with those of this device and day applied, or the same
// object when none apply.
export function applyTotals(day, totals) {
  if (!day) return day;
  let changed = false;
  const hours = day.hours.map((slot) => {
    const update = totals.find((t) => t.device_id === day.device_id && t.hour === slot.hour);
    const exported = update?.export_kwh ?? slot.export_kwh;
    if (!update || (update.kwh === slot.kwh && exported === slot.export_kwh)) return slot;
    changed = true;
    return { ...slot, kwh: update.kwh, export_kwh: exported };
  });
  if (!changed) return day;
  const sum = (name) => Math.round(hours.reduce((total, slot) => total + (slot[name] || 0), 0) * 1e6) / 1e6;
  return { ...day, hours, total_kwh: sum("kwh"), total_export_kwh: sum("export_kwh") };
}

// Import, export and net (import − export) of each hour of `day`, and the day's
// totals, rounded as the API rounds kWh (6 decimals).
export function energyRows(day) {
  const round = (value) => Math.round(value * 1e6) / 1e6;
  const hours = (day?.hours || []).map((slot) => {
    const imported = slot.kwh || 0;
    const exported = slot.export_kwh || 0;
    return { hour: slot.hour, import: imported, export: exported, net: round(imported - exported) };
  });
  const total = (name) => round(hours.reduce((sum, row) => sum + row[name], 0));
  return { hours, totals: { import: total("import"), export: total("export"), net: total("net") } };
}
