import { useMemo, useState } from "react";
import { Link } from "react-router-dom";
import { Field, FormError } from "../components/Field.jsx";
import { Empty, ErrorMessage, Loading } from "../components/Status.jsx";
import { dateTime } from "../format.js";
import { useAction, useResource } from "../hooks.js";
import { useSession } from "../session.jsx";
import { THEMES } from "../theme.js";

const THEME_LABELS = { system: "As the system", light: "Light", dark: "Dark" };

function zones() {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return [];
  }
}

function Profile() {
  const { api, user, setUser } = useSession();
  const [form, setForm] = useState({
    name: user.name,
    time_zone: user.time_zone || "UTC",
    units: user.units || "kWh",
    theme: user.theme || "system",
  });
  const [saved, setSaved] = useState(false);
  const { run, busy, error } = useAction(async () => {
    setSaved(false);
    setUser(await api.patch("/api/auth/me", form));
    setSaved(true);
  });
  const set = (name) => (event) => setForm({ ...form, [name]: event.target.value });
  const timeZones = useMemo(zones, []);
  return (
    <form
      aria-label="Profile"
      onSubmit={(event) => {
        event.preventDefault();
        run();
      }}
    >
      <h2>Profile</h2>
      <Field label="Name" name="name" required value={form.name} onChange={set("name")} error={error} />
      <Field label="Time zone" name="time_zone" list="time-zones" required value={form.time_zone} onChange={set("time_zone")} error={error} hint="An IANA name, such as Europe/Berlin." />
      <datalist id="time-zones">
        {timeZones.map((zone) => (
          <option key={zone} value={zone} />
        ))}
      </datalist>
      <Field label="Energy in" name="units" as="select" value={form.units} onChange={set("units")} error={error}>
        <option value="kWh">kWh</option>
        <option value="Wh">Wh</option>
      </Field>
      <Field label="Theme" name="theme" as="select" value={form.theme} onChange={set("theme")} error={error}>
        {THEMES.map((theme) => (
          <option key={theme} value={theme}>
            {THEME_LABELS[theme]}
          </option>
        ))}
      </Field>
      <FormError error={error} />
      {saved && <p role="status">Saved.</p>}
      <button type="submit" aria-busy={busy} disabled={busy}>
        Save the profile
      </button>
    </form>
  );
}

function Password({ onChanged }) {
  const { api, setUser } = useSession();
  const [current, setCurrent] = useState("");
  const [password, setPassword] = useState("");
  const [saved, setSaved] = useState(false);
  const { run, busy, error } = useAction(async () => {
    setSaved(false);
    setUser(await api.patch("/api/auth/me", { current_password: current, password }));
    setCurrent("");
    setPassword("");
    setSaved(true);
    onChanged();
  });
  return (
    <form
      aria-label="Password"
      onSubmit={(event) => {
        event.preventDefault();
        run();
      }}
    >
      <h2>Password</h2>
      <Field label="Current password" name="current_password" type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} error={error} />
      <Field label="New password" name="password" type="password" autoComplete="new-password" minLength={8} required value={password} onChange={(e) => setPassword(e.target.value)} error={error} hint="At least 8 characters. Your other sessions end." />
      <FormError error={error} />
      {saved && <p role="status">Your password is changed; your other sessions have ended.</p>}
      <button type="submit" aria-busy={busy} disabled={busy}>
        Change the password
      </button>
    </form>
  );
}

function Email() {
  const { api, user } = useSession();
  const [email, setEmail] = useState("");
  const [current, setCurrent] = useState("");
  const [pending, setPending] = useState(null);
  const { run, busy, error } = useAction(async () => {
    const answer = await api.patch("/api/auth/me", { email, current_password: current });
    setPending(answer.pending_email || null);
    setCurrent("");
  });
  return (
    <form
      aria-label="E-mail address"
      onSubmit={(event) => {
        event.preventDefault();
        run();
      }}
    >
      <h2>E-mail address</h2>
      <p>
        Your account uses <strong>{user.email}</strong>.
      </p>
      <Field label="New e-mail address" name="email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} error={error} />
      <Field label="Current password" name="current_password" type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} error={error} />
      <FormError error={error} />
      {pending && (
        <p role="status" data-testid="email-pending">
          We sent a link to {pending}. Your account uses the new address once you follow it.
        </p>
      )}
      <button type="submit" aria-busy={busy} disabled={busy}>
        Change the address
      </button>
    </form>
  );
}

function Sessions({ sessions }) {
  const { api } = useSession();
  const { data, error, loading, reload } = sessions;
  const { run, busy, error: revokeError } = useAction(async (id) => {
    await api.del(`/api/auth/sessions/${id}`);
    await reload({ quiet: true });
  });
  return (
    <section aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">Sessions</h2>
      <p>Where your account is signed in. End any you do not recognise.</p>
      {loading && !data && <Loading />}
      <ErrorMessage error={error || revokeError} onRetry={error ? reload : undefined} />
      {data && data.length === 0 && <Empty>No sessions.</Empty>}
      {data && data.length > 0 && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Browser</th>
                <th scope="col">Signed in</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.map((session) => (
                <tr key={session.id} data-testid="session-row">
                  <td title={session.user_agent}>{session.browser}</td>
                  <td>{dateTime(session.created_at)}</td>
                  <td>{dateTime(session.last_used_at)}</td>
                  <td>
                    {session.current ? (
                      <strong>This session</strong>
                    ) : (
                      <button type="button" className="secondary" disabled={busy} onClick={() => run(session.id)} aria-label={`End the session of ${session.browser}, signed in ${dateTime(session.created_at)}`}>
                        End
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function DeleteAccount() {
  const { api, endSession } = useSession();
  const [password, setPassword] = useState("");
  const { run, busy, error } = useAction(async () => {
    await api.del("/api/auth/me", { body: { password } });
    endSession("user_deleted");
  });
  return (
    <form
      aria-label="Delete the account"
      onSubmit={(event) => {
        event.preventDefault();
        if (globalThis.confirm("Delete your account and everything in it? This cannot be undone.")) run();
      }}
    >
      <h2>Delete the account</h2>
      <p>Your devices, their readings, batteries, orders and conversations go with it.</p>
      <Field label="Password" name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} error={error} />
      <FormError error={error} />
      <button type="submit" className="contrast" aria-busy={busy} disabled={busy}>
        Delete my account
      </button>
    </form>
  );
}

export default function Account() {
  const { api, user } = useSession();
  const sessions = useResource((signal) => api.get("/api/auth/sessions", { signal }), []);
  return (
    <section className="account">
      <h1>Your account</h1>
      <Profile key={user.id} />
      <section aria-labelledby="notifications-heading">
        <h2 id="notifications-heading">Notifications</h2>
        <p>
          <Link to="/account/notifications">Choose which alarms reach you</Link>, in the app and by e-mail, with quiet hours and a daily digest.
        </p>
      </section>
      <Password onChanged={() => sessions.reload({ quiet: true })} />
      <Email />
      <Sessions sessions={sessions} />
      <DeleteAccount />
    </section>
  );
}
