import { useCallback, useMemo } from "react";
import { Bar } from "react-chartjs-2";
import { useSearchParams } from "react-router-dom";
import { bucketLabel, change, drillRange, energyQuery, numeric, PRESETS, previousPeriod, RESOLUTIONS, rangeFor } from "../analytics.js";
import { saveFile } from "../api.js";
import { baseOptions, COLORS } from "../components/charts.js";
import { DataTable } from "../components/DataTable.jsx";
import { Fact } from "../components/Fact.jsx";
import { Field, FormError } from "../components/Field.jsx";
import { Resource } from "../components/Status.jsx";
import { energyFigure, energyNumber, energyUnitShown, inEnergyUnit, money } from "../format.js";
import { useAction, useResource } from "../hooks.js";
import { useSession } from "../session.jsx";

// What the page shows, from its address, so that a view can be linked and the
// browser's back button steps back through a drill-down.
function useView() {
  const [params, setParams] = useSearchParams();
  const view = {
    site: params.get("site") || "",
    room: params.get("room") || "",
    device: params.get("device") || "",
    preset: params.get("preset") || "7d",
    from: params.get("from") || "",
    to: params.get("to") || "",
    resolution: params.get("resolution") || "",
    compare: params.get("compare") === "1",
  };
  const update = useCallback(
    (changes) => {
      const next = { ...view, ...changes };
      const entries = Object.entries(next).filter(([, value]) => value !== "" && value !== false);
      setParams(Object.fromEntries(entries.map(([key, value]) => [key, value === true ? "1" : value])));
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [params, setParams],
  );
  return [view, update];
}

function scopeOf(view) {
  if (view.device) return { scope: "device", id: view.device };
  if (view.room) return { scope: "room", id: view.room };
  if (view.site) return { scope: "site", id: view.site };
  return { scope: "portfolio", id: "" };
}

function EnergyChart({ energy, previous }) {
  const zone = energy.timezone || "UTC";
  const labels = energy.series.map((bucket) => bucketLabel(bucket.start, energy.resolution, zone));
  const unit = energyUnitShown();
  const data = {
    labels,
    datasets: [
      { type: "bar", label: `Import (${unit})`, data: energy.series.map((b) => inEnergyUnit(b.import_kwh)), backgroundColor: COLORS.used, stack: "energy" },
      { type: "bar", label: `Export (${unit}, below zero)`, data: energy.series.map((b) => -inEnergyUnit(b.export_kwh)), backgroundColor: COLORS.export, stack: "energy" },
      { type: "line", label: "Net", data: energy.series.map((b) => inEnergyUnit(b.net_kwh)), borderColor: COLORS.net, backgroundColor: COLORS.net, pointRadius: 2, stack: "net" },
      ...(previous
        ? [
            {
              type: "line",
              label: "Net, previous period",
              data: energy.series.map((_, index) => inEnergyUnit(previous.series[index]?.net_kwh ?? null)),
              borderColor: COLORS.forecast,
              borderDash: [6, 4],
              pointRadius: 0,
              stack: "previous",
            },
          ]
        : []),
    ],
  };
  return (
    <figure className="chart">
      <div className="chart-box">
        <Bar
          data={data}
          options={baseOptions({ stacked: true })}
          role="img"
          aria-label={`Energy by ${energy.resolution}: ${energyFigure(energy.totals.import_kwh)} imported, ${energyFigure(energy.totals.export_kwh)} exported`}
          data-testid="energy-chart"
        />
      </div>
      <figcaption>
        {RESOLUTIONS[energy.resolution]}s in {zone}
        {energy.resolution === "hour" ? " (hours of the platform's UTC totals)" : ""}.
      </figcaption>
    </figure>
  );
}

function Totals({ energy, previous }) {
  const t = energy.totals;
  const p = previous?.totals;
  const delta = (name) => {
    const value = p ? change(t[name], p[name]) : null;
    return value === null ? null : <small> ({value > 0 ? "+" : ""}{value} % on the previous period)</small>;
  };
  return (
    <dl className="facts" data-testid="energy-totals">
      <Fact term="Imported">{energyFigure(t.import_kwh)}{delta("import_kwh")}</Fact>
      <Fact term="Exported">{energyFigure(t.export_kwh)}{delta("export_kwh")}</Fact>
      <Fact term="Net">{energyFigure(t.net_kwh)}{delta("net_kwh")}</Fact>
      <Fact term="Cost">{money(t.cost)} {energy.currency ?? "(several currencies)"}{delta("cost")}</Fact>
      <Fact term="CO2">{Number(t.co2_kg).toFixed(2)} kg{delta("co2_kg")}</Fact>
    </dl>
  );
}

// The buckets as a table; a day or a month opens at the next resolution down.
function Buckets({ energy, onDrill }) {
  const zone = energy.timezone || "UTC";
  const finer = { month: "day", day: "hour" }[energy.resolution];
  return (
    <DataTable caption="Energy per period" columns={["Period", `Import (${energyUnitShown()})`, `Export (${energyUnitShown()})`, `Net (${energyUnitShown()})`, `Cost (${energy.currency ?? "–"})`, "CO2 (kg)"]} scrolls data-testid="energy-buckets">
      {energy.series.map((bucket) => {
        const label = bucketLabel(bucket.start, energy.resolution, zone);
        return (
          <tr key={bucket.start}>
            <td>
              {finer ? (
                <button type="button" className="link" onClick={() => onDrill(bucket)} aria-label={`Open ${label} by ${finer}`}>
                  {label}
                </button>
              ) : (
                label
              )}
            </td>
            <td>{energyNumber(bucket.import_kwh)}</td>
            <td>{energyNumber(bucket.export_kwh)}</td>
            <td>{energyNumber(bucket.net_kwh)}</td>
            <td>{money(bucket.cost)}</td>
            <td>{bucket.co2_kg.toFixed(3)}</td>
          </tr>
        );
      })}
    </DataTable>
  );
}

export default function Analytics() {
  const { api } = useSession();
  const [view, update] = useView();
  const sites = useResource((signal) => api.get("/api/sites", { signal }), []);
  const rooms = useResource((signal) => (view.site ? api.get(`/api/sites/${view.site}/rooms`, { signal }) : Promise.resolve([])), [view.site]);
  const devices = useResource((signal) => (view.site ? api.get(`/api/devices?site_id=${view.site}`, { signal }) : Promise.resolve([])), [view.site]);
  const site = (sites.data || []).find((one) => one.id === view.site);
  const timeZone = site?.timezone || "UTC";
  const range = useMemo(
    () =>
      view.preset === "custom"
        ? rangeFor("custom", { timeZone, custom: { from: view.from, to: view.to, resolution: view.resolution || "day" } })
        : { ...rangeFor(view.preset, { timeZone }), ...(view.resolution ? { resolution: view.resolution } : {}) },
    [view.preset, view.from, view.to, view.resolution, timeZone],
  );
  const target = scopeOf(view);
  const query = energyQuery({ ...target, ...range });
  const previousQuery = energyQuery({ ...target, ...previousPeriod(range) });
  const energy = useResource(
    async (signal) => {
      const [now, before] = await Promise.all([
        api.get(`/api/energy${query}`, { signal }),
        view.compare ? api.get(`/api/energy${previousQuery}`, { signal }) : Promise.resolve(null),
      ]);
      return { now: numeric(now), before: before && numeric(before) };
    },
    [query, previousQuery, view.compare],
  );
  const download = useAction(useCallback(async (path) => saveFile(await api.download(path)), [api]));
  const roomDevices = (devices.data || []).filter((device) => !view.room || device.room_id === view.room);

  const drill = (bucket) => update(drillRange(bucket.start, energy.data.now.resolution, energy.data.now.timezone || "UTC"));

  return (
    <section>
      <h1>Analytics</h1>
      <form className="analytics-controls" aria-label="What to show" onSubmit={(event) => event.preventDefault()}>
        <div className="grid">
          <Field label="Site" name="site" as="select" value={view.site} onChange={(event) => update({ site: event.target.value, room: "", device: "" })}>
            <option value="">All my sites</option>
            {(sites.data || []).map((one) => (
              <option key={one.id} value={one.id}>
                {one.name}
              </option>
            ))}
          </Field>
          <Field label="Room" name="room" as="select" value={view.room} disabled={!view.site} onChange={(event) => update({ room: event.target.value, device: "" })}>
            <option value="">Every room</option>
            {(rooms.data || []).map((room) => (
              <option key={room.id} value={room.id}>
                {room.name}
              </option>
            ))}
          </Field>
          <Field label="Device" name="device" as="select" value={view.device} disabled={!view.site} onChange={(event) => update({ device: event.target.value })}>
            <option value="">Every device</option>
            {roomDevices.map((device) => (
              <option key={device.id} value={device.id}>
                {device.name}
              </option>
            ))}
          </Field>
        </div>
        <fieldset role="group" aria-label="Range" className="presets">
          {Object.entries(PRESETS).map(([key, preset]) => (
            <button key={key} type="button" className={view.preset === key ? "" : "outline"} aria-pressed={view.preset === key} onClick={() => update({ preset: key, resolution: "", from: key === "custom" ? range.from : "", to: "" })}>
              {preset.label}
            </button>
          ))}
        </fieldset>
        <div className="grid">
          {view.preset === "custom" && (
            <>
              <Field label="From" name="from" type="date" value={view.from || range.from} onChange={(event) => update({ from: event.target.value })} />
              <Field label="To (included)" name="to" type="date" value={view.to || view.from || range.from} onChange={(event) => update({ to: event.target.value })} />
            </>
          )}
          <Field label="Resolution" name="resolution" as="select" value={range.resolution} onChange={(event) => update({ resolution: event.target.value })}>
            {Object.entries(RESOLUTIONS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </Field>
          <label>
            <input type="checkbox" role="switch" checked={view.compare} onChange={(event) => update({ compare: event.target.checked })} />
            Compare with the previous period
          </label>
        </div>
      </form>
      <div className="actions">
        <button type="button" className="outline" aria-busy={download.busy} onClick={() => download.run(`/api/export/energy.csv${query}`)}>
          Download CSV
        </button>
        {target.scope === "device" && (
          <button
            type="button"
            className="outline"
            aria-busy={download.busy}
            onClick={() => download.run(`/api/export/readings.csv?device_id=${target.id}&from=${range.from}&to=${range.to}`)}
          >
            Download readings CSV
          </button>
        )}
      </div>
      <FormError error={download.error} />
      <Resource resource={energy} loadingLabel="Loading energy…">
        {({ now, before }) => (
          <>
            <p>
              {now.from.slice(0, 10)} to {now.to.slice(0, 10)} (excluded), {now.timezone}
            </p>
            <Totals energy={now} previous={before} />
            <EnergyChart energy={now} previous={before} />
            <Buckets energy={now} onDrill={drill} />
          </>
        )}
      </Resource>
    </section>
  );
}
