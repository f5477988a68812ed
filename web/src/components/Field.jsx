import { useId } from "react";

// A labelled form control with the server's message for it, announced to screen
// readers and tied to the control by aria-describedby.
export function Field({ label, name, error, hint, as = "input", children, ...props }) {
  const id = useId();
  const message = error?.field?.(name) || null;
  const described = [message ? `${id}-error` : null, hint ? `${id}-hint` : null]
    .filter(Boolean)
    .join(" ");
  const Control = as;
  return (
    <label htmlFor={id}>
      {label}
      <Control
        id={id}
        name={name}
        aria-invalid={message ? "true" : undefined}
        aria-describedby={described || undefined}
        {...props}
      >
        {children}
      </Control>
      {hint && <small id={`${id}-hint`}>{hint}</small>}
      {message && (
        <small id={`${id}-error`} className="field-error">
          {message}
        </small>
      )}
    </label>
  );
}

// A Field for a decimal number: a number pad on phones, any step.
export function NumberField(props) {
  return <Field type="number" inputMode="decimal" step="any" {...props} />;
}

// The error of a form as a whole: what the server said beyond the fields.
export function FormError({ error }) {
  if (!error) return null;
  const fields = Object.keys(error.details || {});
  return (
    <p role="alert" className="field-error">
      {error.message}
      {fields.length > 0 && ` (${fields.join(", ")})`}
    </p>
  );
}

// `error`, whose `field(name)` first asks `extra(name)`: for messages that the
// platform does not key by the form's own field names.
export function withFieldErrors(error, extra) {
  if (!error) return null;
  return { ...error, message: error.message, field: (name) => extra(name) ?? error.field?.(name) ?? null };
}
