import { Line } from "react-chartjs-2";
import { fixed, planTimeline } from "../../batteries.js";
import { baseOptions, COLORS } from "../../components/charts.js";
import { DataTable } from "../../components/DataTable.jsx";
import { Resource } from "../../components/Status.jsx";
import { applyCommandUpdate, STATUS_LABELS } from "../../commands.js";
import { clock, energyNumber, energyUnitShown, inEnergyUnit, timeZoneShown } from "../../format.js";
import { useResource } from "../../hooks.js";
import { COMMAND_UPDATED } from "../../pushes.generated.js";
import { useLive, useSession } from "../../session.jsx";

const REPLANNED = { "no plan": "first plan", "plan ran out": "plan ran out", drift: "charge drifted" };

function PlanChart({ timeline, name }) {
  const data = {
    labels: timeline.map((point) => clock(point.at)),
    datasets: [
      {
        label: `Planned charge (${energyUnitShown()})`,
        data: timeline.map((point) => inEnergyUnit(point.planned_soc_kwh)),
        borderColor: COLORS.used,
        backgroundColor: COLORS.used,
        pointRadius: 2,
        spanGaps: true,
      },
      {
        label: `Reported charge (${energyUnitShown()})`,
        data: timeline.map((point) => inEnergyUnit(point.reported_soc_kwh)),
        borderColor: COLORS.charge,
        backgroundColor: COLORS.charge,
        borderDash: [4, 3],
        pointRadius: 3,
        spanGaps: true,
      },
    ],
  };
  const reported = timeline.filter((point) => point.reported_soc_kwh !== null).length;
  return (
    <div className="chart-box">
      <Line
        data={data}
        options={baseOptions()}
        role="img"
        aria-label={`Plan of ${name}: charge planned at ${timeline.length} times, reported at ${reported}`}
        data-testid="plan-chart"
      />
    </div>
  );
}

// Auto mode's plan (`GET /api/batteries/{id}/plan`) against what was executed:
// the charge planned and the charge reported, and each control interval's
// setpoint and the status of the command that carried it. A command to the
// battery's device (a setpoint going out, its answer) shows at once.
export function BatteryPlan({ battery, name }) {
  const { api, liveStatus } = useSession();
  const plan = useResource(
    (signal) => api.get(`/api/batteries/${battery.id}/plan`, { signal }),
    [battery.id, battery.control, liveStatus === "open"],
  );
  const commands = useResource(
    (signal) => api.get(`/api/devices/${battery.device_id}/commands?limit=100`, { signal }),
    [battery.device_id, liveStatus === "open"],
  );
  useLive(COMMAND_UPDATED, (message) => {
    if (message.data?.device_id !== battery.device_id) return;
    commands.setData((list) => applyCommandUpdate(list || [], message.data, battery.device_id));
    // A setpoint just sent is a new control interval of the plan's.
    if (!plan.data?.intervals?.some((interval) => interval.command_id === message.data.id)) plan.reload({ quiet: true });
  });
  return (
    <details className="battery-plan" open>
      <summary>Plan and execution</summary>
      <Resource
        resource={plan}
        isEmpty={(p) => !p?.steps?.length && !p?.intervals?.length}
        empty="No plan: the battery is under manual control."
        loadingLabel="Loading the plan…"
      >
        {(shown) => {
          const timeline = planTimeline(shown, commands.data);
          return (
            <>
              <PlanChart timeline={timeline} name={name} />
              <DataTable
                caption={`Plan of ${name} and what was executed`}
                columns={[`Time (${timeZoneShown()})`, "Setpoint (kW)", `Planned charge (${energyUnitShown()})`, `Reported charge (${energyUnitShown()})`, "Command"]}
                data-testid="plan-table"
                scrolls
              >
                {timeline.map((point) => (
                  <tr key={point.at}>
                    <td>
                      {clock(point.at)}
                      {point.replanned && <small> · {REPLANNED[point.replanned] || point.replanned}</small>}
                    </td>
                    <td>{fixed(point.planned_power_kw)}</td>
                    <td>{energyNumber(point.planned_soc_kwh, 2)}</td>
                    <td>{energyNumber(point.reported_soc_kwh, 2)}</td>
                    <td>{point.command_status ? STATUS_LABELS[point.command_status] || point.command_status : "–"}</td>
                  </tr>
                ))}
              </DataTable>
            </>
          );
        }}
      </Resource>
    </details>
  );
}
