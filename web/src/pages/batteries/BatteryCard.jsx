import { useCallback } from "react";
import { kw, MODE_LABELS, percent } from "../../batteries.js";
import { FormError } from "../../components/Field.jsx";
import { dateTime, energyFigure } from "../../format.js";
import { useAction } from "../../hooks.js";
import { useSession } from "../../session.jsx";
import { BatteryCommands } from "./BatteryCommands.jsx";
import { BatteryControl, CONTROL_LABELS } from "./BatteryControl.jsx";
import { BatteryPlan } from "./BatteryPlan.jsx";
import "./BatteryCard.css";

// A battery's state of charge and limits; its owner's commands and deletion.
export function BatteryCard({ battery, name, writable, onChanged, onDeleted }) {
  const { api } = useSession();
  const remove = useCallback(async () => {
    if (!window.confirm(`Delete the battery of ${name}? The device stays.`)) return;
    await api.del(`/api/batteries/${battery.id}`);
    onDeleted(battery);
  }, [api, battery, name, onDeleted]);
  const { run, busy, error } = useAction(remove);
  const fraction = battery.soc_fraction ?? 0;
  const headingId = `battery-${battery.id}`;
  return (
    <li>
      <article className="battery" aria-labelledby={headingId} data-battery-id={battery.id}>
        <header className="battery-head">
          <h3 id={headingId}>{name}</h3>
          <span className={`battery-mode mode-${battery.mode}`}>
            {MODE_LABELS[battery.mode] || battery.mode}
            {battery.mode !== "idle" && ` at ${kw(battery.power_kw)}`}
          </span>
        </header>
        <label className="soc">
          <span>
            State of charge: <strong>{percent(fraction)}</strong> · {energyFigure(battery.soc_kwh, 2)} of {energyFigure(battery.capacity_kwh, 2)}
          </span>
          <progress value={fraction} max="1" aria-valuetext={`${percent(fraction)}, ${energyFigure(battery.soc_kwh, 2)}`} />
        </label>
        <p className="battery-limits">
          <small>
            Usable {percent(battery.min_soc)}–{percent(battery.max_soc)} · charge ≤ {kw(battery.max_charge_kw)} ·
            discharge ≤ {kw(battery.max_discharge_kw)} · efficiency {percent(battery.efficiency)} · last change{" "}
            <time dateTime={battery.updated_at}>{dateTime(battery.updated_at)}</time>
          </small>
        </p>
        {!writable && (
          <p>
            Control: <strong data-testid="battery-control">{CONTROL_LABELS[battery.control] || battery.control}</strong>
          </p>
        )}
        {battery.control === "auto" && <BatteryPlan battery={battery} name={name} />}
        {writable && (
          <>
            <BatteryControl battery={battery} name={name} onChanged={onChanged} />
            <BatteryCommands battery={battery} name={name} onChanged={onChanged} />
            <footer className="actions">
              <button
                type="button"
                className="outline danger"
                onClick={run}
                disabled={busy}
                aria-label={`Delete battery ${name}`}
              >
                Delete
              </button>
              <FormError error={error} />
            </footer>
          </>
        )}
      </article>
    </li>
  );
}
