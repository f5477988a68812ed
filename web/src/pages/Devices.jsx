import { useCallback, useEffect, useId, useRef, useState } from "react";
import { Link } from "react-router-dom";
import { Field, FormError } from "../components/Field.jsx";
import { Resource } from "../components/Status.jsx";
import { applyStatus, copyText, LOGIN_CONFIRM, loginSections, statusesById } from "../devices.js";
import { DEVICE_KINDS, energyAsTyped } from "../format.js";
import { useAction, useInterval, useResource } from "../hooks.js";
import { can } from "../permissions.js";
import { DEVICE_STATUS } from "../pushes.generated.js";
import { useLive, useSession } from "../session.jsx";
import { DeviceStatus } from "./devices/DeviceStatus.jsx";

const BLANK = { name: "", kind: "meter", max_hourly_kwh: "" };

// The body of a create or update: the limit only when one was typed.
function deviceBody(form) {
  const body = { name: form.name.trim(), kind: form.kind };
  if (form.max_hourly_kwh !== "" && form.max_hourly_kwh !== null) {
    body.max_hourly_kwh = Number(form.max_hourly_kwh);
  }
  return body;
}

function DeviceFields({ form, setForm, error }) {
  const change = (event) => setForm({ ...form, [event.target.name]: event.target.value });
  return (
    <div className="grid">
      <Field label="Name" name="name" required maxLength={200} value={form.name} onChange={change} error={error} />
      <Field label="Kind" name="kind" as="select" value={form.kind} onChange={change} error={error}>
        {Object.entries(DEVICE_KINDS).map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </Field>
      <Field
        label="Hourly limit (kWh)"
        name="max_hourly_kwh"
        type="number"
        inputMode="decimal"
        min="0"
        step="any"
        value={form.max_hourly_kwh}
        onChange={change}
        error={error}
        hint="You are notified when an hour goes over it. Empty: the platform default."
      />
    </div>
  );
}

function AddDevice({ onAdded }) {
  const { api } = useSession();
  const [form, setForm] = useState(BLANK);
  const add = useCallback(async () => {
    const device = await api.post("/api/devices", deviceBody(form));
    setForm(BLANK);
    onAdded(device);
  }, [api, form, onAdded]);
  const { run, busy, error } = useAction(add);
  return (
    <details open={false} className="add-device">
      <summary role="button" className="outline">
        Add a device
      </summary>
      <form
        aria-label="Add a device"
        onSubmit={(event) => {
          event.preventDefault();
          run();
        }}
      >
        <DeviceFields form={form} setForm={setForm} error={error} />
        <FormError error={error} />
        <button type="submit" aria-busy={busy} disabled={busy}>
          Add device
        </button>
      </form>
    </details>
  );
}

function EditDevice({ device, onSaved, onCancel }) {
  const { api } = useSession();
  const [form, setForm] = useState({
    name: device.name,
    kind: device.kind,
    max_hourly_kwh: device.max_hourly_kwh ?? "",
  });
  const save = useCallback(async () => {
    onSaved(await api.patch(`/api/devices/${device.id}`, deviceBody(form)));
  }, [api, device.id, form, onSaved]);
  const { run, busy, error } = useAction(save);
  return (
    <form
      aria-label={`Edit ${device.name}`}
      onSubmit={(event) => {
        event.preventDefault();
        run();
      }}
    >
      <DeviceFields form={form} setForm={setForm} error={error} />
      <FormError error={error} />
      <div className="actions">
        <button type="submit" aria-busy={busy} disabled={busy}>
          Save
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

// A device's new broker login, shown once: closing the panel forgets it.
function LoginPanel({ device, login, onClose }) {
  const id = useId();
  const panel = useRef(null);
  const secret = useRef(null);
  const [copied, setCopied] = useState(null);
  useEffect(() => panel.current?.focus(), []);
  const copy = async () => {
    const done = await copyText(login.password);
    if (!done && secret.current) window.getSelection()?.selectAllChildren(secret.current);
    setCopied(done ? "Password copied." : "Copying is not available here: the password is selected, copy it yourself.");
  };
  return (
    <section
      ref={panel}
      tabIndex={-1}
      className="device-login"
      aria-labelledby={`${id}-title`}
      onKeyDown={(event) => event.key === "Escape" && onClose()}
    >
      <h2 id={`${id}-title`}>Login of {device.name}</h2>
      <p className="notice">
        Shown only now: the password is not shown again. Enter it in the device before you close this
        panel; if it is lost, issue a new login.
      </p>
      {loginSections(login, window.location.hostname).map((section) => (
        <div key={section.title}>
          <h3>{section.title}</h3>
          <dl>
            {section.rows.map((row) => (
              <div key={row.label}>
                <dt>{row.label}</dt>
                <dd>
                  <code ref={row.secret ? secret : undefined} data-field={`${section.title} ${row.label}`}>
                    {row.value}
                  </code>
                  {row.secret && (
                    <button type="button" className="outline" onClick={copy}>
                      Copy password
                    </button>
                  )}
                </dd>
              </div>
            ))}
          </dl>
        </div>
      ))}
      <p role="status">{copied}</p>
      <button type="button" onClick={onClose}>
        Close and forget the password
      </button>
    </section>
  );
}

// The device's actions are those the API says the caller may take (`permissions`).
function DeviceRow({ device, status, showOwner, onChanged, onDeleted }) {
  const may = device.permissions || {};
  const { api } = useSession();
  const [editing, setEditing] = useState(false);
  const remove = useCallback(async () => {
    if (!window.confirm(`Delete ${device.name}? Its readings go with it.`)) return;
    await api.del(`/api/devices/${device.id}`);
    onDeleted(device);
  }, [api, device, onDeleted]);
  const { run, busy, error } = useAction(remove);
  const [login, setLogin] = useState(null);
  const loginButton = useRef(null);
  const issue = useCallback(async () => {
    if (!window.confirm(LOGIN_CONFIRM)) return;
    setLogin(null); // whatever happens next, the previous one is no longer good
    setLogin(await api.post(`/api/devices/${device.id}/credentials`));
  }, [api, device.id]);
  const issuing = useAction(issue);
  const closeLogin = () => {
    setLogin(null);
    loginButton.current?.focus();
  };
  if (editing) {
    return (
      <li className="device editing">
        <EditDevice
          device={device}
          onCancel={() => setEditing(false)}
          onSaved={(saved) => {
            setEditing(false);
            onChanged(saved);
          }}
        />
      </li>
    );
  }
  return (
    <li className="device" data-device-id={device.id}>
      <div>
        <Link to={`/devices/${device.id}`} className="device-name">
          {device.name}
        </Link>
        <DeviceStatus status={status} name={device.name} />
        <small>
          {DEVICE_KINDS[device.kind] || device.kind} · limit {energyAsTyped(device.max_hourly_kwh)} per hour
          {showOwner && ` · owner ${device.user_id.slice(0, 8)}`}
        </small>
        <FormError error={error} />
        <FormError error={issuing.error} />
      </div>
      <div className="actions">
        <Link to={`/devices/${device.id}`} role="button" className="outline" aria-label={`Consumption of ${device.name}`}>
          Consumption
        </Link>
        {may.command && (
          <Link to={`/devices/${device.id}#commands`} role="button" className="outline" aria-label={`Commands of ${device.name}`}>
            Commands
          </Link>
        )}
        {may.update && (
        <button type="button" className="outline" onClick={() => setEditing(true)} aria-label={`Edit ${device.name}`}>
          Edit
        </button>
        )}
        {may.issue_credentials && (
        <button
          type="button"
          ref={loginButton}
          className="outline"
          onClick={issuing.run}
          disabled={issuing.busy}
          aria-busy={issuing.busy}
          aria-label={`Device login for ${device.name}`}
        >
          Device login
        </button>
        )}
        {may.delete && (
        <button type="button" className="outline danger" onClick={run} disabled={busy} aria-label={`Delete ${device.name}`}>
          Delete
        </button>
        )}
      </div>
      {login && <LoginPanel key={login.password} device={device} login={login} onClose={closeLogin} />}
    </li>
  );
}

export default function Devices() {
  const { api, user, liveStatus } = useSession();
  const devices = useResource((signal) => api.get("/api/devices", { signal }), []);
  // Each device's status, moved by `device.status` as devices come and go; the
  // power between those pushes is asked for again now and then.
  const statuses = useResource(
    async (signal) => statusesById(await api.get("/api/devices/status", { signal })),
    [liveStatus === "open"],
  );
  useLive(DEVICE_STATUS, (message) => statuses.setData((byId) => applyStatus(byId, message.data)));
  useInterval(() => statuses.reload({ quiet: true }), 30000);
  // An account that lists everyone's devices is told whose each one is.
  const everyone = can(user, "devices.read_all");
  const replace = (saved) => devices.setData((list) => list.map((d) => (d.id === saved.id ? saved : d)));
  return (
    <section>
      <h1>Devices</h1>
      {can(user, "devices.create") && <AddDevice
          onAdded={(device) => {
            devices.setData((list) => [...(list || []), device]);
            statuses.reload({ quiet: true });
          }}
        />}
      <Resource resource={devices} empty="No devices yet. Add your first one above." loadingLabel="Loading devices…">
        {(list) => (
          <ul className="devices" aria-label="Your devices">
            {list.map((device) => (
              <DeviceRow
                key={device.id}
                device={device}
                status={statuses.data?.[device.id]}
                showOwner={everyone}
                onChanged={replace}
                onDeleted={(gone) => devices.setData((all) => all.filter((d) => d.id !== gone.id))}
              />
            ))}
          </ul>
        )}
      </Resource>
    </section>
  );
}
