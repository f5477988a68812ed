import { useMemo, useState } from "react";
import { Bar, Line } from "react-chartjs-2";
import { Link, useParams } from "react-router-dom";
import { baseOptions, COLORS } from "../components/charts.js";
import { Resource } from "../components/Status.jsx";
import { Fact } from "../components/Fact.jsx";
import { applyTotals, energyRows } from "../consumption.js";
import { DEVICE_KINDS, energyFigure, energyAsTyped, energyUnitShown, inEnergyUnit, utcDate, utcHour } from "../format.js";
import { useResource } from "../hooks.js";
import { useLive, useSession } from "../session.jsx";
import { CONSUMPTION_UPDATED } from "../pushes.generated.js";
import { AlarmRules } from "./alarms/AlarmRules.jsx";
import { CommandPanel } from "./devices/CommandPanel.jsx";

// The limit is drawn when it is on the bars' scale; far above them it would
// flatten them to nothing, so the caption gives it instead.
function limitOnScale(day, limit) {
  const highest = Math.max(...day.hours.map((slot) => slot.kwh));
  return Boolean(limit) && limit <= Math.max(highest * 2, 0.001);
}

function DayChart({ day, limit }) {
  const showLimit = limitOnScale(day, limit);
  const { hours, totals } = energyRows(day);
  const exports = totals.export > 0;
  const data = {
    labels: hours.map((row) => utcHour(row.hour)),
    datasets: [
      {
        type: "bar",
        label: `Import (${energyUnitShown()})`,
        data: hours.map((row) => inEnergyUnit(row.import)),
        backgroundColor: hours.map((row) => (limit && row.import > limit ? COLORS.over : COLORS.used)),
        stack: "energy",
      },
      {
        type: "bar",
        label: `Export (${energyUnitShown()}, below zero)`,
        data: hours.map((row) => -inEnergyUnit(row.export)),
        backgroundColor: COLORS.export,
        stack: "energy",
      },
      {
        type: "line",
        label: "Net (import − export)",
        data: hours.map((row) => inEnergyUnit(row.net)),
        borderColor: COLORS.net,
        backgroundColor: COLORS.net,
        pointRadius: 2,
        stack: "net",
      },
      ...(showLimit
        ? [
            {
              type: "line",
              label: "Hourly limit",
              data: hours.map(() => inEnergyUnit(limit)),
              borderColor: COLORS.limit,
              borderDash: [6, 4],
              pointRadius: 0,
              stack: "limit",
            },
          ]
        : []),
    ],
  };
  // Import and export stack in one column, up and down; the lines stand alone.
  const options = baseOptions({ stacked: true });
  const used = hours.filter((row) => row.import > 0).length;
  return (
    <figure className="chart">
      <div className="chart-box">
        <Bar
          data={data}
          options={options}
          role="img"
          aria-label={`Hourly energy on ${day.date} (UTC): ${energyFigure(totals.import)} imported in ${used} hours, ${energyFigure(totals.export)} exported, net ${energyFigure(totals.net)}`}
          data-testid="consumption-chart"
        />
      </div>
      <figcaption>
        Total {energyFigure(day.total_kwh)} imported on {day.date} (UTC hours)
        {limit && !showLimit && ` · limit ${energyAsTyped(limit)} per hour, above the scale`}
        {hours.some((row) => row.import > limit) && " · red: over the limit"}
      </figcaption>
      <dl className="energy-totals" data-testid="energy-totals">
        <Fact term="Imported">{energyFigure(totals.import)}</Fact>
        <Fact term="Exported">{energyFigure(day.total_export_kwh ?? totals.export)}</Fact>
        <Fact term="Net (import − export)">{energyFigure(totals.net)}</Fact>
      </dl>
      {!exports && <p className="hint">Nothing exported this day.</p>}
      <div className="visually-hidden">
      <table data-testid="consumption-table">
        <caption>Import, export and net per hour</caption>
        <thead>
          <tr>
            <th scope="col">Hour (UTC)</th>
            <th scope="col">Import {energyUnitShown()}</th>
            <th scope="col">Export {energyUnitShown()}</th>
            <th scope="col">Net {energyUnitShown()}</th>
          </tr>
        </thead>
        <tbody>
          {hours.map((row) => (
            <tr key={row.hour}>
              <td>{utcHour(row.hour)}</td>
              <td>{inEnergyUnit(row.import)}</td>
              <td>{inEnergyUnit(row.export)}</td>
              <td>{inEnergyUnit(row.net)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </figure>
  );
}

function ForecastChart({ forecast }) {
  const data = {
    labels: forecast.hours.map((slot) => `${slot.hour.slice(5, 10)} ${utcHour(slot.hour)}`),
    datasets: [
      {
        label: `Forecast (${energyUnitShown()})`,
        data: forecast.hours.map((slot) => inEnergyUnit(slot.kwh)),
        borderColor: COLORS.forecast,
        backgroundColor: `${COLORS.forecast}33`,
        fill: true,
        pointRadius: 0,
      },
    ],
  };
  const total = forecast.hours.reduce((sum, slot) => sum + slot.kwh, 0);
  return (
    <figure className="chart">
      <div className="chart-box">
        <Line data={data} options={baseOptions()} role="img" aria-label={`Forecast for the next ${forecast.hours.length} hours: ${energyFigure(total)}`} />
      </div>
      <figcaption>
        Next {forecast.hours.length} hours: {energyFigure(total)} expected
        {forecast.note && <small> · {forecast.note}</small>}
      </figcaption>
    </figure>
  );
}

export default function Consumption() {
  const { deviceId } = useParams();
  const { api, liveStatus } = useSession();
  const [date, setDate] = useState(() => utcDate());
  const device = useResource((signal) => api.get(`/api/devices/${deviceId}`, { signal }), [deviceId]);
  const day = useResource(
    (signal) => api.get(`/api/consumption/day?device_id=${deviceId}&date=${date}`, { signal }),
    [deviceId, date, liveStatus === "open"],
  );
  const forecast = useResource(
    (signal) => api.get(`/api/forecast/consumption?device_id=${deviceId}&hours=24`, { signal }),
    [deviceId],
  );

  // Totals counted while the page is open move the bars at once.
  useLive(CONSUMPTION_UPDATED, (message) => {
    day.setData((shown) => applyTotals(shown, message.data?.totals || []));
  });

  const limit = device.data?.max_hourly_kwh;
  const title = device.data ? device.data.name : "Consumption";
  const today = useMemo(() => utcDate(), []);
  return (
    <section>
      <nav aria-label="Breadcrumb">
        <ul>
          <li>
            <Link to="/devices">Devices</Link>
          </li>
          <li aria-current="page">{title}</li>
        </ul>
      </nav>
      <h1>{title}</h1>
      {device.error?.status === 404 ? (
        <p role="alert">This device does not exist, or is not yours.</p>
      ) : (
        <>
          {device.data && (
            <p>
              {DEVICE_KINDS[device.data.kind]} · hourly limit {energyAsTyped(limit)}
            </p>
          )}
          <label className="date-picker">
            Day (UTC)
            <input type="date" value={date} max={today} onChange={(e) => e.target.value && setDate(e.target.value)} />
          </label>
          <div className="charts">
            <section aria-labelledby="used-heading">
              <h2 id="used-heading">Import, export and net per hour</h2>
              <Resource resource={day} isEmpty={() => false} loadingLabel="Loading consumption…">
                {(shown) => <DayChart day={shown} limit={limit} />}
              </Resource>
            </section>
            <section aria-labelledby="forecast-heading">
              <h2 id="forecast-heading">Forecast</h2>
              <Resource resource={forecast} isEmpty={(f) => !f?.hours?.length} empty="Not enough history to forecast yet." loadingLabel="Loading forecast…">
                {(shown) => <ForecastChart forecast={shown} />}
              </Resource>
            </section>
          </div>
          {device.data?.permissions?.command && <CommandPanel device={device.data} />}
          {device.data && <AlarmRules device={device.data} canAdd={Boolean(device.data.permissions?.update)} />}
        </>
      )}
    </section>
  );
}
