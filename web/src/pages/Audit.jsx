import { useMemo, useState } from "react";
import { DataTable } from "../components/DataTable.jsx";
import { Field } from "../components/Field.jsx";
import { Resource } from "../components/Status.jsx";
import { query } from "../api.js";
import {
  ACTION_LABELS,
  actionLabel,
  actorLabel,
  AREA_LABELS,
  auditQuery,
  detailsText,
  filterError,
  OBJECT_TYPES,
  objectLabel,
} from "../audit.js";
import { dateTime } from "../format.js";
import { useResource } from "../hooks.js";
import { useSession } from "../session.jsx";
import "./Audit.css";

const BLANK = { actor: "", action: "", objectType: "", objectId: "", from: "", to: "" };

// The filters' form: nothing is asked until it is applied.
function Filters({ users, initial, error, onApply }) {
  const [form, setForm] = useState(initial);
  const change = (event) => setForm({ ...form, [event.target.name]: event.target.value });
  const fieldError = error?.status === 400 ? { field: (name) => filterError(error.details, name) } : null;
  return (
    <form
      aria-label="Filter the audit log"
      className="audit-filters"
      onSubmit={(event) => {
        event.preventDefault();
        onApply(form);
      }}
    >
      <div className="grid">
        <Field label="Actor" name="actor" as="select" value={form.actor} onChange={change} error={fieldError}>
          <option value="">Anyone</option>
          {users.map((user) => (
            <option key={user.id} value={user.id}>
              {user.name} ({user.email})
            </option>
          ))}
        </Field>
        <Field label="Action" name="action" as="select" value={form.action} onChange={change} error={fieldError}>
          <option value="">Any action</option>
          <optgroup label="Areas">
            {Object.entries(AREA_LABELS).map(([prefix, label]) => (
              <option key={prefix} value={prefix}>
                {label}
              </option>
            ))}
          </optgroup>
          <optgroup label="Actions">
            {Object.entries(ACTION_LABELS).map(([action, label]) => (
              <option key={action} value={action}>
                {label}
              </option>
            ))}
          </optgroup>
        </Field>
      </div>
      <div className="grid">
        <Field label="Object" name="objectType" as="select" value={form.objectType} onChange={change} error={fieldError}>
          <option value="">Any object</option>
          {Object.entries(OBJECT_TYPES).map(([type, label]) => (
            <option key={type} value={type}>
              {label}
            </option>
          ))}
        </Field>
        <Field
          label="Object id"
          name="objectId"
          maxLength={64}
          autoComplete="off"
          value={form.objectId}
          onChange={change}
          error={fieldError}
        />
      </div>
      <div className="grid">
        <Field label="From (UTC day)" name="from" type="date" value={form.from} onChange={change} error={fieldError} />
        <Field label="To (UTC day, included)" name="to" type="date" value={form.to} onChange={change} error={fieldError} />
      </div>
      <div className="actions">
        <button type="submit">Apply filters</button>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            setForm(BLANK);
            onApply(BLANK);
          }}
        >
          Clear
        </button>
      </div>
    </form>
  );
}

function Record({ record, names }) {
  return (
    <tr data-record-id={record.id} data-action={record.action}>
      <td className="when">{dateTime(record.at)}</td>
      <td>{actorLabel(record.actor, names)}</td>
      <td>
        {actionLabel(record.action)}
        <small className="code">{record.action}</small>
      </td>
      <td className="object">{objectLabel(record.object, names)}</td>
      <td className="details">{detailsText(record.details)}</td>
      <td className="client">{record.client || "–"}</td>
    </tr>
  );
}

// ADMIN's audit log: what was done on the platform, by whom, when and from where,
// newest first, a page at a time.
export default function Audit() {
  const { api } = useSession();
  const [filters, setFilters] = useState(BLANK);
  // The cursors of the pages before this one; the last is this page's.
  const [cursors, setCursors] = useState([null]);
  const cursor = cursors[cursors.length - 1];
  const users = useResource((signal) => api.get("/api/users", { signal }), []);
  const names = useMemo(() => Object.fromEntries((users.data || []).map((u) => [u.id, u.name])), [users.data]);
  const page = useResource(
    (signal) => api.get(`/api/audit${query(auditQuery(filters, cursor))}`, { signal }),
    [filters, cursor],
  );
  const first = cursors.length === 1;
  return (
    <section className="audit">
      <h1>Audit log</h1>
      <p>
        Role changes, deletions, device commands, credential rotations, demand-response events, settlements and alarm
        acknowledgements: who did what, when and from which address. Records are never changed nor deleted.
      </p>
      <Filters
        users={users.data || []}
        initial={filters}
        error={page.error}
        onApply={(applied) => {
          setFilters({ ...applied });
          setCursors([null]);
        }}
      />
      <Resource
        resource={page}
        isEmpty={(data) => data.records.length === 0}
        empty={first ? "Nothing recorded matches these filters." : "No older records."}
        loadingLabel="Loading the audit log…"
      >
        {(data) => (
          <DataTable
            caption={`Audit records, newest first${first ? "" : ` (page ${cursors.length})`}`}
            columns={["When", "Who", "Action", "Object", "Details", "From"]}
            className="data audit-records"
            data-testid="audit-records"
            scrolls
          >
            {data.records.map((record) => (
              <Record key={record.id} record={record} names={names} />
            ))}
          </DataTable>
        )}
      </Resource>
      <nav aria-label="Audit log pages" className="actions">
        <button type="button" className="secondary" disabled={first} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous page
        </button>
        <button
          type="button"
          disabled={!page.data?.next || page.loading}
          onClick={() => setCursors([...cursors, page.data.next])}
        >
          Next page
        </button>
      </nav>
    </section>
  );
}
