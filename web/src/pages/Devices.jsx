import { useCallback, useState } from "react";
import { Link } from "react-router-dom";
import { Field, FormError } from "../components/Field.jsx";
import { Resource } from "../components/Status.jsx";
import { DEVICE_KINDS, limitKwh } from "../format.js";
import { useAction, useResource } from "../hooks.js";
import { useSession } from "../session.jsx";

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

function DeviceRow({ device, showOwner, canWrite, onChanged, onDeleted }) {
  const { api } = useSession();
  const [editing, setEditing] = useState(false);
  const remove = useCallback(async () => {
    if (!window.confirm(`Delete ${device.name}? Its readings go with it.`)) return;
    await api.del(`/api/devices/${device.id}`);
    onDeleted(device);
  }, [api, device, onDeleted]);
  const { run, busy, error } = useAction(remove);
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
        <small>
          {DEVICE_KINDS[device.kind] || device.kind} · limit {limitKwh(device.max_hourly_kwh)} per hour
          {showOwner && ` · owner ${device.user_id.slice(0, 8)}`}
        </small>
        <FormError error={error} />
      </div>
      <div className="actions">
        <Link to={`/devices/${device.id}`} role="button" className="outline" aria-label={`Consumption of ${device.name}`}>
          Consumption
        </Link>
        {canWrite && <>
        <button type="button" className="outline" onClick={() => setEditing(true)} aria-label={`Edit ${device.name}`}>
          Edit
        </button>
        <button type="button" className="outline danger" onClick={run} disabled={busy} aria-label={`Delete ${device.name}`}>
          Delete
        </button>
        </>}
      </div>
    </li>
  );
}

export default function Devices() {
  const { api, user } = useSession();
  const devices = useResource((signal) => api.get("/api/devices", { signal }), []);
  const staff = user.role !== "USER";
  const replace = (saved) => devices.setData((list) => list.map((d) => (d.id === saved.id ? saved : d)));
  return (
    <section>
      <h1>Devices</h1>
      {user.role !== "OPERATOR" && <AddDevice onAdded={(device) => devices.setData((list) => [...(list || []), device])} />}
      <Resource resource={devices} empty="No devices yet. Add your first one above." loadingLabel="Loading devices…">
        {(list) => (
          <ul className="devices" aria-label="Your devices">
            {list.map((device) => (
              <DeviceRow
                key={device.id}
                device={device}
                showOwner={staff}
                canWrite={user.role !== "OPERATOR"}
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
