import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Bar } from "react-chartjs-2";
import { Link, useSearchParams } from "react-router-dom";
import { baseOptions, COLORS } from "../components/charts.js";
import { Field, FormError } from "../components/Field.jsx";
import { Empty, ErrorMessage, Resource } from "../components/Status.jsx";
import {
  ANSWER_LABELS,
  MAX_HOURS,
  STATUS_LABELS,
  applyPush,
  blankEventForm,
  countsText,
  eventBody,
  eventHours,
  formEnd,
  hourLabels,
  hourlyTotals,
  invitationErrorText,
  parseUserIds,
  statusAt,
  upsertEvent,
  windowText,
} from "../dr.js";
import { kwh, money, utcDateTime } from "../format.js";
import { useAction, useInterval, useResource } from "../hooks.js";
import { useLive, useSession } from "../session.jsx";
import "./DrEvents.css";

const NOBODY = {};
const HOURS_OF_DAY = Array.from({ length: 24 }, (_, h) => h);
const DURATIONS = Array.from({ length: MAX_HOURS }, (_, i) => i + 1);

function kw(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "–";
  return `${Number(value).toFixed(digits)} kW`;
}

// The time, moved on every 30 s so statuses follow the clock (scheduled → under
// way → finished) without asking the platform.
function useNow() {
  const [now, setNow] = useState(() => Date.now());
  useInterval(() => setNow(Date.now()), 30000);
  return now;
}

function StatusBadge({ status }) {
  return <span className={`dr-status dr-status-${status}`}>{STATUS_LABELS[status] || status}</span>;
}

// An error whose `field(name)` also knows the messages not shaped as a list of
// strings (`user_ids` of an invitation) and a 409 on the e-mail address.
function withField(error, extra) {
  if (!error) return null;
  return { ...error, message: error.message, field: (name) => extra(name) ?? error.field?.(name) ?? null };
}

// -- results -------------------------------------------------------------------

function ResultsChart({ hours, title }) {
  const label = hourLabels(hours);
  const data = {
    labels: hours.map((row) => label(row.hour)),
    datasets: [
      { label: "Baseline (kWh)", data: hours.map((row) => row.baseline_kwh), backgroundColor: COLORS.forecast },
      { label: "Actual (kWh)", data: hours.map((row) => row.actual_kwh), backgroundColor: COLORS.used },
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
          aria-label={`${title}: baseline ${kwh(baseline)}, actual ${kwh(actual)} over ${hours.length} hours (UTC)`}
          data-testid="dr-results-chart"
        />
      </div>
      <figcaption>
        {title}: baseline against actual use per hour (UTC)
      </figcaption>
      <div className="visually-hidden">
        <table>
          <caption>{title} per hour</caption>
          <thead>
            <tr>
              <th scope="col">Hour (UTC)</th>
              <th scope="col">Baseline kWh</th>
              <th scope="col">Actual kWh</th>
            </tr>
          </thead>
          <tbody>
            {hours.map((row) => (
              <tr key={row.hour}>
                <td>{label(row.hour)}</td>
                <td>{row.baseline_kwh}</td>
                <td>{row.actual_kwh}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}

function ParticipantTable({ participant, label, open }) {
  const hourLabel = hourLabels(participant.hours);
  return (
    <details className="dr-participant" open={open}>
      <summary>
        {label}: saved {kwh(participant.reduction_kwh)}, incentive {money(participant.incentive)}
      </summary>
      <p className="dr-muted">
        Baseline from {participant.baseline_days} {participant.baseline_days === 1 ? "day" : "days"}
        {participant.baseline_note && ` (${participant.baseline_note})`}.
      </p>
      <div className="table-wrap">
        <table className="data">
          <caption className="visually-hidden">Results of {label} per hour</caption>
          <thead>
            <tr>
              <th scope="col">Hour (UTC)</th>
              <th scope="col">Baseline</th>
              <th scope="col">Actual</th>
              <th scope="col">Reduction</th>
            </tr>
          </thead>
          <tbody>
            {participant.hours.map((row) => (
              <tr key={row.hour}>
                <td>{hourLabel(row.hour)}</td>
                <td>{kwh(row.baseline_kwh)}</td>
                <td>{kwh(row.actual_kwh)}</td>
                <td>{kwh(row.reduction_kwh)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">Total</th>
              <td>{kwh(participant.baseline_kwh)}</td>
              <td>{kwh(participant.actual_kwh)}</td>
              <td>{kwh(participant.reduction_kwh)}</td>
            </tr>
          </tfoot>
        </table>
      </div>
    </details>
  );
}

// What a finished event achieved: totals, a chart of the hours summed over the
// participants, and each participant's table. `own`: a user's view of theirs.
function Results({ eventId, directory = NOBODY, own = false }) {
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
            <div>
              <dt>{own ? "You saved" : "Reduction"}</dt>
              <dd>{kwh(r.reduction_kwh)}</dd>
            </div>
            <div>
              <dt>{own ? "You earned" : "Incentives"}</dt>
              <dd>{money(r.incentive)}</dd>
            </div>
            {!own && (
              <div>
                <dt>Participants</dt>
                <dd>{r.participants.length}</dd>
              </div>
            )}
          </dl>
          <ResultsChart hours={hours} title={own ? "Your use" : "All participants"} />
          {r.participants.map((participant) => (
            <ParticipantTable
              key={participant.user_id}
              participant={participant}
              label={own ? "Your hours" : directory[participant.user_id]?.label || participant.user_id}
              open={own || r.participants.length <= 3}
            />
          ))}
        </div>
      )}
    </Resource>
  );
}

// -- staff: flexibility, invitations, the event -----------------------------------

// A user as staff know them from the user directory: name, e-mail and role.
function Person({ id, directory }) {
  const person = directory[id];
  if (!person) return <code>{id}</code>;
  return (
    <span title={id}>
      {person.label} <small className="dr-muted">{person.detail}</small>
    </span>
  );
}

function Flexibility({ eventId, version }) {
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
              <div>
                <dt>Opted in</dt>
                <dd>{f.participant_count}</dd>
              </div>
              <div>
                <dt>Their baseline load</dt>
                <dd>{kw(f.opted_in_load_kw)}</dd>
              </div>
              <div>
                <dt>Batteries</dt>
                <dd>
                  {f.battery_count}, {kw(f.battery_headroom_kw)}
                </dd>
              </div>
            </dl>
            {f.notes?.length > 0 && (
              <ul className="dr-notes" aria-label="Notes">
                {f.notes.map((note) => (
                  <li key={note}>{note}</li>
                ))}
              </ul>
            )}
            {f.hours?.length > 0 && (
              <div className="table-wrap">
                <table className="data">
                  <caption className="visually-hidden">Flexibility per hour</caption>
                  <thead>
                    <tr>
                      <th scope="col">Hour (UTC)</th>
                      <th scope="col">Opted-in load</th>
                      <th scope="col">Battery headroom</th>
                      <th scope="col">Flexibility</th>
                    </tr>
                  </thead>
                  <tbody>
                    {f.hours.map((row) => (
                      <tr key={row.hour}>
                        <td>{hourLabels(f.hours)(row.hour)}</td>
                        <td>{kw(row.opted_in_load_kw)}</td>
                        <td>{kw(row.battery_headroom_kw)}</td>
                        <td>{kw(row.flexibility_kw)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </>
        )}
      </Resource>
    </section>
  );
}

function InvitationList({ invitations, directory }) {
  if (!invitations?.length) return <Empty>Nobody is invited yet.</Empty>;
  return (
    <div className="table-wrap">
      <table className="data">
        <caption className="visually-hidden">Invited users and their answers</caption>
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col">Answer</th>
            <th scope="col">Since</th>
          </tr>
        </thead>
        <tbody>
          {invitations.map((invitation) => (
            <tr key={invitation.user_id}>
              <td>
                <Person id={invitation.user_id} directory={directory} />
              </td>
              <td>
                <span className={`dr-answer dr-answer-${invitation.status}`}>{ANSWER_LABELS[invitation.status] || invitation.status}</span>
              </td>
              <td>{utcDateTime(invitation.updated_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

// Who can be invited: staff pick from the user directory; an OPERATOR may also
// type ids.
function InviteForm({ event, people, isAdmin, onInvited }) {
  const { api } = useSession();
  const [chosen, setChosen] = useState(() => new Set());
  const [typed, setTyped] = useState("");
  const [filter, setFilter] = useState("");
  const [sent, setSent] = useState(null);
  const invited = useMemo(() => new Set((event.invitations || []).map((i) => i.user_id)), [event.invitations]);
  const candidates = people.filter((person) => !invited.has(person.id));
  const needle = filter.trim().toLowerCase();
  const shown = needle
    ? candidates.filter((p) => `${p.label} ${p.detail} ${p.id}`.toLowerCase().includes(needle))
    : candidates;
  const ids = useMemo(() => [...new Set([...chosen, ...parseUserIds(typed)])], [chosen, typed]);

  const invite = useCallback(async () => {
    const updated = await api.post(`/api/dr/events/${event.id}/invitations`, { user_ids: ids });
    setSent(ids.length);
    setChosen(new Set());
    setTyped("");
    onInvited(updated);
  }, [api, event.id, ids, onInvited]);
  const { run, busy, error } = useAction(invite);
  const idsError = invitationErrorText(error, ids);
  const fieldError = withField(error, (name) => (name === "user_ids" ? idsError : null));

  const toggle = (id) =>
    setChosen((previous) => {
      const next = new Set(previous);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <form
      aria-label="Invite users"
      className="dr-invite"
      onSubmit={(e) => {
        e.preventDefault();
        setSent(null);
        run();
      }}
    >
      <h4>Invite users</h4>
      {candidates.length > 6 && (
        <Field
          label="Filter the list"
          name="filter"
          type="search"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
          hint={`${shown.length} of ${candidates.length} shown`}
        />
      )}
      {candidates.length > 0 ? (
        <fieldset className="dr-people">
          <legend>Users not invited yet</legend>
          <div className="dr-people-list">
            {shown.map((person) => (
              <label key={person.id}>
                <input type="checkbox" checked={chosen.has(person.id)} onChange={() => toggle(person.id)} />
                <span>
                  {person.label} <small>{person.detail}</small>
                </span>
              </label>
            ))}
          </div>
          {shown.length > 1 && (
            <div className="actions">
              <button
                type="button"
                className="outline secondary"
                onClick={() => setChosen((previous) => new Set([...previous, ...shown.map((p) => p.id)]))}
              >
                Select all shown
              </button>
              {chosen.size > 0 && (
                <button type="button" className="outline secondary" onClick={() => setChosen(new Set())}>
                  Clear selection
                </button>
              )}
            </div>
          )}
        </fieldset>
      ) : (
        <Empty>{people.length ? "Everyone listed is invited already." : "There are no users to invite."}</Empty>
      )}
      {!isAdmin && (
        <Field
          as="textarea"
          label="User ids"
          name="user_ids"
          rows={3}
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          error={fieldError}
          hint="Other users to invite: their ids, separated by spaces, commas or lines."
          spellCheck={false}
          autoCapitalize="off"
        />
      )}
      {isAdmin && idsError && (
        <p role="alert" className="field-error">
          {idsError}
        </p>
      )}
      {!idsError && <FormError error={error} />}
      <div className="actions">
        <button type="submit" disabled={busy || ids.length === 0} aria-busy={busy}>
          {ids.length ? `Invite ${ids.length} ${ids.length === 1 ? "user" : "users"}` : "Invite"}
        </button>
        {sent !== null && !error && (
          <span role="status" className="dr-ok">
            Invited {sent} {sent === 1 ? "user" : "users"}.
          </span>
        )}
      </div>
    </form>
  );
}

function EventDetail({ eventId, version, people, directory, isAdmin, now, onChanged }) {
  const { api } = useSession();
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
                <div>
                  <dt>Target reduction</dt>
                  <dd>{kw(event.target_reduction_kw)}</dd>
                </div>
                <div>
                  <dt>Incentive</dt>
                  <dd>{money(event.incentive_per_kwh)} per kWh</dd>
                </div>
                <div>
                  <dt>Announced</dt>
                  <dd>{utcDateTime(event.created_at)}</dd>
                </div>
                {event.cancelled_at && (
                  <div>
                    <dt>Cancelled</dt>
                    <dd>{utcDateTime(event.cancelled_at)}</dd>
                  </div>
                )}
              </dl>
              {(status === "scheduled" || status === "active") && (
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
                <InvitationList invitations={event.invitations} directory={directory} />
                {status === "scheduled" ? (
                  <InviteForm event={event} people={people} isAdmin={isAdmin} onInvited={changed} />
                ) : (
                  <p className="dr-muted">Invitations and answers close when the event starts.</p>
                )}
              </section>

              {(status === "scheduled" || status === "active") && <Flexibility eventId={event.id} version={version} />}

              {status === "finished" && (
                <section aria-labelledby="dr-results-heading">
                  <h3 id="dr-results-heading">Results</h3>
                  <Results eventId={event.id} directory={directory} />
                </section>
              )}
            </>
          );
        }}
      </Resource>
    </section>
  );
}

function CreateEvent({ onCreated }) {
  const { api } = useSession();
  const [form, setForm] = useState(() => blankEventForm());
  const [open, setOpen] = useState(false);
  const change = (e) => setForm({ ...form, [e.target.name]: e.target.value });
  const create = useCallback(async () => {
    const event = await api.post("/api/dr/events", eventBody(form));
    setForm(blankEventForm());
    setOpen(false);
    onCreated(event);
  }, [api, form, onCreated]);
  const { run, busy, error } = useAction(create);
  const end = formEnd(form);
  // The window's errors are the platform's, on the fields that make it.
  const fieldError = withField(error, (name) => {
    if (name === "date") return error?.field("start");
    if (name === "hours") return error?.field("end");
    return null;
  });
  return (
    <details className="dr-create" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary role="button" className="outline">
        Announce an event
      </summary>
      <form
        aria-label="Announce an event"
        onSubmit={(e) => {
          e.preventDefault();
          run();
        }}
      >
        <Field label="Name" name="name" required maxLength={200} value={form.name} onChange={change} error={error} />
        <div className="grid">
          <Field label="Start day (UTC)" name="date" type="date" required value={form.date} onChange={change} error={fieldError} />
          <Field label="Start hour (UTC)" name="hour" as="select" value={form.hour} onChange={change} error={fieldError}>
            {HOURS_OF_DAY.map((h) => (
              <option key={h} value={String(h)}>
                {String(h).padStart(2, "0")}:00
              </option>
            ))}
          </Field>
          <Field
            label="Duration"
            name="hours"
            as="select"
            value={form.hours}
            onChange={change}
            error={fieldError}
            hint={end ? `Ends ${utcDateTime(end)}` : undefined}
          >
            {DURATIONS.map((h) => (
              <option key={h} value={String(h)}>
                {h} {h === 1 ? "hour" : "hours"}
              </option>
            ))}
          </Field>
        </div>
        <div className="grid">
          <Field
            label="Target reduction (kW)"
            name="target_reduction_kw"
            type="number"
            inputMode="decimal"
            min="0"
            step="any"
            required
            value={form.target_reduction_kw}
            onChange={change}
            error={error}
          />
          <Field
            label="Incentive per kWh saved"
            name="incentive_per_kwh"
            type="number"
            inputMode="decimal"
            min="0"
            max="1000"
            step="any"
            required
            value={form.incentive_per_kwh}
            onChange={change}
            error={error}
          />
        </div>
        <small className="dr-muted">Events start on a whole UTC hour in the future and last at most {MAX_HOURS} hours.</small>
        <FormError error={error} />
        <button type="submit" disabled={busy} aria-busy={busy}>
          Announce
        </button>
      </form>
    </details>
  );
}

// Who the staff can name: the user directory (OPERATOR and ADMIN), as many as it
// answers with at once.
const DIRECTORY_LIMIT = 1000;

function usePeople() {
  const { api } = useSession();
  const source = useResource((signal) => api.get(`/api/users/directory?limit=${DIRECTORY_LIMIT}`, { signal }), []);
  return useMemo(() => {
    const people = (source.data || []).map((u) => ({ id: u.id, label: u.name, detail: `${u.email} · ${u.role}` }));
    return { people, directory: Object.fromEntries(people.map((p) => [p.id, p])), error: source.error };
  }, [source.data, source.error]);
}

function StaffView() {
  const { api, user, liveStatus } = useSession();
  const isAdmin = user.role === "ADMIN";
  const now = useNow();
  const [params, setParams] = useSearchParams();
  const selectedId = params.get("event");
  const [version, setVersion] = useState(0);
  const events = useResource((signal) => api.get("/api/dr/events", { signal }), [liveStatus === "open"]);
  const { people, directory, error: peopleError } = usePeople();

  // An answer comes over /ws (to OPERATORs): the counts and the open event follow.
  useLive("dr.event", (message) => {
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
        Announce an event, invite users, and see how much they can and did reduce.
        {!isAdmin && " Answers arrive live."}
      </p>
      <CreateEvent
        onCreated={(event) => {
          events.setData((list) => upsertEvent(list, event));
          setParams({ event: event.id });
        }}
      />
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
          <div className="table-wrap">
            <table className="data dr-events" data-testid="dr-events">
              <caption className="visually-hidden">Demand-response events, latest start first</caption>
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">When (UTC)</th>
                  <th scope="col">Status</th>
                  <th scope="col">Target</th>
                  <th scope="col">Answers</th>
                </tr>
              </thead>
              <tbody>
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
              </tbody>
            </table>
          </div>
        )}
      </Resource>
      {peopleError && <ErrorMessage error={peopleError} />}
      {selectedId && (
        <EventDetail
          key={selectedId}
          eventId={selectedId}
          version={version}
          people={people}
          directory={directory}
          isAdmin={isAdmin}
          now={now}
          onChanged={changed}
        />
      )}
    </section>
  );
}

// -- users: their invitations ----------------------------------------------------------

function InvitationCard({ event, now, onChanged }) {
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
            <small className="dr-muted">You can change your answer until {utcDateTime(event.start)}.</small>
          </div>
        )}
        <FormError error={error} />
        {status === "active" && <p className="dr-muted">Under way: answers are closed.</p>}
        {status === "cancelled" && <p className="dr-muted">This event was cancelled{event.cancelled_at && ` on ${utcDateTime(event.cancelled_at)}`}.</p>}
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

function UserView() {
  const { api, liveStatus } = useSession();
  const now = useNow();
  const events = useResource((signal) => api.get("/api/dr/events", { signal }), [liveStatus === "open"]);
  useLive("dr.event", (message) => events.setData((list) => applyPush(list, message.data)));
  const changed = useCallback(
    (event) => events.setData((list) => upsertEvent(list, event)),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [],
  );
  return (
    <section className="dr">
      <h1>Demand response</h1>
      <p>
        When the grid is under strain, your energy provider asks you to use less for a few hours. Opt in, use less than
        usual in those hours, and you are paid for each kWh saved.
      </p>
      <Resource
        resource={events}
        empty="You have no invitations yet. New ones appear here as they are sent."
        loadingLabel="Loading your invitations…"
      >
        {(list) => (
          <ul className="dr-cards" aria-label="Your invitations, latest first" data-testid="dr-invitations">
            {list.map((event) => (
              <InvitationCard key={event.id} event={event} now={now} onChanged={changed} />
            ))}
          </ul>
        )}
      </Resource>
    </section>
  );
}

export default function DrEvents() {
  const { user } = useSession();
  return user.role === "OPERATOR" || user.role === "ADMIN" ? <StaffView /> : <UserView />;
}
