import { useCallback, useMemo, useState } from "react";
import { ActionForm, SubmitButton } from "../../components/ActionForm.jsx";
import { Field, FormError } from "../../components/Field.jsx";
import { Empty, ErrorMessage } from "../../components/Status.jsx";
import { DIRECTORY_MIN_CHARS, invitationErrorText, personText } from "../../dr.js";
import { useAction } from "../../hooks.js";
import { useSession } from "../../session.jsx";
import { useDirectorySearch } from "./useDirectorySearch.js";
import "./dr.css";
import "./StaffEvents.css";

function users(count) {
  return `${count} ${count === 1 ? "user" : "users"}`;
}

// Whom to invite: staff search the user directory by name or e-mail address as
// they type, and tick the people found; the people chosen stay chosen while they
// search for others. A person is shown by name and address, never by id.
export function InviteForm({ event, onInvited }) {
  const { api } = useSession();
  const [text, setText] = useState("");
  const [chosen, setChosen] = useState(() => new Map()); // id → person
  const [sent, setSent] = useState(null);
  const search = useDirectorySearch(text);
  const invited = useMemo(() => new Set((event.invitations || []).map((i) => i.user_id)), [event.invitations]);
  const found = search.people.filter((person) => !invited.has(person.id));
  const alreadyInvited = search.people.length - found.length;
  const ids = [...chosen.keys()];

  const invite = useCallback(async () => {
    const userIds = [...chosen.keys()];
    const updated = await api.post(`/api/dr/events/${event.id}/invitations`, { user_ids: userIds });
    setSent(userIds.length);
    setChosen(new Map());
    onInvited(updated);
  }, [api, event.id, chosen, onInvited]);
  const { run, busy, error } = useAction(invite);
  const idsError = invitationErrorText(error, ids, (id) => personText(chosen.get(id)));

  const toggle = (person) =>
    setChosen((previous) => {
      const next = new Map(previous);
      if (next.has(person.id)) next.delete(person.id);
      else next.set(person.id, person);
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
      <Field
        label="Find users"
        name="find"
        type="search"
        value={text}
        onChange={(e) => setText(e.target.value)}
        autoComplete="off"
        hint={`Type at least ${DIRECTORY_MIN_CHARS} letters of a name or e-mail address.`}
      />
      {search.error && <ErrorMessage error={search.error} />}
      {search.asked && !search.error && (
        <fieldset className="dr-people" aria-busy={search.waiting}>
          <legend>
            {search.waiting ? "Searching…" : `Found: ${users(found.length)}`}
            {!search.waiting && alreadyInvited > 0 && ` (${alreadyInvited} more invited already)`}
          </legend>
          {found.length > 0 ? (
            <div className="dr-people-list">
              {found.map((person) => (
                <label key={person.id}>
                  <input type="checkbox" checked={chosen.has(person.id)} onChange={() => toggle(person)} />
                  <span>
                    {person.name} <small>{person.email}</small>
                  </span>
                </label>
              ))}
            </div>
          ) : (
            !search.waiting && <Empty>Nobody else matches “{text.trim()}”.</Empty>
          )}
        </fieldset>
      )}
      {chosen.size > 0 && (
        <fieldset className="dr-people dr-chosen">
          <legend>To invite</legend>
          <ul>
            {[...chosen.values()].map((person) => (
              <li key={person.id}>
                {person.name} <small>{person.email}</small>{" "}
                <button
                  type="button"
                  className="outline secondary"
                  onClick={() => toggle(person)}
                  aria-label={`Do not invite ${person.name}`}
                >
                  Remove
                </button>
              </li>
            ))}
          </ul>
        </fieldset>
      )}
      {idsError ? (
        <p role="alert" className="field-error">
          {idsError}
        </p>
      ) : (
        <FormError error={error} />
      )}
      <div className="actions">
        <SubmitButton busy={busy} disabled={ids.length === 0}>
          {ids.length ? `Invite ${users(ids.length)}` : "Invite"}
        </SubmitButton>
        {sent !== null && !error && (
          <span role="status" className="dr-ok">
            Invited {users(sent)}.
          </span>
        )}
      </div>
    </ActionForm>
  );
}
