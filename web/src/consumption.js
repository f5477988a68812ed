// Merging live hourly totals into the day the page shows.

// `day` is GET /api/consumption/day; `totals` the `consumption.updated` totals.
// Returns a new day with those of this device and day applied, or the same
// object when none apply.
export function applyTotals(day, totals) {
  if (!day) return day;
  let changed = false;
  const hours = day.hours.map((slot) => {
    const update = totals.find((t) => t.device_id === day.device_id && t.hour === slot.hour);
    if (!update || update.kwh === slot.kwh) return slot;
    changed = true;
    return { ...slot, kwh: update.kwh };
  });
  if (!changed) return day;
  const total = hours.reduce((sum, slot) => sum + slot.kwh, 0);
  return { ...day, hours, total_kwh: Math.round(total * 1e6) / 1e6 };
}
