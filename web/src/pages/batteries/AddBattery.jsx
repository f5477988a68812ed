import { useCallback, useState } from "react";
import { Link } from "react-router-dom";
import { batteryBody } from "../../batteries.js";
import { ActionForm, SubmitButton } from "../../components/ActionForm.jsx";
import { Field, FormError, NumberField } from "../../components/Field.jsx";
import { useAction } from "../../hooks.js";
import { can } from "../../permissions.js";
import { useSession } from "../../session.jsx";
import "./AddBattery.css";

const BLANK = {
  device_id: "",
  capacity_kwh: "",
  max_charge_kw: "",
  max_discharge_kw: "",
  efficiency: "",
  min_soc: "",
  max_soc: "",
  soc_kwh: "",
};

// What a battery can hold and move, each above 0.
const SIZES = [
  { label: "Capacity (kWh)", name: "capacity_kwh" },
  { label: "Max charge power (kW)", name: "max_charge_kw" },
  { label: "Max discharge power (kW)", name: "max_discharge_kw" },
];

// How it behaves and what it holds now; each may be left empty.
const SETTINGS = [
  {
    label: "Round-trip efficiency",
    name: "efficiency",
    min: "0",
    max: "1",
    placeholder: "0.9",
    hint: "Above 0, at most 1. Empty: 0.9.",
  },
  {
    label: "Minimum charge (fraction)",
    name: "min_soc",
    min: "0",
    max: "1",
    placeholder: "0",
    hint: "0 to 1 of the capacity. Empty: 0.",
  },
  {
    label: "Maximum charge (fraction)",
    name: "max_soc",
    min: "0",
    max: "1",
    placeholder: "1",
    hint: "Above the minimum, at most 1. Empty: 1.",
  },
  { label: "Charge now (kWh)", name: "soc_kwh", min: "0", hint: "Empty: the minimum charge." },
];

// Adding a battery on a battery device that has none yet: one of the caller's,
// or anyone's for an account that may add batteries on anyone's devices.
export function AddBattery({ devices, batteries, onAdded }) {
  const { api, user } = useSession();
  const [form, setForm] = useState(BLANK);
  const taken = new Set(batteries.map((b) => b.device_id));
  const anyones = can(user, "batteries.add");
  const free = devices.filter((d) => d.kind === "battery" && (d.user_id === user.id || anyones) && !taken.has(d.id));
  const deviceId = form.device_id || free[0]?.id || "";
  const add = useCallback(async () => {
    const battery = await api.post("/api/batteries", batteryBody({ ...form, device_id: deviceId }));
    setForm(BLANK);
    onAdded(battery);
  }, [api, form, deviceId, onAdded]);
  const { run, busy, error } = useAction(add);
  const change = (event) => setForm({ ...form, [event.target.name]: event.target.value });
  return (
    <details className="add-battery">
      <summary role="button" className="outline">
        Add a battery
      </summary>
      {free.length === 0 ? (
        <p className="notice">
          A battery sits on a device of kind “Battery”, one battery per device, and you have no such device without a
          battery. <Link to="/devices">Add a battery device</Link> first.
        </p>
      ) : (
        <ActionForm aria-label="Add a battery" run={run}>
          <Field label="Device" name="device_id" as="select" value={deviceId} onChange={change} error={error} required>
            {free.map((device) => (
              <option key={device.id} value={device.id}>
                {device.name}
              </option>
            ))}
          </Field>
          <div className="grid">
            {SIZES.map((field) => (
              <NumberField key={field.name} {...field} required min="0.001" value={form[field.name]} onChange={change} error={error} />
            ))}
          </div>
          <div className="grid">
            {SETTINGS.map((field) => (
              <NumberField key={field.name} {...field} value={form[field.name]} onChange={change} error={error} />
            ))}
          </div>
          <FormError error={error} />
          <SubmitButton busy={busy}>Add battery</SubmitButton>
        </ActionForm>
      )}
    </details>
  );
}
