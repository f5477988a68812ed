// The first page after signing in. A household sees its site today: energy in
// and out, live power, cost so far, devices online and alerts. Those who read
// every site (staff, VIEWER) see the portfolio: the sites on a map, the
// portfolio's figures, sites ranked by today's consumption, and demand response.
import { lazy, Suspense, useState } from "react";
import { Link } from "react-router-dom";
import { DataTable } from "../components/DataTable.jsx";
import { Fact } from "../components/Fact.jsx";
import { Loading, Resource } from "../components/Status.jsx";
import { energyFigure, energyNumber, money } from "../format.js";
import { useInterval, useResource } from "../hooks.js";
import { hourOf, percent, power, rankedSites } from "../kpis.js";
import { can } from "../permissions.js";
import { useSession } from "../session.jsx";

const SiteMap = lazy(() => import("./sites/SiteMap.jsx"));

// How often the figures are asked again while the page is open.
const REFRESH_MS = 30_000;

function Figures({ kpis }) {
  const { today, month } = kpis;
  return (
    <dl className="facts" data-testid="kpis">
      <Fact term="Imported today">{energyFigure(today.import_kwh, 2)}</Fact>
      <Fact term="Exported today">{energyFigure(today.export_kwh, 2)}</Fact>
      <Fact term="Net today">{energyFigure(today.net_kwh, 2)}</Fact>
      <Fact term="Power now">{power(kpis.power_w)}</Fact>
      <Fact term="Cost so far today">
        {money(today.cost)} {kpis.currency}
      </Fact>
      <Fact term="This month">
        {energyFigure(month.import_kwh, 1)}, {money(month.cost)} {kpis.currency}
      </Fact>
      <Fact term="CO2 this month">{Number(month.co2_kg).toFixed(1)} kg</Fact>
      <Fact term="Peak hour today">
        {kpis.peak_hour ? `${hourOf(kpis.peak_hour.hour, kpis.timezone)} (${energyFigure(kpis.peak_hour.import_kwh, 2)})` : "–"}
      </Fact>
      {kpis.self_sufficiency !== null && <Fact term="Self-sufficiency today">{percent(kpis.self_sufficiency)}</Fact>}
      {kpis.self_consumption !== null && <Fact term="Self-consumption today">{percent(kpis.self_consumption)}</Fact>}
      <Fact term="Devices online">
        {kpis.devices.online} of {kpis.devices.total}
      </Fact>
      <Fact term="Active alarms">
        <Link to="/alarms">{kpis.alerts.active}</Link>
      </Fact>
      {kpis.batteries?.count > 0 && (
        <Fact term="Batteries">
          {energyNumber(kpis.batteries.soc_kwh, 2)} of {energyFigure(kpis.batteries.capacity_kwh, 2)} ({kpis.batteries.average_soc_percent} %)
        </Fact>
      )}
      <Fact term="Flexibility now">{kpis.flexibility_kw} kW</Fact>
    </dl>
  );
}

function Household() {
  const { api } = useSession();
  const sites = useResource((signal) => api.get("/api/sites", { signal }), []);
  const [chosen, setChosen] = useState("");
  return (
    <Resource resource={sites} empty="You have no site yet." loadingLabel="Loading your site…">
      {(list) => {
        const site = list.find((one) => one.id === chosen) || list[0];
        return (
          <>
            {list.length > 1 && (
              <label>
                Site
                <select value={site.id} onChange={(event) => setChosen(event.target.value)}>
                  {list.map((one) => (
                    <option key={one.id} value={one.id}>
                      {one.name}
                    </option>
                  ))}
                </select>
              </label>
            )}
            <SiteFigures site={site} />
          </>
        );
      }}
    </Resource>
  );
}

function useKpis(query) {
  const { api } = useSession();
  const kpis = useResource((signal) => api.get(`/api/kpis${query}`, { signal }), [query]);
  useInterval(() => kpis.reload({ quiet: true }), REFRESH_MS);
  return kpis;
}

function SiteFigures({ site }) {
  const kpis = useKpis(`?scope=site&id=${site.id}`);
  return (
    <section aria-labelledby="site-today">
      <h2 id="site-today">
        <Link to={`/sites/${site.id}`}>{site.name}</Link> today
      </h2>
      <Resource resource={kpis} loadingLabel="Loading today's figures…">
        {(data) => <Figures kpis={data} />}
      </Resource>
      <p>
        <Link to={`/analytics?site=${site.id}&preset=today`}>Today hour by hour</Link> ·{" "}
        <Link to={`/sites/${site.id}`}>The site&apos;s rooms and devices</Link>
      </p>
    </section>
  );
}

function DemandResponse() {
  const { api } = useSession();
  const events = useResource((signal) => api.get("/api/dr/events", { signal }), []);
  return (
    <section aria-labelledby="dr-status">
      <h2 id="dr-status">Demand response</h2>
      <Resource resource={events} empty="No events." isEmpty={(list) => !list.some((event) => ["active", "scheduled"].includes(event.status))}>
        {(list) => (
          <ul data-testid="dr-status">
            {list
              .filter((event) => ["active", "scheduled"].includes(event.status))
              .map((event) => (
                <li key={event.id}>
                  <Link to={`/dr?event=${event.id}`}>{event.name}</Link>: {event.status}, {event.target_reduction_kw} kW from{" "}
                  {new Date(event.start).toLocaleString()}
                </li>
              ))}
          </ul>
        )}
      </Resource>
    </section>
  );
}

function Portfolio() {
  const { api } = useSession();
  const kpis = useKpis("?scope=portfolio");
  const sites = useResource((signal) => api.get("/api/sites", { signal }), []);
  return (
    <Resource resource={kpis} loadingLabel="Loading the portfolio…">
      {(data) => (
        <>
          {sites.data && (
            <Suspense fallback={<Loading label="Loading the map…" />}>
              <SiteMap sites={sites.data} />
            </Suspense>
          )}
          <section aria-labelledby="portfolio-today">
            <h2 id="portfolio-today">Portfolio today</h2>
            <Figures kpis={data} />
          </section>
          <section aria-labelledby="ranking">
            <h2 id="ranking">Sites by consumption today</h2>
            <DataTable caption="Sites by consumption today" columns={["Site", "Imported today", "This month", `Cost this month (${data.currency})`, "Devices online", "Active alarms"]} data-testid="site-ranking" scrolls>
              {rankedSites(data.sites, sites.data).map((site) => (
                <tr key={site.id}>
                  <td>
                    <Link to={`/sites/${site.id}`}>{site.name}</Link>
                  </td>
                  <td>{energyFigure(site.today_import_kwh, 2)}</td>
                  <td>{energyFigure(site.month_import_kwh, 1)}</td>
                  <td>{money(site.month_cost)}</td>
                  <td>
                    {site.devices_online} of {site.devices_online + site.devices_offline}
                  </td>
                  <td>{site.alerts}</td>
                </tr>
              ))}
            </DataTable>
          </section>
          <DemandResponse />
        </>
      )}
    </Resource>
  );
}

export default function Home() {
  const { user } = useSession();
  return (
    <section>
      <h1>Overview</h1>
      {can(user, "devices.read_all") ? <Portfolio /> : <Household />}
    </section>
  );
}
