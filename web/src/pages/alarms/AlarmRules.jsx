import { useCallback, useEffect, useId, useRef, useState } from "react";
import { Link } from "react-router-dom";
import { ActionForm, SubmitButton } from "../../components/ActionForm.jsx";
import { DataTable } from "../../components/DataTable.jsx";
import { Field, FormError, NumberField } from "../../components/Field.jsx";
import { Resource } from "../../components/Status.jsx";
import { SEVERITIES, SEVERITY_LABELS, TYPE_LABELS, typeLabel } from "../../alarms.js";
import {
  conditionText,
  DURATION_HINT,
  fieldsFor,
  isInherited,
  newRuleBody,
  ruleChanges,
  ruleForm,
  scopeText,
  sortedRules,
  typesForKind,
} from "../../alarmRules.js";
import { DEVICE_KINDS } from "../../format.js";
import { query } from "../../api.js";
import { useAction, useResource } from "../../hooks.js";
import { useSession } from "../../session.jsx";
import { SeverityBadge } from "./SeverityBadge.jsx";
import "./alarms.css";

// A site page's choice of where a new rule applies.
function ScopeFields({ form, change, error, rooms }) {
  return (
    <div className="grid">
      <Field label="Applies to" name="scope" as="select" value={form.scope} onChange={change} error={error}>
        <option value="site">Every device of the site</option>
        <option value="kind">The site's devices of one kind</option>
        {rooms.length > 0 && <option value="room">The devices of one room</option>}
      </Field>
      {form.scope === "kind" && (
        <Field label="Kind" name="kind" as="select" required value={form.kind} onChange={change} error={error}>
          <option value="">Choose a kind</option>
          {Object.entries(DEVICE_KINDS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </Field>
      )}
      {form.scope === "room" && (
        <Field label="Room" name="room_id" as="select" required value={form.room_id} onChange={change} error={error}>
          <option value="">Choose a room</option>
          {rooms.map((room) => (
            <option key={room.id} value={room.id}>
              {room.name}
            </option>
          ))}
        </Field>
      )}
    </div>
  );
}

// A rule's fields: those its type takes (a threshold in its unit, a duration),
// its severity and whether it is on. A device's own limit keeps its name and
// threshold, which follow the device.
function RuleFields({ form, setForm, error, rule, types, rooms }) {
  const change = (event) => {
    const { name, type, checked, value } = event.target;
    setForm({ ...form, [name]: type === "checkbox" ? checked : value });
  };
  const fields = fieldsFor(form.type);
  const fixed = Boolean(rule?.device_limit);
  return (
    <>
      {!rule && rooms && <ScopeFields form={form} change={change} error={error} rooms={rooms} />}
      <div className="grid">
        <Field label="Name" name="name" required={!fixed} disabled={fixed} maxLength={200} value={form.name} onChange={change} error={error} />
        {rule ? (
          <Field label="Type" name="type" value={typeLabel(form.type)} readOnly error={error} hint="A rule keeps its type." />
        ) : (
          <Field label="Type" name="type" as="select" value={form.type} onChange={change} error={error}>
            {types.map((type) => (
              <option key={type} value={type}>
                {TYPE_LABELS[type]}
              </option>
            ))}
          </Field>
        )}
        <Field label="Severity" name="severity" as="select" value={form.severity} onChange={change} error={error}>
          {SEVERITIES.map((severity) => (
            <option key={severity} value={severity}>
              {SEVERITY_LABELS[severity]}
            </option>
          ))}
        </Field>
      </div>
      <div className="grid">
        {fields.threshold && (
          <NumberField
            label={fields.threshold.label}
            name="threshold"
            min="0"
            required={!fixed}
            disabled={fixed}
            value={form.threshold}
            onChange={change}
            error={error}
            hint={fixed ? "The device's hourly limit: change it with the device." : fields.threshold.hint}
          />
        )}
        {fields.duration && (
          <NumberField label="For at least (minutes)" name="duration_min" min="1" step="1" inputMode="numeric" required value={form.duration_min} onChange={change} error={error} hint={DURATION_HINT[form.type]} />
        )}
      </div>
      <label>
        <input type="checkbox" role="switch" name="enabled" checked={form.enabled} onChange={change} />
        On: raises alarms
      </label>
    </>
  );
}

function AddRule({ scope, types, rooms, onAdded }) {
  const { api } = useSession();
  const [form, setForm] = useState(() => ruleForm(null, { type: types[0] }));
  const add = useCallback(async () => {
    const rule = await api.post("/api/alarm-rules", newRuleBody(form, scope));
    setForm(ruleForm(null, { type: types[0] }));
    onAdded(rule);
  }, [api, form, scope, types, onAdded]);
  const { run, busy, error } = useAction(add);
  return (
    <details className="add-rule">
      <summary role="button" className="outline">
        Add an alarm rule
      </summary>
      <ActionForm run={run} aria-label="Add an alarm rule" className="rule-form">
        <RuleFields form={form} setForm={setForm} error={error} types={types} rooms={rooms} />
        <FormError error={error} />
        <SubmitButton busy={busy}>Add the rule</SubmitButton>
      </ActionForm>
    </details>
  );
}

function EditRule({ rule, onSaved, onCancel }) {
  const { api } = useSession();
  const heading = useRef(null);
  const [form, setForm] = useState(() => ruleForm(rule));
  const save = useCallback(async () => onSaved(await api.patch(`/api/alarm-rules/${rule.id}`, ruleChanges(form, rule))), [api, form, rule, onSaved]);
  const { run, busy, error } = useAction(save);
  useEffect(() => heading.current?.focus(), []);
  return (
    <ActionForm run={run} aria-label={`Edit the rule ${rule.name}`} className="rule-form">
      <h3 ref={heading} tabIndex={-1}>
        Edit the rule {rule.name}
      </h3>
      <RuleFields form={form} setForm={setForm} error={error} rule={rule} />
      <FormError error={error} />
      <div className="actions">
        <SubmitButton busy={busy}>Save</SubmitButton>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </ActionForm>
  );
}

function RuleRow({ rule, device, roomNames, columns, onChanged, onRemoved }) {
  const { api } = useSession();
  const [editing, setEditing] = useState(false);
  const editButton = useRef(null);
  const may = rule.permissions || {};
  const remove = useAction(
    useCallback(async () => {
      if (!window.confirm(`Delete the alarm rule ${rule.name}? Its alarms stay in the list.`)) return;
      await api.del(`/api/alarm-rules/${rule.id}`);
      onRemoved(rule);
    }, [api, rule, onRemoved]),
  );
  const stopEditing = () => {
    setEditing(false);
    setTimeout(() => editButton.current?.focus(), 0);
  };
  const inherited = device && isInherited(rule, device);
  return (
    <>
      <tr className={rule.enabled ? "rule-on" : "rule-off"} data-rule-id={rule.id} data-inherited={inherited ? "true" : undefined}>
        <td>
          {rule.name}
          {rule.device_limit && <span className="rule-tag">hourly limit</span>}
        </td>
        <td>
          {scopeText(rule, { device, roomNames })}
          {inherited && <span className="rule-tag">inherited</span>}
        </td>
        <td>{typeLabel(rule.type)}</td>
        <td>{conditionText(rule)}</td>
        <td>
          <SeverityBadge severity={rule.severity} />
        </td>
        <td>{rule.enabled ? "On" : "Off"}</td>
        <td>
          <div className="alarm-actions">
            {may.update && (
              <button type="button" className="outline" ref={editButton} aria-expanded={editing} aria-label={`Edit the rule ${rule.name}`} onClick={() => (editing ? stopEditing() : setEditing(true))}>
                Edit
              </button>
            )}
            {may.delete && !rule.device_limit && (
              <button type="button" className="secondary outline" aria-busy={remove.busy} aria-label={`Delete the rule ${rule.name}`} onClick={() => remove.run()}>
                Delete
              </button>
            )}
          </div>
          <FormError error={remove.error} />
        </td>
      </tr>
      {editing && (
        <tr className="rule-edit">
          <td colSpan={columns}>
            <EditRule
              rule={rule}
              onCancel={stopEditing}
              onSaved={(saved) => {
                onChanged(saved);
                stopEditing();
              }}
            />
          </td>
        </tr>
      )}
    </>
  );
}

const COLUMNS = ["Name", "Applies to", "Type", "Condition", "Severity", "State", "Actions"];

// The alarm rules of a device (`device`: those that apply to it, its own and
// those it inherits from its room, site and kind) or of a site (`site`, with its
// `rooms`), each editable and deletable as its `permissions` say; `canAdd`: the
// account may add rules here.
export function AlarmRules({ device = null, site = null, rooms = null, canAdd = false }) {
  const { api } = useSession();
  const headingId = useId();
  const scope = device ? { device_id: device.id } : { site_id: site.id };
  const path = `/api/alarm-rules${query(scope)}`;
  const rules = useResource((signal) => api.get(path, { signal }), [path]);
  const roomNames = Object.fromEntries((rooms || []).map((room) => [room.id, room.name]));
  const types = typesForKind(device?.kind);
  const replace = (saved) => rules.setData((list) => (list || []).map((one) => (one.id === saved.id ? saved : one)));
  const removed = (gone) => rules.setData((list) => (list || []).filter((one) => one.id !== gone.id));
  const added = (rule) => rules.setData((list) => [...(list || []).filter((one) => one.id !== rule.id), rule]);
  const name = device ? device.name : site.name;
  return (
    <section aria-labelledby={headingId} className="alarm-rules">
      <h2 id={headingId}>Alarm rules</h2>
      <p>
        {device ? "The rules that raise alarms for this device: its own, and those of its room, site and kind." : "The rules of this site, its rooms and its devices of a kind."}{" "}
        <Link to={`/alarms${query(device ? { device_id: device.id, status: "any" } : { site_id: site.id, status: "any" })}`}>Alarms of {name}</Link>
      </p>
      <Resource resource={rules} empty="No alarm rules." loadingLabel="Loading the alarm rules…">
        {(list) => (
          <DataTable caption={`Alarm rules of ${name}`} columns={COLUMNS} scrolls data-testid="alarm-rules">
            {sortedRules(list).map((rule) => (
              <RuleRow key={rule.id} rule={rule} device={device} roomNames={roomNames} columns={COLUMNS.length} onChanged={replace} onRemoved={removed} />
            ))}
          </DataTable>
        )}
      </Resource>
      {canAdd && <AddRule scope={scope} types={types} rooms={device ? null : rooms || []} onAdded={added} />}
    </section>
  );
}
