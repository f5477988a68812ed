import { useCallback, useState } from "react";
import { FormError } from "../../components/Field.jsx";
import { ANSWER_LABELS, eventHours, statusAt, windowText } from "../../dr.js";
import { dateTime, money } from "../../format.js";
import { useAction } from "../../hooks.js";
import { useSession } from "../../session.jsx";
import { Results } from "./Results.jsx";
import { StatusBadge } from "./StatusBadge.jsx";
import "./dr.css";
import "./MyInvitations.css";

// An invitation as its user sees it: the event, their answer, and the buttons
// that change it while the event is ahead; their results once it is over.
export function InvitationCard({ event, now, onChanged }) {
  const { api } = useSession();
  const [showResults, setShowResults] = useState(false);
  const status = statusAt(event, now);
  const answer = event.invitation?.status || "invited";
  const respond = useCallback(
    async (choice) => onChanged(await api.post(`/api/dr/events/${event.id}/${choice}`)),
    [api, event.id, onChanged],
  );
  const { run, busy, error } = useAction(respond);
  const headingId = `dr-event-${event.id}`;
  return (
    <li>
      <article className="dr-card" aria-labelledby={headingId} data-event-id={event.id}>
        <header>
          <h2 id={headingId}>{event.name}</h2>
          <StatusBadge status={status} />
        </header>
        <p>
          {windowText(event)} · {eventHours(event)} h. You earn <strong>{money(event.incentive_per_kwh)}</strong> for each kWh you use
          less than usual in these hours.
        </p>
        <p>
          Your answer:{" "}
          <strong className={`dr-answer dr-answer-${answer}`}>{ANSWER_LABELS[answer] || answer}</strong>
        </p>
        {status === "scheduled" && (
          <div className="actions">
            <button
              type="button"
              onClick={() => run("opt-in")}
              disabled={busy || answer === "opted_in"}
              aria-busy={busy}
              aria-label={`Opt in to ${event.name}`}
            >
              Opt in
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => run("opt-out")}
              disabled={busy || answer === "opted_out"}
              aria-label={`Opt out of ${event.name}`}
            >
              Opt out
            </button>
            <small className="dr-muted">You can change your answer until {dateTime(event.start)}.</small>
          </div>
        )}
        <FormError error={error} />
        {status === "active" && <p className="dr-muted">Under way: answers are closed.</p>}
        {status === "cancelled" && <p className="dr-muted">This event was cancelled{event.cancelled_at && ` on ${dateTime(event.cancelled_at)}`}.</p>}
        {status === "finished" &&
          (answer === "opted_in" ? (
            <details className="dr-own-results" onToggle={(e) => setShowResults(e.currentTarget.open)}>
              <summary>Your results</summary>
              {showResults && <Results eventId={event.id} own />}
            </details>
          ) : (
            <p className="dr-muted">You did not take part.</p>
          ))}
      </article>
    </li>
  );
}
