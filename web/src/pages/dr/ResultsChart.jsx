import { Bar } from "react-chartjs-2";
import { baseOptions, COLORS } from "../../components/charts.js";
import { hourLabels } from "../../dr.js";
import { energyFigure, energyUnitShown, inEnergyUnit, timeZoneShown } from "../../format.js";
import "./Results.css";

// The hours of an event summed over its participants: baseline against actual
// use, with a table for screen readers.
export function ResultsChart({ hours, title }) {
  const label = hourLabels(hours);
  const data = {
    labels: hours.map((row) => label(row.hour)),
    datasets: [
      { label: `Baseline (${energyUnitShown()})`, data: hours.map((row) => inEnergyUnit(row.baseline_kwh)), backgroundColor: COLORS.forecast },
      { label: `Actual (${energyUnitShown()})`, data: hours.map((row) => inEnergyUnit(row.actual_kwh)), backgroundColor: COLORS.used },
    ],
  };
  const baseline = hours.reduce((sum, row) => sum + row.baseline_kwh, 0);
  const actual = hours.reduce((sum, row) => sum + row.actual_kwh, 0);
  return (
    <figure className="chart dr-chart">
      <div className="chart-box">
        <Bar
          data={data}
          options={baseOptions()}
          role="img"
          aria-label={`${title}: baseline ${energyFigure(baseline)}, actual ${energyFigure(actual)} over ${hours.length} hours (${timeZoneShown()})`}
          data-testid="dr-results-chart"
        />
      </div>
      <figcaption>
        {title}: baseline against actual use per hour ({timeZoneShown()})
      </figcaption>
      <div className="visually-hidden">
        <table>
          <caption>{title} per hour</caption>
          <thead>
            <tr>
              <th scope="col">Hour ({timeZoneShown()})</th>
              <th scope="col">Baseline {energyUnitShown()}</th>
              <th scope="col">Actual {energyUnitShown()}</th>
            </tr>
          </thead>
          <tbody>
            {hours.map((row) => (
              <tr key={row.hour}>
                <td>{label(row.hour)}</td>
                <td>{inEnergyUnit(row.baseline_kwh)}</td>
                <td>{inEnergyUnit(row.actual_kwh)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
