import { DataTable } from "../../components/DataTable.jsx";
import { Fact } from "../../components/Fact.jsx";
import { Resource } from "../../components/Status.jsx";
import { timeZoneShown } from "../../format.js";
import { hourLabels, kw } from "../../dr.js";
import { useResource } from "../../hooks.js";
import { useSession } from "../../session.jsx";
import "./dr.css";
import "./StaffEvents.css";

// What the opted-in users could shed in each hour of an event, against its target.
export function Flexibility({ eventId, version }) {
  const { api } = useSession();
  const offer = useResource((signal) => api.get(`/api/dr/events/${eventId}/flexibility`, { signal }), [eventId, version]);
  return (
    <section aria-labelledby="dr-flex-heading">
      <h3 id="dr-flex-heading">Flexibility on offer</h3>
      <Resource resource={offer} isEmpty={() => false} loadingLabel="Working out the flexibility…">
        {(f) => (
          <>
            <p>
              <strong>{kw(f.flexibility_kw)}</strong> of the {kw(f.target_reduction_kw)} target in the weakest hour:{" "}
              <span className={f.covers_target ? "dr-ok" : "dr-short"}>
                {f.covers_target ? "covers the target" : "does not cover the target"}
              </span>
              .
            </p>
            <dl className="dr-facts">
              <Fact term="Opted in">{f.participant_count}</Fact>
              <Fact term="Their baseline load">{kw(f.opted_in_load_kw)}</Fact>
              <Fact term="Batteries">
                {f.battery_count}, {kw(f.battery_headroom_kw)}
              </Fact>
            </dl>
            {f.notes?.length > 0 && (
              <ul className="dr-notes" aria-label="Notes">
                {f.notes.map((note) => (
                  <li key={note}>{note}</li>
                ))}
              </ul>
            )}
            {f.hours?.length > 0 && (
              <DataTable
                caption="Flexibility per hour"
                columns={[`Hour (${timeZoneShown()})`, "Opted-in load", "Battery headroom", "Flexibility"]}
              >
                {f.hours.map((row) => (
                  <tr key={row.hour}>
                    <td>{hourLabels(f.hours)(row.hour)}</td>
                    <td>{kw(row.opted_in_load_kw)}</td>
                    <td>{kw(row.battery_headroom_kw)}</td>
                    <td>{kw(row.flexibility_kw)}</td>
                  </tr>
                ))}
              </DataTable>
            )}
          </>
        )}
      </Resource>
    </section>
  );
}
