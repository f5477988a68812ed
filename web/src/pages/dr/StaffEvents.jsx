import { useCallback, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { DataTable } from "../../components/DataTable.jsx";
import { Resource } from "../../components/Status.jsx";
import { countsText, kw, statusAt, upsertEvent, windowText } from "../../dr.js";
import { useResource } from "../../hooks.js";
import { can } from "../../permissions.js";
import { DR_EVENT } from "../../pushes.generated.js";
import { useLive, useSession } from "../../session.jsx";
import { CreateEvent } from "./CreateEvent.jsx";
import { EventDetail } from "./EventDetail.jsx";
import { StatusBadge } from "./StatusBadge.jsx";
import { useNow } from "./useNow.js";
import "./dr.css";
import "./StaffEvents.css";

// The demand-response console of the accounts that see every event (`dr.read_all`):
// the events, announcing one (`dr.create`), and the open event's detail.
export default function StaffEvents() {
  const { api, user, liveStatus } = useSession();
  const now = useNow();
  const [params, setParams] = useSearchParams();
  const selectedId = params.get("event");
  const [version, setVersion] = useState(0);
  const events = useResource((signal) => api.get("/api/dr/events", { signal }), [liveStatus === "open"]);

  // An answer comes over /ws (to every account that sees every event): the counts
  // and the open event follow.
  useLive(DR_EVENT, (message) => {
    events.setData((list) => upsertEvent(list, message.data?.event && { ...message.data.event }));
    events.reload({ quiet: true });
    if (message.data?.event?.id === selectedId) setVersion((v) => v + 1);
  });

  const changed = useCallback(
    (event) => {
      // A list row carries counts, not the invitations themselves.
      const { invitations: _invitations, ...rest } = event;
      events.setData((list) => upsertEvent(list, rest));
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [],
  );

  return (
    <section className="dr">
      <h1>Demand response</h1>
      <p>
        {can(user, "dr.create") ? "Announce an event, invite users, and see" : "See"} how much users can and did
        reduce. Answers arrive live.
      </p>
      {can(user, "dr.create") && (
        <CreateEvent
          onCreated={(event) => {
            events.setData((list) => upsertEvent(list, event));
            setParams({ event: event.id });
          }}
        />
      )}
      <div className="dr-list-header">
        <h2>Events</h2>
        <button
          type="button"
          className="outline secondary"
          onClick={() => {
            events.reload();
            setVersion((v) => v + 1);
          }}
          disabled={events.loading}
          aria-busy={events.loading && events.data !== null}
          aria-label="Refresh the events"
        >
          Refresh
        </button>
      </div>
      <Resource resource={events} empty="No events yet. Announce the first one above." loadingLabel="Loading events…">
        {(list) => (
          <DataTable
            className="data dr-events"
            data-testid="dr-events"
            caption="Demand-response events, latest start first"
            columns={["Event", "When (UTC)", "Status", "Target", "Answers"]}
          >
            {list.map((event) => (
              <tr key={event.id} className={event.id === selectedId ? "dr-selected" : undefined}>
                <th scope="row">
                  <Link
                    to={{ search: `?event=${event.id}` }}
                    aria-current={event.id === selectedId ? "true" : undefined}
                    aria-label={`Open ${event.name}`}
                  >
                    {event.name}
                  </Link>
                </th>
                <td>{windowText(event)}</td>
                <td>
                  <StatusBadge status={statusAt(event, now)} />
                </td>
                <td>{kw(event.target_reduction_kw)}</td>
                <td className="dr-answers">{countsText(event.invitation_counts)}</td>
              </tr>
            ))}
          </DataTable>
        )}
      </Resource>
      {selectedId && (
        <EventDetail
          key={selectedId}
          eventId={selectedId}
          version={version}
          now={now}
          onChanged={changed}
        />
      )}
    </section>
  );
}
