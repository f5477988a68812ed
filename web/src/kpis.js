// How the overview writes its figures.

export function power(watts) {
  if (watts === null || watts === undefined) return "–";
  return Math.abs(watts) >= 1000 ? `${(watts / 1000).toFixed(2)} kW` : `${Math.round(watts)} W`;
}

export function percent(share) {
  if (share === null || share === undefined) return "–";
  return `${Math.round(share * 1000) / 10} %`;
}

// The sites, most imported today first (then by name).
export function rankedSites(sites) {
  return [...(sites || [])].sort((a, b) => b.today_import_kwh - a.today_import_kwh || a.name.localeCompare(b.name));
}
