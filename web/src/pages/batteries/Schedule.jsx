import { useCallback, useState } from "react";
import {
  DEFAULT_LOAD,
  DEFAULT_PRESET,
  formatList,
  hourStart,
  PRICE_PRESETS,
  scheduleBody,
  scheduleError,
} from "../../batteries.js";
import { ActionForm, SubmitButton } from "../../components/ActionForm.jsx";
import { Field, FormError } from "../../components/Field.jsx";
import { DEVICE_KINDS } from "../../format.js";
import { useAction } from "../../hooks.js";
import { useSession } from "../../session.jsx";
import { ScheduleResult } from "./ScheduleResult.jsx";
import "./Schedule.css";

// The price lists: what a kWh costs from the grid and earns sent to it, by hour.
const PRICE_LISTS = [
  {
    key: "importPrices",
    label: "Import prices per kWh, 24 values from 00:00 UTC",
    name: "import_prices",
    hint: "What a kWh from the grid costs in each hour, separated by commas.",
  },
  {
    key: "exportPrices",
    label: "Export prices per kWh, 24 values from 00:00 UTC",
    name: "export_prices",
    hint: "What a kWh sent to the grid earns in each hour.",
  },
];

// Planning a battery's cheapest day from hourly prices and a household's use.
export function Schedule({ batteries, devices, names }) {
  const { api } = useSession();
  const [form, setForm] = useState(() => ({
    batteryId: "",
    preset: DEFAULT_PRESET,
    importPrices: formatList(PRICE_PRESETS[DEFAULT_PRESET].import),
    exportPrices: formatList(PRICE_PRESETS[DEFAULT_PRESET].export),
    loadSource: "profile",
    load: formatList(DEFAULT_LOAD),
  }));
  const [plan, setPlan] = useState(null);
  const [startHour, setStartHour] = useState(null);
  const battery = batteries.find((b) => b.id === form.batteryId) || batteries[0];
  const change = (event) => setForm({ ...form, [event.target.name]: event.target.value });
  const choosePreset = (event) => {
    const preset = PRICE_PRESETS[event.target.value];
    setForm({
      ...form,
      preset: event.target.value,
      ...(preset && { importPrices: formatList(preset.import), exportPrices: formatList(preset.export) }),
    });
  };
  const request = useCallback(async () => {
    const startIso = hourStart(new Date());
    const start = Number(startIso.slice(11, 13));
    setStartHour(start);
    const { body, error } = scheduleBody(form, start);
    if (error) throw error;
    const result = await api.post(`/api/batteries/${battery.id}/schedule`, body);
    setPlan({ result, startIso, startHour: start, prices: body.import_prices, capacity: battery.capacity_kwh });
  }, [api, battery, form]);
  const { run, busy, error: rawError } = useAction(request);
  const error = rawError?.status ? scheduleError(rawError, startHour ?? 0) : rawError;
  const loadDevices = devices.filter((d) => d.kind !== "pv" && d.kind !== "battery");
  return (
    <section aria-labelledby="schedule-heading" className="schedule">
      <h2 id="schedule-heading">Plan the cheapest schedule</h2>
      <p>
        Give the prices of each hour of the day (UTC, 00:00 first) and the household&apos;s use; the platform works out
        when to charge and discharge over the next 24 hours, starting with the current hour.
      </p>
      <ActionForm aria-label="Plan a schedule" run={run}>
        <div className="grid">
          {batteries.length > 1 && (
            <Field label="Battery" name="batteryId" as="select" value={battery.id} onChange={change}>
              {batteries.map((b) => (
                <option key={b.id} value={b.id}>
                  {names[b.id]}
                </option>
              ))}
            </Field>
          )}
          <Field label="Price profile" name="preset" as="select" value={form.preset} onChange={choosePreset}>
            {Object.entries(PRICE_PRESETS).map(([key, preset]) => (
              <option key={key} value={key}>
                {preset.label}
              </option>
            ))}
            <option value="custom">Custom (edit the lists)</option>
          </Field>
        </div>
        {PRICE_LISTS.map(({ key, ...list }) => (
          <Field
            key={key}
            {...list}
            as="textarea"
            rows={3}
            value={form[key]}
            onChange={(event) => setForm({ ...form, preset: "custom", [key]: event.target.value })}
            error={error}
            spellCheck={false}
          />
        ))}
        <Field
          label="Household use"
          name="load_device_id"
          as="select"
          value={form.loadSource}
          onChange={(event) => setForm({ ...form, loadSource: event.target.value })}
          error={error}
          hint="A device's forecast is learned from its last four weeks of readings."
        >
          <option value="profile">A typical day (edit the list below)</option>
          {loadDevices.map((device) => (
            <option key={device.id} value={device.id}>
              Forecast of {device.name} ({DEVICE_KINDS[device.kind] || device.kind})
            </option>
          ))}
        </Field>
        {form.loadSource === "profile" && (
          <Field
            label="Use per hour (kWh), 24 values from 00:00 UTC"
            name="load_kwh"
            as="textarea"
            rows={3}
            value={form.load}
            onChange={change}
            error={error}
            hint="Negative values are a surplus (solar)."
            spellCheck={false}
          />
        )}
        {form.loadSource !== "profile" && error?.field?.("load_kwh") && (
          <p className="field-error" role="alert">
            {error.field("load_kwh")}
          </p>
        )}
        <FormError error={error} />
        <SubmitButton busy={busy}>Plan for {names[battery.id]}</SubmitButton>
      </ActionForm>
      {plan && <ScheduleResult plan={plan} />}
    </section>
  );
}
