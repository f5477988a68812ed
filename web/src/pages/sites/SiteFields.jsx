// The fields of a site: its name, place, time zone, tariff (flat prices and
// time-of-use periods) and the grid's CO2 intensity.
import { Field, NumberField } from "../../components/Field.jsx";
import { timeZones } from "../../sites.js";

const ZONES = timeZones();
const BLANK_PERIOD = { start_hour: "", end_hour: "", import_per_kwh: "", export_per_kwh: "" };

// The server's message for a field of the tariff, or of one of its periods.
function tariffError(error, ...path) {
  let value = error?.details?.tariff;
  for (const key of path) value = value?.[key];
  if (!value) return null;
  return { field: () => (Array.isArray(value) ? value.join(" ") : String(value)) };
}

export function SiteFields({ form, setForm, error }) {
  const change = (event) => setForm({ ...form, [event.target.name]: event.target.value });
  const changePeriod = (index, name, value) =>
    setForm({ ...form, periods: form.periods.map((period, at) => (at === index ? { ...period, [name]: value } : period)) });
  return (
    <>
      <div className="grid">
        <Field label="Name" name="name" required maxLength={200} value={form.name} onChange={change} error={error} />
        <Field label="Address" name="address" maxLength={500} value={form.address} onChange={change} error={error} />
      </div>
      <div className="grid">
        <NumberField label="Latitude" name="latitude" min="-90" max="90" value={form.latitude} onChange={change} error={error} hint="Both or neither: the site's place on the map." />
        <NumberField label="Longitude" name="longitude" min="-180" max="180" value={form.longitude} onChange={change} error={error} />
        <Field label="Time zone" name="timezone" as="select" value={form.timezone} onChange={change} error={error} hint="Days and months of its figures begin at its midnight.">
          {ZONES.map((zone) => (
            <option key={zone} value={zone}>
              {zone}
            </option>
          ))}
        </Field>
      </div>
      <fieldset>
        <legend>Tariff</legend>
        <div className="grid">
          <Field label="Currency" name="currency" maxLength={3} value={form.currency} onChange={change} error={tariffError(error, "currency")} />
          <NumberField label="Import price per kWh" name="import_per_kwh" min="0" value={form.import_per_kwh} onChange={change} error={tariffError(error, "import_per_kwh")} />
          <NumberField label="Export price per kWh" name="export_per_kwh" min="0" value={form.export_per_kwh} onChange={change} error={tariffError(error, "export_per_kwh")} />
        </div>
        {form.periods.map((period, index) => (
          <fieldset key={index} className="tariff-period">
            <legend>Time of use {index + 1}</legend>
            <div className="grid">
              {[
                ["start_hour", "From hour"],
                ["end_hour", "To hour"],
                ["import_per_kwh", "Import per kWh"],
                ["export_per_kwh", "Export per kWh"],
              ].map(([name, label]) => (
                <NumberField
                  key={name}
                  label={label}
                  name={name}
                  min="0"
                  value={period[name]}
                  onChange={(event) => changePeriod(index, name, event.target.value)}
                  error={tariffError(error, "periods", index, name) || tariffError(error, "periods", String(index), name)}
                />
              ))}
            </div>
            <button type="button" className="secondary outline" onClick={() => setForm({ ...form, periods: form.periods.filter((_, at) => at !== index) })}>
              Remove time of use {index + 1}
            </button>
          </fieldset>
        ))}
        {tariffError(error, "periods") && typeof error.details.tariff.periods !== "object" && (
          <small className="field-error">{String(error.details.tariff.periods)}</small>
        )}
        <button type="button" className="outline" onClick={() => setForm({ ...form, periods: [...form.periods, BLANK_PERIOD] })}>
          Add a time-of-use period
        </button>
      </fieldset>
      <NumberField label="Grid CO2 (kg per kWh)" name="co2_kg_per_kwh" min="0" value={form.co2_kg_per_kwh} onChange={change} error={error} />
    </>
  );
}
