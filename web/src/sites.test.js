import { describe, expect, it } from "vitest";
import { describeTariff, markers, siteBody, siteForm, timeZones } from "./sites.js";

const SITE = {
  id: "s1",
  name: "Home",
  address: null,
  latitude: 52.52,
  longitude: 13.4,
  timezone: "Europe/Berlin",
  tariff: {
    currency: "EUR",
    import_per_kwh: 0.3,
    export_per_kwh: 0.08,
    periods: [{ start_hour: 17, end_hour: 21, import_per_kwh: 0.45, export_per_kwh: 0.08 }],
  },
  co2_kg_per_kwh: 0.38,
};

describe("site form", () => {
  it("gives back the site it was made from", () => {
    const body = siteBody(siteForm(SITE));
    expect(body).toEqual({
      name: "Home",
      address: null,
      latitude: 52.52,
      longitude: 13.4,
      timezone: "Europe/Berlin",
      tariff: SITE.tariff,
      co2_kg_per_kwh: 0.38,
    });
  });

  it("sends an empty location as none and what is not a number as typed", () => {
    const form = { ...siteForm(SITE), latitude: "", longitude: "", import_per_kwh: "cheap" };
    const body = siteBody(form);
    expect(body.latitude).toBeNull();
    expect(body.longitude).toBeNull();
    expect(body.tariff.import_per_kwh).toBe("cheap");
  });

  it("starts a new site with the default tariff", () => {
    expect(siteForm(null)).toMatchObject({ timezone: "UTC", currency: "EUR", import_per_kwh: "0.3", periods: [] });
  });
});

describe("describeTariff", () => {
  it("lists the flat prices and each period", () => {
    expect(describeTariff(SITE.tariff)).toBe("0.30 EUR/kWh in, 0.08 out; 17–21 h 0.45 in, 0.08 out");
  });
});

describe("markers", () => {
  it("places only sites with a location", () => {
    expect(markers([SITE, { ...SITE, id: "s2", latitude: null, longitude: null }])).toEqual([
      { id: "s1", name: "Home", position: [52.52, 13.4] },
    ]);
  });
});

describe("timeZones", () => {
  it("starts with UTC and knows the IANA names", () => {
    const zones = timeZones();
    expect(zones[0]).toBe("UTC");
    expect(zones).toContain("Europe/Berlin");
  });
});
