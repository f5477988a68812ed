import { useCallback, useState } from "react";
import { kw } from "../../batteries.js";
import { NumberField } from "../../components/Field.jsx";
import { useAction } from "../../hooks.js";
import { useSession } from "../../session.jsx";
import "./BatteryCommands.css";

// Charging or discharging a battery at a power, or stopping it.
export function BatteryCommands({ battery, name, onChanged }) {
  const { api } = useSession();
  const [power, setPower] = useState(() => String(Math.min(battery.max_charge_kw, battery.max_discharge_kw)));
  const command = useCallback(
    async (action) => {
      const body = action === "idle" ? { action } : { action, power_kw: power === "" ? null : Number(power) };
      onChanged(await api.post(`/api/batteries/${battery.id}/commands`, body));
    },
    [api, battery.id, power, onChanged],
  );
  const { run, busy, error } = useAction(command);
  const other = error && !error.field?.("power_kw") ? error.field?.("action") || error.message : null;
  return (
    <form
      className="battery-commands"
      aria-label={`Command ${name}`}
      onSubmit={(event) => {
        // The buttons say what to do; Enter in the power field does nothing.
        event.preventDefault();
      }}
    >
      <NumberField
        label="Power (kW)"
        name="power_kw"
        min="0.001"
        max={Math.max(battery.max_charge_kw, battery.max_discharge_kw)}
        value={power}
        onChange={(event) => setPower(event.target.value)}
        error={error}
        hint={`Charge up to ${kw(battery.max_charge_kw)}, discharge up to ${kw(battery.max_discharge_kw)}.`}
      />
      <div className="actions">
        <button type="button" disabled={busy} onClick={() => run("charge")} aria-label={`Charge ${name}`}>
          Charge
        </button>
        <button type="button" disabled={busy} onClick={() => run("discharge")} aria-label={`Discharge ${name}`}>
          Discharge
        </button>
        <button
          type="button"
          className="secondary"
          disabled={busy || battery.mode === "idle"}
          onClick={() => run("idle")}
          aria-label={`Idle: stop ${name}`}
        >
          Idle
        </button>
      </div>
      {other && (
        <p role="alert" className="field-error">
          {other}
        </p>
      )}
    </form>
  );
}
