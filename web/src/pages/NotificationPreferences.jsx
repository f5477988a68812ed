import { useCallback, useId, useState } from "react";
import { Link } from "react-router-dom";
import { SEVERITIES, SEVERITY_LABELS } from "../alarms.js";
import { ActionForm, SubmitButton } from "../components/ActionForm.jsx";
import { Field, FormError } from "../components/Field.jsx";
import { Resource } from "../components/Status.jsx";
import { timeZoneShown } from "../format.js";
import { useAction, useResource } from "../hooks.js";
import { CHANNELS, formFieldMessage, hoursOfDay, preferencesBody, preferencesForm, withSeverity } from "../notificationPreferences.js";
import { useSession } from "../session.jsx";
import "./alarms/alarms.css";

const HOURS = hoursOfDay();

// The server's message under a group of controls, tied to it by aria-describedby.
function GroupError({ id, message }) {
  if (!message) return null;
  return (
    <small id={id} className="field-error">
      {message}
    </small>
  );
}

// One channel's severities as checkboxes.
function Channel({ channel, form, setForm, error }) {
  const id = useId();
  const message = formFieldMessage(error, channel.key);
  return (
    <fieldset aria-describedby={message ? `${id}-error` : undefined} aria-invalid={message ? "true" : undefined}>
      <legend>Alarms {channel.label.toLowerCase()}</legend>
      {SEVERITIES.map((severity) => (
        <label key={severity}>
          <input
            type="checkbox"
            name={channel.key}
            value={severity}
            checked={form[channel.key].includes(severity)}
            onChange={(event) => setForm(withSeverity(form, channel.key, severity, event.target.checked))}
          />
          {SEVERITY_LABELS[severity]}
        </label>
      ))}
      <GroupError id={`${id}-error`} message={message} />
    </fieldset>
  );
}

function PreferencesForm({ preferences }) {
  const { api } = useSession();
  const quietId = useId();
  const [form, setForm] = useState(() => preferencesForm(preferences));
  const [saved, setSaved] = useState(false);
  const save = useCallback(async () => {
    setSaved(false);
    setForm(preferencesForm(await api.put("/api/notification-preferences", preferencesBody(form))));
    setSaved(true);
  }, [api, form]);
  const { run, busy, error: raw } = useAction(save);
  // `Field` asks by the form's names; the server names paths of the body.
  const error = raw ? { ...raw, message: raw.message, field: (name) => formFieldMessage(raw, name) } : null;
  const change = (changes) => {
    setSaved(false);
    setForm({ ...form, ...changes });
  };
  const zone = timeZoneShown();
  const quietMessage = formFieldMessage(raw, "quiet_hours");
  return (
    <ActionForm run={run} aria-label="Notification preferences" className="preferences">
      <h2>Which alarms reach you</h2>
      <p>Alarms of each severity ticked reach you that way. The Alarms page lists them all either way.</p>
      {CHANNELS.map((channel) => (
        <Channel key={channel.key} channel={channel} form={form} setForm={(next) => change(next)} error={raw} />
      ))}

      <h2>Quiet hours</h2>
      <fieldset aria-describedby={quietMessage ? `${quietId}-error` : undefined}>
        <legend className="visually-hidden">Quiet hours</legend>
        <label>
          <input type="checkbox" role="switch" name="quiet" checked={form.quiet} onChange={(event) => change({ quiet: event.target.checked })} />
          No alarm notifications between two times of day
        </label>
        {form.quiet && (
          <div className="grid times">
            <Field label={`From (${zone})`} name="quiet_start" type="time" required value={form.quiet_start} onChange={(event) => change({ quiet_start: event.target.value })} error={error} />
            <Field label={`Until (${zone})`} name="quiet_end" type="time" required value={form.quiet_end} onChange={(event) => change({ quiet_end: event.target.value })} error={error} hint="An end before the start runs over midnight." />
          </div>
        )}
        <GroupError id={`${quietId}-error`} message={quietMessage} />
      </fieldset>

      <h2>Daily digest</h2>
      <fieldset>
        <legend className="visually-hidden">Daily digest</legend>
        <label>
          <input type="checkbox" role="switch" name="digest" checked={form.digest} onChange={(event) => change({ digest: event.target.checked })} />
          A daily e-mail that sums up your alarms
        </label>
        {form.digest && (
          <div className="times digest-hour">
            <Field label={`At (${zone})`} name="digest_hour" as="select" value={form.digest_hour} onChange={(event) => change({ digest_hour: event.target.value })} error={error}>
              {HOURS.map((hour) => (
                <option key={hour.value} value={hour.value}>
                  {hour.label}
                </option>
              ))}
            </Field>
          </div>
        )}
        {!form.digest && <GroupError id={`${quietId}-digest`} message={formFieldMessage(raw, "digest_hour")} />}
      </fieldset>

      <FormError error={raw} />
      {saved && <p role="status">Saved.</p>}
      <SubmitButton busy={busy}>Save the preferences</SubmitButton>
    </ActionForm>
  );
}

// How alarms reach the account: the severities for each channel, quiet hours
// and a daily digest, on the account's clock.
export default function NotificationPreferences() {
  const { api } = useSession();
  const preferences = useResource((signal) => api.get("/api/notification-preferences", { signal }), []);
  return (
    <section className="account">
      <nav aria-label="Breadcrumb">
        <ul>
          <li>
            <Link to="/account">Your account</Link>
          </li>
          <li aria-current="page">Notification preferences</li>
        </ul>
      </nav>
      <h1>Notification preferences</h1>
      <Resource resource={preferences} isEmpty={() => false} loadingLabel="Loading your preferences…">
        {(data) => <PreferencesForm preferences={data} />}
      </Resource>
    </section>
  );
}
