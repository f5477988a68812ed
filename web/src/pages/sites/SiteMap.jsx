// The sites on a map. The base layer is shipped with the app (Natural Earth's
// countries, from the world-atlas package): no tile server is needed. Each site
// with a location is a marker that opens its page; the table beside the map lists
// the same sites for keyboards and screen readers.
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import { useEffect, useRef } from "react";
import { useNavigate } from "react-router-dom";
import { feature } from "topojson-client";
import countries from "world-atlas/countries-110m.json";
import { markers } from "../../sites.js";

const LAND = feature(countries, countries.objects.countries);
// The closest the map frames its sites: the country around them stays in view (the
// base layer has no detail closer than that).
const MAX_ZOOM = 5;
const WORLD = [
  [-60, -170],
  [75, 180],
];

export default function SiteMap({ sites }) {
  const box = useRef(null);
  const navigate = useNavigate();
  const placed = markers(sites);
  const key = placed.map((marker) => `${marker.id}:${marker.position}`).join("|");

  useEffect(() => {
    const map = L.map(box.current, { worldCopyJump: true, attributionControl: true, zoomSnap: 0.5 });
    map.attributionControl.setPrefix("Leaflet").addAttribution("Natural Earth");
    L.geoJSON(LAND, {
      style: { color: "#90a4ae", weight: 0.6, fillColor: "#eceff1", fillOpacity: 1 },
      interactive: false,
    }).addTo(map);
    const layer = L.featureGroup(
      placed.map((site) =>
        L.circleMarker(site.position, {
          radius: 8,
          color: "#0d47a1",
          fillColor: "#1e88e5",
          fillOpacity: 0.9,
          className: "site-marker",
        })
          .bindTooltip(site.name)
          .on("click", () => navigate(`/sites/${site.id}`)),
      ),
    ).addTo(map);
    if (placed.length) map.fitBounds(layer.getBounds(), { maxZoom: MAX_ZOOM, padding: [30, 30] });
    else map.fitBounds(WORLD);
    return () => map.remove();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, navigate]);

  return (
    <figure className="site-map">
      <div ref={box} className="site-map-box" data-testid="site-map" role="region" aria-label={`Map of ${placed.length} sites`} />
      <figcaption>
        {placed.length} of {sites.length} sites placed on the map
        {placed.length < sites.length && " (the others have no location)"}.
      </figcaption>
    </figure>
  );
}
