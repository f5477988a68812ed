import { useCallback, useState } from "react";
import { Field, FormError } from "../components/Field.jsx";
import { Resource } from "../components/Status.jsx";
import { dateTime } from "../format.js";
import { useAction, useResource } from "../hooks.js";
import { can } from "../permissions.js";
import { useSession } from "../session.jsx";
import "./AdminUsers.css";

const ROLES = ["USER", "VIEWER", "OPERATOR", "ADMIN"];
const ROLE_LABELS = { USER: "User", VIEWER: "Viewer", OPERATOR: "Operator", ADMIN: "Administrator" };
const BLANK = { name: "", email: "", password: "", role: "USER" };

// The error of a user form, with a taken e-mail address (409) on its field.
function formError(error) {
  if (!error || error.status !== 409) return error;
  return { ...error, message: error.message, details: { email: [error.message] }, field: (name) => (name === "email" ? error.message : null) };
}

function RoleOptions() {
  return ROLES.map((role) => (
    <option key={role} value={role}>
      {ROLE_LABELS[role]}
    </option>
  ));
}

function AddUser({ onAdded }) {
  const { api } = useSession();
  const [form, setForm] = useState(BLANK);
  const [added, setAdded] = useState(null);
  const change = (event) => setForm({ ...form, [event.target.name]: event.target.value });
  const add = useCallback(async () => {
    const user = await api.post("/api/users", { ...form, name: form.name.trim(), email: form.email.trim() });
    setForm(BLANK);
    setAdded(user);
    onAdded(user);
  }, [api, form, onAdded]);
  const { run, busy, error } = useAction(add);
  const shown = formError(error);
  return (
    <details className="add-user">
      <summary role="button" className="outline">
        Add a user
      </summary>
      <form
        aria-label="Add a user"
        onSubmit={(event) => {
          event.preventDefault();
          setAdded(null);
          run();
        }}
      >
        <div className="grid">
          <Field label="Name" name="name" required maxLength={200} autoComplete="off" value={form.name} onChange={change} error={shown} />
          <Field
            label="Email"
            name="email"
            type="email"
            required
            maxLength={254}
            autoComplete="off"
            value={form.email}
            onChange={change}
            error={shown}
          />
        </div>
        <div className="grid">
          <Field
            label="Password"
            name="password"
            type="password"
            required
            minLength={8}
            maxLength={256}
            autoComplete="new-password"
            value={form.password}
            onChange={change}
            error={shown}
            hint="At least 8 characters. Tell the user; they sign in with it."
          />
          <Field label="Role" name="role" as="select" value={form.role} onChange={change} error={shown}>
            <RoleOptions />
          </Field>
        </div>
        <FormError error={shown} />
        <div className="actions">
          <button type="submit" disabled={busy} aria-busy={busy}>
            Add user
          </button>
          {added && !error && (
            <span role="status" className="saved">
              Added {added.name}.
            </span>
          )}
        </div>
      </form>
    </details>
  );
}

function EditUser({ user, isSelf, onSaved, onCancel }) {
  const { api } = useSession();
  const [form, setForm] = useState({ name: user.name, email: user.email, password: "" });
  const change = (event) => setForm({ ...form, [event.target.name]: event.target.value });
  const save = useCallback(async () => {
    const changes = {};
    if (form.name.trim() !== user.name) changes.name = form.name.trim();
    if (form.email.trim().toLowerCase() !== user.email) changes.email = form.email.trim();
    if (form.password) changes.password = form.password;
    if (Object.keys(changes).length === 0) {
      onCancel();
      return;
    }
    onSaved(await api.patch(`/api/users/${user.id}`, changes));
  }, [api, form, user, onSaved, onCancel]);
  const { run, busy, error } = useAction(save);
  const shown = formError(error);
  return (
    <form
      aria-label={`Edit ${user.name}`}
      className="edit-user"
      onSubmit={(event) => {
        event.preventDefault();
        run();
      }}
    >
      <div className="grid">
        <Field label="Name" name="name" required maxLength={200} value={form.name} onChange={change} error={shown} />
        <Field label="Email" name="email" type="email" required maxLength={254} value={form.email} onChange={change} error={shown} />
        <Field
          label="New password"
          name="password"
          type="password"
          minLength={8}
          maxLength={256}
          autoComplete="new-password"
          value={form.password}
          onChange={change}
          error={shown}
          hint={isSelf ? "Empty: keep your password." : "Empty: keep the current one."}
        />
      </div>
      <FormError error={shown} />
      <div className="actions">
        <button type="submit" disabled={busy} aria-busy={busy}>
          Save
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

// A user as a row of the table, to read only: for an account that may list users
// and change none (VIEWER).
function ReadOnlyRow({ user, isSelf }) {
  return (
    <tr data-user-id={user.id}>
      <th scope="row">
        {user.name}
        {isSelf && <small className="you"> (you)</small>}
        <small className="email">{user.email}</small>
      </th>
      <td>{ROLE_LABELS[user.role] || user.role}</td>
      <td />
      <td className="created">{dateTime(user.created_at)}</td>
    </tr>
  );
}

function UserRow({ user, isSelf, onChanged, onDeleted }) {
  const { api } = useSession();
  const [editing, setEditing] = useState(false);
  const [saved, setSaved] = useState(null);
  const [pending, setPending] = useState(null); // the role being saved

  const changeRole = useCallback(
    async (role) => {
      setSaved(null);
      setPending(role);
      const updated = await api.patch(`/api/users/${user.id}`, { role });
      onChanged(updated);
      setSaved(`Role of ${updated.name} is now ${ROLE_LABELS[updated.role]}.`);
    },
    [api, user.id, onChanged],
  );
  const role = useAction(changeRole);

  const remove = useCallback(async () => {
    const ok = window.confirm(
      `Delete ${user.name} (${user.email})?\n\nThis deletes everything they own: their devices and readings, ` +
        "notifications, batteries, demand-response invitations, trading orders and support conversation. " +
        "They are signed out at once. This cannot be undone.",
    );
    if (!ok) return;
    await api.del(`/api/users/${user.id}`);
    onDeleted(user);
  }, [api, user, onDeleted]);
  const removal = useAction(remove);

  if (editing) {
    return (
      <tr className="editing">
        <td colSpan={4}>
          <EditUser
            user={user}
            isSelf={isSelf}
            onCancel={() => setEditing(false)}
            onSaved={(updated) => {
              setEditing(false);
              onChanged(updated);
            }}
          />
        </td>
      </tr>
    );
  }

  const roleError = role.error && role.error.status === 400 ? role.error : null;
  return (
    <tr data-user-id={user.id}>
      <th scope="row">
        {user.name}
        {isSelf && <small className="you"> (you)</small>}
        <small className="email">{user.email}</small>
      </th>
      <td>
        <Field
          label={<span className="visually-hidden">Role of {user.name}</span>}
          name="role"
          as="select"
          value={role.busy && pending ? pending : user.role}
          disabled={isSelf || role.busy}
          aria-busy={role.busy}
          onChange={(event) => role.run(event.target.value)}
          error={roleError}
          hint={isSelf ? "You cannot change your own role." : undefined}
        >
          <RoleOptions />
        </Field>
        {role.error && !roleError && (
          <p role="alert" className="field-error">
            {role.error.message}
          </p>
        )}
        {saved && !role.error && (
          <small role="status" className="saved">
            {saved}
          </small>
        )}
      </td>
      <td>
        <div className="actions">
          <button type="button" className="outline" onClick={() => setEditing(true)} aria-label={`Edit ${user.name}`}>
            Edit
          </button>
          {!isSelf && (
            <button
              type="button"
              className="outline danger"
              onClick={removal.run}
              disabled={removal.busy}
              aria-busy={removal.busy}
              aria-label={`Delete ${user.name}`}
            >
              Delete
            </button>
          )}
        </div>
        {removal.error && (
          <p role="alert" className="field-error">
            {removal.error.message}
          </p>
        )}
      </td>
      <td className="created">{dateTime(user.created_at)}</td>
    </tr>
  );
}

export default function AdminUsers() {
  const { api, user: me } = useSession();
  const manage = can(me, "users.manage_users");
  const users = useResource((signal) => api.get("/api/users", { signal }), []);
  const replace = useCallback(
    (updated) => users.setData((list) => list.map((u) => (u.id === updated.id ? updated : u))),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [],
  );
  const removeRow = useCallback(
    (gone) => users.setData((list) => list.filter((u) => u.id !== gone.id)),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [],
  );
  const added = useCallback(
    (created) => users.setData((list) => [...(list || []), created]),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [],
  );
  return (
    <section className="admin-users">
      <h1>Users</h1>
      {manage ? (
        <p>
          Every account on the platform. Changing a role saves at once and signs that user out everywhere. Deleting a
          user deletes everything they own.
        </p>
      ) : (
        <p>Every account on the platform, to read: your role changes none.</p>
      )}
      {manage && <AddUser onAdded={added} />}
      <Resource resource={users} empty="No users yet." loadingLabel="Loading users…">
        {(list) => (
          <div className="table-wrap">
            <table className="data users" data-testid="users">
              <caption className="visually-hidden">Users, oldest first</caption>
              <thead>
                <tr>
                  <th scope="col">Name and email</th>
                  <th scope="col">Role</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {list.map((user) =>
                  manage ? (
                    <UserRow key={user.id} user={user} isSelf={user.id === me.id} onChanged={replace} onDeleted={removeRow} />
                  ) : (
                    <ReadOnlyRow key={user.id} user={user} isSelf={user.id === me.id} />
                  ),
                )}
              </tbody>
            </table>
          </div>
        )}
      </Resource>
    </section>
  );
}
