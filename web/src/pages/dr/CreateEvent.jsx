import { useCallback, useState } from "react";
import { ActionForm, SubmitButton } from "../../components/ActionForm.jsx";
import { Field, FormError, NumberField, withFieldErrors } from "../../components/Field.jsx";
import { blankEventForm, eventBody, formEnd, MAX_HOURS } from "../../dr.js";
import { utcDateTime } from "../../format.js";
import { useAction } from "../../hooks.js";
import { useSession } from "../../session.jsx";
import "./dr.css";
import "./StaffEvents.css";

// The choices of the window's selects: [value, label].
const HOURS_OF_DAY = Array.from({ length: 24 }, (_, h) => [String(h), `${String(h).padStart(2, "0")}:00`]);
const DURATIONS = Array.from({ length: MAX_HOURS }, (_, i) => [String(i + 1), `${i + 1} ${i === 0 ? "hour" : "hours"}`]);

// What the event asks for and what it pays.
const AMOUNTS = [
  { label: "Target reduction (kW)", name: "target_reduction_kw" },
  { label: "Incentive per kWh saved", name: "incentive_per_kwh", max: "1000" },
];

function options(choices) {
  return choices.map(([value, label]) => (
    <option key={value} value={value}>
      {label}
    </option>
  ));
}

// Announcing an event: its name, window of whole UTC hours, target and incentive.
export function CreateEvent({ onCreated }) {
  const { api } = useSession();
  const [form, setForm] = useState(() => blankEventForm());
  const [open, setOpen] = useState(false);
  const change = (e) => setForm({ ...form, [e.target.name]: e.target.value });
  const create = useCallback(async () => {
    const event = await api.post("/api/dr/events", eventBody(form));
    setForm(blankEventForm());
    setOpen(false);
    onCreated(event);
  }, [api, form, onCreated]);
  const { run, busy, error } = useAction(create);
  const end = formEnd(form);
  // The window's errors are the platform's, on the fields that make it.
  const fieldError = withFieldErrors(error, (name) => {
    if (name === "date") return error?.field("start");
    if (name === "hours") return error?.field("end");
    return null;
  });
  return (
    <details className="dr-create" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary role="button" className="outline">
        Announce an event
      </summary>
      <ActionForm aria-label="Announce an event" run={run}>
        <Field label="Name" name="name" required maxLength={200} value={form.name} onChange={change} error={error} />
        <div className="grid">
          <Field label="Start day (UTC)" name="date" type="date" required value={form.date} onChange={change} error={fieldError} />
          <Field label="Start hour (UTC)" name="hour" as="select" value={form.hour} onChange={change} error={fieldError}>
            {options(HOURS_OF_DAY)}
          </Field>
          <Field
            label="Duration"
            name="hours"
            as="select"
            value={form.hours}
            onChange={change}
            error={fieldError}
            hint={end ? `Ends ${utcDateTime(end)}` : undefined}
          >
            {options(DURATIONS)}
          </Field>
        </div>
        <div className="grid">
          {AMOUNTS.map((field) => (
            <NumberField key={field.name} {...field} min="0" required value={form[field.name]} onChange={change} error={error} />
          ))}
        </div>
        <small className="dr-muted">Events start on a whole UTC hour in the future and last at most {MAX_HOURS} hours.</small>
        <FormError error={error} />
        <SubmitButton busy={busy}>Announce</SubmitButton>
      </ActionForm>
    </details>
  );
}
