import { useCallback, useMemo, useState } from "react";
import { Chart } from "react-chartjs-2";
import { Link } from "react-router-dom";
import {
  ACTION_LABELS,
  applyState,
  batteryBody,
  DEFAULT_LOAD,
  DEFAULT_PRESET,
  fixed,
  formatList,
  hourLabel,
  hourStart,
  MODE_LABELS,
  percent,
  PRICE_PRESETS,
  scheduleBody,
  scheduleError,
  signedPower,
} from "../batteries.js";
import { baseOptions, COLORS } from "../components/charts.js";
import { Field, FormError } from "../components/Field.jsx";
import { Resource } from "../components/Status.jsx";
import { DEVICE_KINDS, kwh, money, utcDateTime } from "../format.js";
import { useAction, useInterval, useResource } from "../hooks.js";
import { useLive, useSession } from "../session.jsx";
import { perKwh } from "../trading.js";
import "./Batteries.css";

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

function kw(value) {
  if (value === null || value === undefined) return "–";
  return `${fixed(value, 2)} kW`;
}

// The card's commands and its Delete button, for a caller the server lets do both.
function canWrite(battery) {
  return battery.permissions.command && battery.permissions.delete;
}

function AddBattery({ devices, batteries, onAdded }) {
  const { api, user } = useSession();
  const [form, setForm] = useState(BLANK);
  const taken = new Set(batteries.map((b) => b.device_id));
  const free = devices.filter((d) => d.kind === "battery" && (d.user_id === user.id || user.role === "ADMIN") && !taken.has(d.id));
  const deviceId = form.device_id || free[0]?.id || "";
  const add = useCallback(async () => {
    const battery = await api.post("/api/batteries", batteryBody({ ...form, device_id: deviceId }));
    setForm(BLANK);
    onAdded(battery);
  }, [api, form, deviceId, onAdded]);
  const { run, busy, error } = useAction(add);
  const change = (event) => setForm({ ...form, [event.target.name]: event.target.value });
  const number = { type: "number", inputMode: "decimal", step: "any", onChange: change, error };
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
        <form
          aria-label="Add a battery"
          onSubmit={(event) => {
            event.preventDefault();
            run();
          }}
        >
          <Field label="Device" name="device_id" as="select" value={deviceId} onChange={change} error={error} required>
            {free.map((device) => (
              <option key={device.id} value={device.id}>
                {device.name}
              </option>
            ))}
          </Field>
          <div className="grid">
            <Field label="Capacity (kWh)" name="capacity_kwh" required min="0.001" value={form.capacity_kwh} {...number} />
            <Field label="Max charge power (kW)" name="max_charge_kw" required min="0.001" value={form.max_charge_kw} {...number} />
            <Field
              label="Max discharge power (kW)"
              name="max_discharge_kw"
              required
              min="0.001"
              value={form.max_discharge_kw}
              {...number}
            />
          </div>
          <div className="grid">
            <Field
              label="Round-trip efficiency"
              name="efficiency"
              min="0"
              max="1"
              placeholder="0.9"
              hint="Above 0, at most 1. Empty: 0.9."
              value={form.efficiency}
              {...number}
            />
            <Field
              label="Minimum charge (fraction)"
              name="min_soc"
              min="0"
              max="1"
              placeholder="0"
              hint="0 to 1 of the capacity. Empty: 0."
              value={form.min_soc}
              {...number}
            />
            <Field
              label="Maximum charge (fraction)"
              name="max_soc"
              min="0"
              max="1"
              placeholder="1"
              hint="Above the minimum, at most 1. Empty: 1."
              value={form.max_soc}
              {...number}
            />
            <Field
              label="Charge now (kWh)"
              name="soc_kwh"
              min="0"
              hint="Empty: the minimum charge."
              value={form.soc_kwh}
              {...number}
            />
          </div>
          <FormError error={error} />
          <button type="submit" aria-busy={busy} disabled={busy}>
            Add battery
          </button>
        </form>
      )}
    </details>
  );
}

function Commands({ battery, name, onChanged }) {
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
      <Field
        label="Power (kW)"
        name="power_kw"
        type="number"
        inputMode="decimal"
        min="0.001"
        step="any"
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
          aria-label={`Stop ${name} (idle)`}
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

function BatteryCard({ battery, name, writable, onChanged, onDeleted }) {
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
            State of charge: <strong>{percent(fraction)}</strong> · {kwh(battery.soc_kwh, 2)} of {kwh(battery.capacity_kwh, 2)}
          </span>
          <progress value={fraction} max="1" aria-valuetext={`${percent(fraction)}, ${kwh(battery.soc_kwh, 2)}`} />
        </label>
        <p className="battery-limits">
          <small>
            Usable {percent(battery.min_soc)}–{percent(battery.max_soc)} · charge ≤ {kw(battery.max_charge_kw)} ·
            discharge ≤ {kw(battery.max_discharge_kw)} · efficiency {percent(battery.efficiency)} · last change{" "}
            <time dateTime={battery.updated_at}>{utcDateTime(battery.updated_at)}</time>
          </small>
        </p>
        {writable && (
          <>
            <Commands battery={battery} name={name} onChanged={onChanged} />
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

function ScheduleChart({ result, labels, capacity, prices }) {
  const data = {
    labels,
    datasets: [
      {
        type: "line",
        label: "State of charge (kWh)",
        data: result.hours.map((h) => h.soc_kwh_end),
        borderColor: COLORS.used,
        backgroundColor: COLORS.used,
        yAxisID: "soc",
        pointRadius: 2,
        tension: 0.2,
        order: 0,
      },
      {
        type: "bar",
        label: "Charge (kW)",
        data: result.hours.map((h) => (h.action === "charge" ? h.power_kw : 0)),
        backgroundColor: COLORS.charge,
        yAxisID: "y",
        order: 2,
      },
      {
        type: "bar",
        label: "Discharge (kW)",
        data: result.hours.map((h) => (h.action === "discharge" ? signedPower(h) : 0)),
        backgroundColor: COLORS.discharge,
        yAxisID: "y",
        order: 2,
      },
      {
        type: "line",
        label: "Import price",
        data: prices,
        borderColor: COLORS.limit,
        borderDash: [6, 4],
        borderWidth: 1.5,
        pointRadius: 0,
        stepped: "middle",
        yAxisID: "price",
        order: 1,
      },
    ],
  };
  const base = baseOptions({ yTitle: "Power (kW)", stacked: true });
  const options = {
    ...base,
    scales: {
      x: base.scales.x,
      y: { ...base.scales.y, beginAtZero: true },
      soc: {
        position: "right",
        min: 0,
        max: capacity,
        title: { display: true, text: "Charge (kWh)" },
        grid: { drawOnChartArea: false },
      },
      price: { display: false },
    },
  };
  const charged = result.hours.filter((h) => h.action === "charge").length;
  const discharged = result.hours.filter((h) => h.action === "discharge").length;
  return (
    <div className="chart-box schedule-chart">
      <Chart
        type="bar"
        data={data}
        options={options}
        role="img"
        aria-label={`Planned schedule over ${result.hours.length} hours: charging in ${charged} hours, discharging in ${discharged}, saving ${money(result.saving)}. The table below has every hour.`}
        data-testid="schedule-chart"
      />
    </div>
  );
}

function ScheduleResult({ plan }) {
  const { result, startHour, prices, capacity } = plan;
  const labels = result.hours.map((h) => hourLabel(startHour + h.hour_index));
  return (
    <section className="schedule-result" aria-labelledby="plan-heading" aria-live="polite">
      <h3 id="plan-heading">The cheapest plan from {utcDateTime(plan.startIso)}</h3>
      <dl className="plan-summary">
        <div>
          <dt>Cost with the battery</dt>
          <dd>{money(result.total_cost)}</dd>
        </div>
        <div>
          <dt>Cost without it</dt>
          <dd>{money(result.cost_without_battery)}</dd>
        </div>
        <div className={result.saving > 0 ? "saving" : undefined}>
          <dt>Saving</dt>
          <dd>{money(result.saving)}</dd>
        </div>
        <div>
          <dt>Charge at the start</dt>
          <dd>{kwh(result.start_soc_kwh, 2)}</dd>
        </div>
      </dl>
      <ScheduleChart result={result} labels={labels} capacity={capacity} prices={prices} />
      <p>
        <small>
          Hours in UTC. Bars: charging up, discharging down (kW, over the whole hour). Line: the charge at the end of
          each hour. Planned by {result.method}, in steps of {kwh(result.grid_step_kwh, 3)}. Nothing is commanded.
        </small>
      </p>
      <details>
        <summary>The plan as a table</summary>
        <div className="table-wrap">
          <table className="data" data-testid="schedule-table">
            <caption className="visually-hidden">The plan hour by hour</caption>
            <thead>
              <tr>
                <th scope="col">Hour (UTC)</th>
                <th scope="col">Action</th>
                <th scope="col">Power (kW)</th>
                <th scope="col">Charge at end (kWh)</th>
                <th scope="col">Load (kWh)</th>
                <th scope="col">From grid (kWh)</th>
                <th scope="col">Import price</th>
                <th scope="col">Cost</th>
              </tr>
            </thead>
            <tbody>
              {result.hours.map((h, i) => (
                <tr key={h.hour_index}>
                  <th scope="row">{labels[i]}</th>
                  <td>{ACTION_LABELS[h.action] || h.action}</td>
                  <td>{h.action === "idle" ? "–" : fixed(h.power_kw, 2)}</td>
                  <td>{fixed(h.soc_kwh_end, 2)}</td>
                  <td>{fixed(h.load_kwh, 2)}</td>
                  <td>{fixed(h.grid_kwh, 2)}</td>
                  <td>{perKwh(prices[i])}</td>
                  <td>{fixed(h.cost, 3)}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row" colSpan={7}>
                  Total
                </th>
                <td>{fixed(result.total_cost, 3)}</td>
              </tr>
            </tfoot>
          </table>
        </div>
      </details>
    </section>
  );
}

function Schedule({ batteries, devices, names }) {
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
      <form
        aria-label="Plan a schedule"
        onSubmit={(event) => {
          event.preventDefault();
          run();
        }}
      >
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
        <Field
          label="Import prices per kWh, 24 values from 00:00 UTC"
          name="import_prices"
          as="textarea"
          rows={3}
          value={form.importPrices}
          onChange={(event) => setForm({ ...form, preset: "custom", importPrices: event.target.value })}
          error={error}
          hint="What a kWh from the grid costs in each hour, separated by commas."
          spellCheck={false}
        />
        <Field
          label="Export prices per kWh, 24 values from 00:00 UTC"
          name="export_prices"
          as="textarea"
          rows={3}
          value={form.exportPrices}
          onChange={(event) => setForm({ ...form, preset: "custom", exportPrices: event.target.value })}
          error={error}
          hint="What a kWh sent to the grid earns in each hour."
          spellCheck={false}
        />
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
        <button type="submit" aria-busy={busy} disabled={busy}>
          Plan for {names[battery.id]}
        </button>
      </form>
      {plan && <ScheduleResult plan={plan} />}
    </section>
  );
}

export default function Batteries() {
  const { api, user, liveStatus } = useSession();
  const batteries = useResource((signal) => api.get("/api/batteries", { signal }), [liveStatus === "open"]);
  const devices = useResource((signal) => api.get("/api/devices", { signal }), []);

  useLive("battery.state", (message) => {
    batteries.setData((list) => applyState(list, message.data, message.ts));
  });

  // A charging or discharging battery moves between pushes: its charge is worked
  // out by the server when asked.
  const active = (batteries.data || []).some((b) => b.mode !== "idle");
  useInterval(() => batteries.reload({ quiet: true }), 30000, active);

  const names = useMemo(() => {
    const byDevice = Object.fromEntries((devices.data || []).map((d) => [d.id, d.name]));
    return Object.fromEntries(
      (batteries.data || []).map((b) => [b.id, byDevice[b.device_id] || `Battery ${b.id.slice(0, 8)}`]),
    );
  }, [devices.data, batteries.data]);

  const replace = (saved) => batteries.setData((list) => list.map((b) => (b.id === saved.id ? saved : b)));
  const remove = (gone) => batteries.setData((list) => list.filter((b) => b.id !== gone.id));
  const added = (battery) => batteries.setData((list) => [...(list || []), battery]);

  return (
    <section className="batteries-page">
      <h1>Batteries</h1>
      {user.role !== "OPERATOR" && batteries.data && devices.data && (
        <AddBattery devices={devices.data} batteries={batteries.data} onAdded={added} />
      )}
      <section aria-labelledby="batteries-heading">
        <h2 id="batteries-heading">{user.role === "USER" ? "Your batteries" : "All batteries"}</h2>
        <Resource
          resource={batteries}
          empty="No batteries yet. Add one on a device of kind “Battery”."
          loadingLabel="Loading batteries…"
        >
          {(list) => (
            <ul className="battery-list" aria-label="Batteries">
              {list.map((battery) => (
                <BatteryCard
                  key={battery.id}
                  battery={battery}
                  name={names[battery.id]}
                  writable={canWrite(battery)}
                  onChanged={replace}
                  onDeleted={remove}
                />
              ))}
            </ul>
          )}
        </Resource>
      </section>
      {batteries.data?.length > 0 && (
        <Schedule batteries={batteries.data} devices={devices.data || []} names={names} />
      )}
    </section>
  );
}
