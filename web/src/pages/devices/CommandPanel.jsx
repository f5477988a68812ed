import { useCallback, useMemo, useState } from "react";
import { ActionForm, SubmitButton } from "../../components/ActionForm.jsx";
import { Field, FormError, NumberField } from "../../components/Field.jsx";
import { Resource } from "../../components/Status.jsx";
import {
  applyCommandUpdate,
  blankParams,
  boundsText,
  commandBody,
  commandError,
  commandText,
  paramLabel,
  STATUS_LABELS,
  TYPE_LABELS,
  typesFor,
} from "../../commands.js";
import { utcTime } from "../../format.js";
import { useAction, useResource } from "../../hooks.js";
import { COMMAND_UPDATED } from "../../pushes.generated.js";
import { useLive, useSession } from "../../session.jsx";
import "./devices.css";

function CommandStatus({ status }) {
  return <span className={`status-badge command-${status}`}>{STATUS_LABELS[status] || status}</span>;
}

// One parameter of the chosen type: on/off, or a number within the catalogue's bounds.
function ParamField({ param, value, onChange, error }) {
  const label = paramLabel(param);
  if (param.type === "boolean") {
    return (
      <Field label={label} name={param.name} as="select" value={value} onChange={onChange} error={error}>
        <option value="true">On</option>
        <option value="false">Off</option>
      </Field>
    );
  }
  return (
    <NumberField
      label={label}
      name={param.name}
      value={value}
      onChange={onChange}
      error={error}
      required={param.required}
      min={param.min ?? undefined}
      max={param.max ?? undefined}
      hint={`${param.description ? `${param.description}; ` : ""}${boundsText(param)}.`}
    />
  );
}

function SendCommand({ device, catalogue, onSent }) {
  const { api } = useSession();
  const types = useMemo(() => typesFor(catalogue, device.kind), [catalogue, device.kind]);
  const [typeName, setTypeName] = useState(types[0]?.type ?? "");
  const type = types.find((t) => t.type === typeName) || types[0];
  const [values, setValues] = useState(() => blankParams(type));
  const choose = (event) => {
    setTypeName(event.target.value);
    setValues(blankParams(types.find((t) => t.type === event.target.value)));
  };
  const change = (event) => setValues({ ...values, [event.target.name]: event.target.value });
  const send = useCallback(async () => {
    const { body, error } = commandBody(type, values);
    if (error) throw error;
    onSent(await api.post(`/api/devices/${device.id}/commands`, body));
  }, [api, device.id, onSent, type, values]);
  const { run, busy, error: rawError } = useAction(send);
  const error = commandError(rawError);
  return (
    <ActionForm aria-label={`Send ${device.name} a command`} run={run} noValidate>
      <div className="grid">
        <Field label="Command" name="type" as="select" value={type?.type ?? ""} onChange={choose} error={error}>
          {types.map((t) => (
            <option key={t.type} value={t.type}>
              {TYPE_LABELS[t.type] || t.type}
            </option>
          ))}
        </Field>
        {type?.params.map((param) => (
          <ParamField key={`${type.type}-${param.name}`} param={param} value={values[param.name] ?? ""} onChange={change} error={error} />
        ))}
      </div>
      {type && <p className="hint">{type.description}</p>}
      <FormError error={error} />
      <SubmitButton busy={busy}>Send command</SubmitButton>
    </ActionForm>
  );
}

function CommandHistory({ list }) {
  return (
    <ol className="commands" aria-label="Commands sent, newest first">
      {list.map((command) => (
        <li key={command.id} data-command-id={command.id} data-status={command.status}>
          <strong>{commandText(command.type, command.params)}</strong> <CommandStatus status={command.status} />
          <small>
            {" "}
            sent <time dateTime={command.created_at}>{utcTime(command.created_at)}</time>
            {command.detail && ` · ${command.detail}`}
          </small>
          <ol className="command-steps" aria-label="Status history">
            {(command.history || []).map((step) => (
              <li key={`${step.status}-${step.at}`}>
                {STATUS_LABELS[step.status] || step.status} <time dateTime={step.at}>{utcTime(step.at)}</time>
                {step.detail && ` (${step.detail})`}
              </li>
            ))}
          </ol>
        </li>
      ))}
    </ol>
  );
}

// A device's commands: the form to send one of the types its kind takes (as the
// platform's catalogue says), and the latest ones with their statuses, moved
// live by `command.updated`.
export function CommandPanel({ device }) {
  const { api, liveStatus } = useSession();
  const catalogue = useResource((signal) => api.get("/api/command-types", { signal }), []);
  const history = useResource(
    (signal) => api.get(`/api/devices/${device.id}/commands`, { signal }),
    [device.id, liveStatus === "open"],
  );
  useLive(COMMAND_UPDATED, (message) => history.setData((list) => applyCommandUpdate(list, message.data, device.id)));
  const sent = useCallback(
    (command) => history.setData((list) => applyCommandUpdate(list || [], command, device.id)),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [device.id],
  );
  return (
    <section id="commands" aria-labelledby="commands-heading" className="command-panel">
      <h2 id="commands-heading">Commands</h2>
      <Resource resource={catalogue} isEmpty={() => false} loadingLabel="Loading commands…">
        {(types) => <SendCommand key={device.kind} device={device} catalogue={types} onSent={sent} />}
      </Resource>
      <h3>Sent</h3>
      <Resource resource={history} empty="No commands sent yet." loadingLabel="Loading the commands sent…">
        {(list) => <CommandHistory list={list} />}
      </Resource>
    </section>
  );
}
