// A site's form as the page keeps it (strings, as typed) and the body the API
// takes: tariff with its time-of-use periods, location both or neither.

export const SITE_ROLES = { owner: "Owner", operator: "Operator", viewer: "Viewer" };

// Every IANA time zone the browser knows, UTC first.
export function timeZones() {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return ["UTC", ...zones.filter((zone) => zone !== "UTC")];
}

const text = (value) => (value === null || value === undefined ? "" : String(value));

export function siteForm(site) {
  const tariff = site?.tariff || {};
  return {
    name: text(site?.name),
    address: text(site?.address),
    latitude: text(site?.latitude),
    longitude: text(site?.longitude),
    timezone: site?.timezone || "UTC",
    currency: tariff.currency || "EUR",
    import_per_kwh: text(tariff.import_per_kwh ?? 0.3),
    export_per_kwh: text(tariff.export_per_kwh ?? 0.08),
    periods: (tariff.periods || []).map((period) => ({
      start_hour: text(period.start_hour),
      end_hour: text(period.end_hour),
      import_per_kwh: text(period.import_per_kwh),
      export_per_kwh: text(period.export_per_kwh),
    })),
    co2_kg_per_kwh: text(site?.co2_kg_per_kwh ?? 0.4),
  };
}

// A number as typed, or the text itself when it is not one, so that the server
// names the field that is wrong.
function number(value) {
  const trimmed = String(value).trim();
  if (trimmed === "") return null;
  const parsed = Number(trimmed);
  return Number.isFinite(parsed) ? parsed : trimmed;
}

export function siteBody(form) {
  return {
    name: form.name.trim(),
    address: form.address.trim() || null,
    latitude: number(form.latitude),
    longitude: number(form.longitude),
    timezone: form.timezone,
    tariff: {
      currency: form.currency.trim().toUpperCase(),
      import_per_kwh: number(form.import_per_kwh),
      export_per_kwh: number(form.export_per_kwh),
      periods: form.periods.map((period) => ({
        start_hour: number(period.start_hour),
        end_hour: number(period.end_hour),
        import_per_kwh: number(period.import_per_kwh),
        export_per_kwh: number(period.export_per_kwh),
      })),
    },
    co2_kg_per_kwh: number(form.co2_kg_per_kwh),
  };
}

// A tariff in a line: "0.30 EUR/kWh in, 0.08 out; 17–21 h 0.45 in".
export function describeTariff(tariff) {
  if (!tariff) return "–";
  const price = (value) => Number(value).toFixed(2);
  const flat = `${price(tariff.import_per_kwh)} ${tariff.currency}/kWh in, ${price(tariff.export_per_kwh)} out`;
  const periods = (tariff.periods || []).map(
    (period) => `${period.start_hour}–${period.end_hour} h ${price(period.import_per_kwh)} in, ${price(period.export_per_kwh)} out`,
  );
  return [flat, ...periods].join("; ");
}

// Sites that have a location, as map markers.
export function markers(sites) {
  return (sites || [])
    .filter((site) => site.latitude !== null && site.latitude !== undefined && site.longitude !== null && site.longitude !== undefined)
    .map((site) => ({ id: site.id, name: site.name, position: [site.latitude, site.longitude] }));
}
