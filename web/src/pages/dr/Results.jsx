import { useMemo } from "react";
import { DataTable } from "../../components/DataTable.jsx";
import { Fact } from "../../components/Fact.jsx";
import { Resource } from "../../components/Status.jsx";
import { hourLabels, hourlyTotals, personText } from "../../dr.js";
import { energyFigure, money } from "../../format.js";
import { useResource } from "../../hooks.js";
import { useSession } from "../../session.jsx";
import { Dispatches } from "./Dispatches.jsx";
import { ResultsChart } from "./ResultsChart.jsx";
import "./dr.css";
import "./Results.css";

function ParticipantTable({ participant, label, open, own }) {
  const hourLabel = hourLabels(participant.hours);
  return (
    <details className="dr-participant" open={open}>
      <summary>
        {label}: saved {energyFigure(participant.reduction_kwh)}, incentive {money(participant.incentive)}
      </summary>
      <p className="dr-muted">
        Baseline from {participant.baseline_days} {participant.baseline_days === 1 ? "day" : "days"}
        {participant.baseline_note && ` (${participant.baseline_note})`}.
      </p>
      <DataTable
        caption={`Results of ${label} per hour`}
        columns={["Hour (UTC)", "Baseline", "Actual", "Reduction"]}
        footer={
          <tr>
            <th scope="row">Total</th>
            <td>{energyFigure(participant.baseline_kwh)}</td>
            <td>{energyFigure(participant.actual_kwh)}</td>
            <td>{energyFigure(participant.reduction_kwh)}</td>
          </tr>
        }
      >
        {participant.hours.map((row) => (
          <tr key={row.hour}>
            <td>{hourLabel(row.hour)}</td>
            <td>{energyFigure(row.baseline_kwh)}</td>
            <td>{energyFigure(row.actual_kwh)}</td>
            <td>{energyFigure(row.reduction_kwh)}</td>
          </tr>
        ))}
      </DataTable>
      <Dispatches participant={participant} label={own ? "yours" : label} own={own} />
    </details>
  );
}

// What a finished event achieved: totals, a chart of the hours summed over the
// participants, and each participant's table. `own`: a user's view of theirs.
export function Results({ eventId, own = false }) {
  const { api } = useSession();
  const results = useResource((signal) => api.get(`/api/dr/events/${eventId}/results`, { signal }), [eventId]);
  const hours = useMemo(() => hourlyTotals(results.data?.participants), [results.data]);
  return (
    <Resource
      resource={results}
      isEmpty={(r) => !r?.participants?.length}
      empty={own ? "You did not opt in to this event, so there is nothing to count." : "Nobody opted in to this event."}
      loadingLabel="Loading results…"
    >
      {(r) => (
        <div className="dr-results">
          <dl className="dr-facts">
            <Fact term={own ? "You saved" : "Reduction"}>{energyFigure(r.reduction_kwh)}</Fact>
            <Fact term={own ? "You earned" : "Incentives"}>{money(r.incentive)}</Fact>
            {!own && <Fact term="Participants">{r.participants.length}</Fact>}
          </dl>
          <ResultsChart hours={hours} title={own ? "Your use" : "All participants"} />
          {r.participants.map((participant) => (
            <ParticipantTable
              key={participant.user_id}
              participant={participant}
              label={own ? "Your hours" : personText(participant)}
              open={own || r.participants.length <= 3}
              own={own}
            />
          ))}
        </div>
      )}
    </Resource>
  );
}
