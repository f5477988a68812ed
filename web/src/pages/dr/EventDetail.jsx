import { useCallback, useEffect, useRef } from "react";
import { Link } from "react-router-dom";
import { Fact } from "../../components/Fact.jsx";
import { FormError } from "../../components/Field.jsx";
import { Resource } from "../../components/Status.jsx";
import { countsText, eventHours, kw, statusAt, windowText } from "../../dr.js";
import { dateTime, money } from "../../format.js";
import { useAction, useResource } from "../../hooks.js";
import { can } from "../../permissions.js";
import { useSession } from "../../session.jsx";
import { Flexibility } from "./Flexibility.jsx";
import { InvitationList } from "./InvitationList.jsx";
import { InviteForm } from "./InviteForm.jsx";
import { Results } from "./Results.jsx";
import { StatusBadge } from "./StatusBadge.jsx";
import "./dr.css";
import "./StaffEvents.css";

// One event as staff see it: its facts, its invitations, and, as it goes, the
// flexibility on offer and what it achieved.
export function EventDetail({ eventId, version, now, onChanged }) {
  const { api, user } = useSession();
  const detail = useResource((signal) => api.get(`/api/dr/events/${eventId}`, { signal }), [eventId, version]);
  const heading = useRef(null);
  const loaded = detail.data !== null;
  useEffect(() => {
    if (loaded) heading.current?.focus();
  }, [loaded]);

  const changed = useCallback(
    (event) => {
      detail.setData(() => event);
      onChanged(event);
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [onChanged],
  );
  const cancel = useCallback(async () => {
    const event = detail.data;
    if (!window.confirm(`Cancel “${event.name}”? Everyone invited is told, and it cannot be undone.`)) return;
    changed(await api.del(`/api/dr/events/${event.id}`));
  }, [api, detail.data, changed]);
  const cancelling = useAction(cancel);

  if (detail.error?.status === 404) {
    return (
      <section className="dr-detail">
        <p role="alert">This event does not exist.</p>
        <Link to={{ search: "" }}>Back to all events</Link>
      </section>
    );
  }
  return (
    <section className="dr-detail" aria-labelledby="dr-detail-heading">
      <Resource resource={detail} isEmpty={() => false} loadingLabel="Loading the event…">
        {(event) => {
          const status = statusAt(event, now);
          return (
            <>
              <header className="dr-detail-header">
                <h2 id="dr-detail-heading" ref={heading} tabIndex={-1}>
                  {event.name}
                </h2>
                <Link to={{ search: "" }} className="secondary" aria-label="Close the event">
                  Close
                </Link>
              </header>
              <p>
                <StatusBadge status={status} /> {windowText(event)} · {eventHours(event)} h
              </p>
              <dl className="dr-facts">
                <Fact term="Target reduction">{kw(event.target_reduction_kw)}</Fact>
                <Fact term="Incentive">{money(event.incentive_per_kwh)} per kWh</Fact>
                <Fact term="Announced">{dateTime(event.created_at)}</Fact>
                {event.cancelled_at && <Fact term="Cancelled">{dateTime(event.cancelled_at)}</Fact>}
              </dl>
              {(status === "scheduled" || status === "active") && can(user, "dr.cancel") && (
                <div className="actions">
                  <button
                    type="button"
                    className="outline danger"
                    onClick={cancelling.run}
                    disabled={cancelling.busy}
                    aria-busy={cancelling.busy}
                    aria-label={`Cancel event ${event.name}`}
                  >
                    Cancel event
                  </button>
                </div>
              )}
              <FormError error={cancelling.error} />

              <section aria-labelledby="dr-invitations-heading">
                <h3 id="dr-invitations-heading">Invitations</h3>
                <p>{countsText(event.invitation_counts)}</p>
                <InvitationList invitations={event.invitations} />
                {status !== "scheduled" ? (
                  <p className="dr-muted">Invitations and answers close when the event starts.</p>
                ) : (
                  can(user, "dr.invite") && <InviteForm event={event} onInvited={changed} />
                )}
              </section>

              {(status === "scheduled" || status === "active") && can(user, "dr.see_flexibility") && <Flexibility eventId={event.id} version={version} />}

              {status === "finished" && (
                <section aria-labelledby="dr-results-heading">
                  <h3 id="dr-results-heading">Results</h3>
                  <Results eventId={event.id} />
                </section>
              )}
            </>
          );
        }}
      </Resource>
    </section>
  );
}
