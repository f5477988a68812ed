import { Chart } from "react-chartjs-2";
import { ACTION_LABELS, fixed, hourLabel, signedPower } from "../../batteries.js";
import { baseOptions, COLORS } from "../../components/charts.js";
import { DataTable } from "../../components/DataTable.jsx";
import { Fact } from "../../components/Fact.jsx";
import { dateTime, energyFigure, energyNumber, energyUnitShown, inEnergyUnit, money } from "../../format.js";
import { perKwh } from "../../trading.js";
import "./ScheduleResult.css";

// The table's columns, energy in the account's unit.
function columns() {
  const unit = energyUnitShown();
  return ["Hour (UTC)", "Action", "Power (kW)", `Charge at end (${unit})`, `Load (${unit})`, `From grid (${unit})`, "Import price", "Cost"];
}

// A planned schedule: its costs, a chart of the hours and the same as a table.
function ScheduleChart({ result, labels, capacity, prices }) {
  const data = {
    labels,
    datasets: [
      {
        type: "line",
        label: `State of charge (${energyUnitShown()})`,
        data: result.hours.map((h) => inEnergyUnit(h.soc_kwh_end)),
        borderColor: COLORS.used,
        backgroundColor: COLORS.used,
        yAxisID: "soc",
        pointRadius: 2,
        tension: 0.2,
        order: 0,
      },
      {
        type: "bar",
        label: "Charge (kW)",
        data: result.hours.map((h) => (h.action === "charge" ? h.power_kw : 0)),
        backgroundColor: COLORS.charge,
        yAxisID: "y",
        order: 2,
      },
      {
        type: "bar",
        label: "Discharge (kW)",
        data: result.hours.map((h) => (h.action === "discharge" ? signedPower(h) : 0)),
        backgroundColor: COLORS.discharge,
        yAxisID: "y",
        order: 2,
      },
      {
        type: "line",
        label: "Import price",
        data: prices,
        borderColor: COLORS.limit,
        borderDash: [6, 4],
        borderWidth: 1.5,
        pointRadius: 0,
        stepped: "middle",
        yAxisID: "price",
        order: 1,
      },
    ],
  };
  const base = baseOptions({ yTitle: "Power (kW)", stacked: true });
  const options = {
    ...base,
    scales: {
      x: base.scales.x,
      y: { ...base.scales.y, beginAtZero: true },
      soc: {
        position: "right",
        min: 0,
        max: inEnergyUnit(capacity),
        title: { display: true, text: `Charge (${energyUnitShown()})` },
        grid: { drawOnChartArea: false },
      },
      price: { display: false },
    },
  };
  const charged = result.hours.filter((h) => h.action === "charge").length;
  const discharged = result.hours.filter((h) => h.action === "discharge").length;
  return (
    <div className="chart-box schedule-chart">
      <Chart
        type="bar"
        data={data}
        options={options}
        role="img"
        aria-label={`Planned schedule over ${result.hours.length} hours: charging in ${charged} hours, discharging in ${discharged}, saving ${money(result.saving)}. The table below has every hour.`}
        data-testid="schedule-chart"
      />
    </div>
  );
}

export function ScheduleResult({ plan }) {
  const { result, startHour, prices, capacity } = plan;
  const labels = result.hours.map((h) => hourLabel(startHour + h.hour_index));
  return (
    <section className="schedule-result" aria-labelledby="plan-heading" aria-live="polite">
      <h3 id="plan-heading">The cheapest plan from {dateTime(plan.startIso)}</h3>
      <dl className="plan-summary">
        <Fact term="Cost with the battery">{money(result.total_cost)}</Fact>
        <Fact term="Cost without it">{money(result.cost_without_battery)}</Fact>
        <Fact term="Saving" className={result.saving > 0 ? "saving" : undefined}>
          {money(result.saving)}
        </Fact>
        <Fact term="Charge at the start">{energyFigure(result.start_soc_kwh, 2)}</Fact>
      </dl>
      <ScheduleChart result={result} labels={labels} capacity={capacity} prices={prices} />
      <p>
        <small>
          Hours in UTC. Bars: charging up, discharging down (kW, over the whole hour). Line: the charge at the end of
          each hour. Planned by {result.method}, in steps of {energyFigure(result.grid_step_kwh, 3)}. Nothing is commanded.
        </small>
      </p>
      <details>
        <summary>The plan as a table</summary>
        <DataTable
          data-testid="schedule-table"
          caption="The plan hour by hour"
          columns={columns()}
          footer={
            <tr>
              <th scope="row" colSpan={7}>
                Total
              </th>
              <td>{fixed(result.total_cost, 3)}</td>
            </tr>
          }
        >
          {result.hours.map((h, i) => (
            <tr key={h.hour_index}>
              <th scope="row">{labels[i]}</th>
              <td>{ACTION_LABELS[h.action] || h.action}</td>
              <td>{h.action === "idle" ? "–" : fixed(h.power_kw, 2)}</td>
              <td>{energyNumber(h.soc_kwh_end, 2)}</td>
              <td>{energyNumber(h.load_kwh, 2)}</td>
              <td>{energyNumber(h.grid_kwh, 2)}</td>
              <td>{perKwh(prices[i])}</td>
              <td>{fixed(h.cost, 3)}</td>
            </tr>
          ))}
        </DataTable>
      </details>
    </section>
  );
}
