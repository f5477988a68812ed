// How the overview writes its figures.

export function power(watts) {
  if (watts === null || watts === undefined) return "–";
  return Math.abs(watts) >= 1000 ? `${(watts / 1000).toFixed(2)} kW` : `${Math.round(watts)} W`;
}

export function percent(share) {
  if (share === null || share === undefined) return "–";
  return `${Math.round(share * 1000) / 10} %`;
}

// Each site's figures (GET /api/kpis?scope=portfolio) with its name from
// GET /api/sites, most imported today first (then by name). A site the listing
// does not have (yet) goes by the start of its id.
export function rankedSites(figures, sites) {
  const names = Object.fromEntries((sites || []).map((site) => [site.id, site.name]));
  return (figures || [])
    .map((site) => ({ ...site, name: names[site.id] || site.id.slice(0, 8) }))
    .sort((a, b) => Number(b.today_import_kwh) - Number(a.today_import_kwh) || a.name.localeCompare(b.name));
}

// An hour's start on the clock of `timeZone`; across several time zones (a
// portfolio's `timezone` is null), on the browser's own clock.
export function hourOf(iso, timeZone) {
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: timeZone ? undefined : "short" };
  return new Intl.DateTimeFormat("en-GB", { ...options, timeZone: timeZone || undefined }).format(new Date(iso));
}
