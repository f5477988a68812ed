import { useCallback, useMemo, useState } from "react";
import { ActionForm, SubmitButton } from "../../components/ActionForm.jsx";
import { Field, FormError, withFieldErrors } from "../../components/Field.jsx";
import { Empty } from "../../components/Status.jsx";
import { invitationErrorText, parseUserIds } from "../../dr.js";
import { useAction } from "../../hooks.js";
import { useSession } from "../../session.jsx";
import "./dr.css";
import "./StaffEvents.css";

// Who can be invited: staff pick from the user directory, or type ids.
export function InviteForm({ event, people, onInvited }) {
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
  const fieldError = withFieldErrors(error, (name) => (name === "user_ids" ? idsError : null));

  const toggle = (id) =>
    setChosen((previous) => {
      const next = new Set(previous);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <ActionForm
      aria-label="Invite users"
      className="dr-invite"
      run={() => {
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
      {!idsError && <FormError error={error} />}
      <div className="actions">
        <SubmitButton busy={busy} disabled={ids.length === 0}>
          {ids.length ? `Invite ${ids.length} ${ids.length === 1 ? "user" : "users"}` : "Invite"}
        </SubmitButton>
        {sent !== null && !error && (
          <span role="status" className="dr-ok">
            Invited {sent} {sent === 1 ? "user" : "users"}.
          </span>
        )}
      </div>
    </ActionForm>
  );
}
