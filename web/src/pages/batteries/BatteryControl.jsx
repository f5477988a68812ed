import { useCallback, useState } from "react";
import { controlBody, DEFAULT_LOAD, DEFAULT_PRESET, formatList, hourStart, PRICE_PRESETS } from "../../batteries.js";
import { Field, FormError } from "../../components/Field.jsx";
import { dateTime } from "../../format.js";
import { useAction } from "../../hooks.js";
import { useSession } from "../../session.jsx";

export const CONTROL_LABELS = { manual: "Manual", auto: "Automatic" };

// Manual or automatic control of a battery. Automatic works out the cheapest
// plan for a price profile and a typical household's use, and the platform
// sends the battery each control interval's setpoint.
export function BatteryControl({ battery, name, onChanged }) {
  const { api } = useSession();
  const [preset, setPreset] = useState(DEFAULT_PRESET);
  const auto = battery.control === "auto";
  const toggle = useCallback(async () => {
    const prices = PRICE_PRESETS[preset];
    const form = {
      importPrices: formatList(prices.import),
      exportPrices: formatList(prices.export),
      loadSource: "profile",
      load: formatList(DEFAULT_LOAD),
    };
    const start = Number(hourStart(new Date()).slice(11, 13));
    const { body, error } = controlBody(auto ? "manual" : "auto", form, start);
    if (error) throw error;
    onChanged(await api.put(`/api/batteries/${battery.id}/control`, body));
  }, [api, auto, battery.id, onChanged, preset]);
  const { run, busy, error } = useAction(toggle);
  return (
    <fieldset className="battery-control">
      <legend>
        Control: <strong data-testid="battery-control">{CONTROL_LABELS[battery.control] || battery.control}</strong>
        {battery.override_until && (
          <small>
            {" "}
            · a manual command holds until <time dateTime={battery.override_until}>{dateTime(battery.override_until)}</time>
          </small>
        )}
      </legend>
      {!auto && (
        <Field label="Prices to plan for" name="preset" as="select" value={preset} onChange={(event) => setPreset(event.target.value)}>
          {Object.entries(PRICE_PRESETS).map(([key, option]) => (
            <option key={key} value={key}>
              {option.label}
            </option>
          ))}
        </Field>
      )}
      <label>
        <input
          type="checkbox"
          role="switch"
          checked={auto}
          disabled={busy}
          aria-busy={busy}
          onChange={run}
          aria-label={`Automatic control of ${name}`}
        />
        Automatic control
      </label>
      <FormError error={error} />
    </fieldset>
  );
}
