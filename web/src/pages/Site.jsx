import { useCallback, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { DataTable } from "../components/DataTable.jsx";
import { Fact } from "../components/Fact.jsx";
import { Field, FormError } from "../components/Field.jsx";
import { Resource } from "../components/Status.jsx";
import { DEVICE_KINDS } from "../format.js";
import { saveFile } from "../api.js";
import { useAction, useResource } from "../hooks.js";
import { describeTariff, SITE_ROLES, siteBody, siteForm } from "../sites.js";
import { useSession } from "../session.jsx";
import { AlarmRules } from "./alarms/AlarmRules.jsx";
import { SiteFields } from "./sites/SiteFields.jsx";

function EditSite({ site, onSaved, onCancel }) {
  const { api } = useSession();
  const [form, setForm] = useState(siteForm(site));
  const save = useCallback(async () => onSaved(await api.patch(`/api/sites/${site.id}`, siteBody(form))), [api, form, site.id, onSaved]);
  const { run, busy, error } = useAction(save);
  return (
    <form
      aria-label={`Edit ${site.name}`}
      onSubmit={(event) => {
        event.preventDefault();
        run();
      }}
    >
      <SiteFields form={form} setForm={setForm} error={error} />
      <FormError error={error} />
      <div className="actions">
        <button type="submit" aria-busy={busy} disabled={busy}>
          Save
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

// The month before the current one, as YYYY-MM.
function lastMonth(now = new Date()) {
  const date = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return date.toISOString().slice(0, 7);
}

function MonthlyReport({ site }) {
  const { api } = useSession();
  const [month, setMonth] = useState(lastMonth());
  const download = useAction(
    useCallback(async () => saveFile(await api.download(`/api/sites/${site.id}/report.pdf?month=${month}`)), [api, month, site.id]),
  );
  return (
    <form
      className="inline-form"
      aria-label="Monthly report"
      onSubmit={(event) => {
        event.preventDefault();
        download.run();
      }}
    >
      <Field label="Month" name="month" type="month" required value={month} onChange={(event) => setMonth(event.target.value)} error={download.error} />
      <button type="submit" className="outline" aria-busy={download.busy} disabled={download.busy}>
        Download the report (PDF)
      </button>
      <FormError error={download.error} />
    </form>
  );
}

function Details({ site, onChanged }) {
  const { api } = useSession();
  const navigate = useNavigate();
  const [editing, setEditing] = useState(false);
  const may = site.permissions || {};
  const remove = useCallback(async () => {
    if (!window.confirm(`Delete ${site.name}? Its rooms and devices, and their readings, go with it.`)) return;
    await api.del(`/api/sites/${site.id}`);
    navigate("/sites");
  }, [api, navigate, site]);
  const removing = useAction(remove);
  if (editing) {
    return (
      <EditSite
        site={site}
        onCancel={() => setEditing(false)}
        onSaved={(saved) => {
          setEditing(false);
          onChanged(saved);
        }}
      />
    );
  }
  return (
    <>
      <dl className="facts">
        <Fact term="Address">{site.address || "–"}</Fact>
        <Fact term="Location">{site.latitude === null || site.latitude === undefined ? "–" : `${site.latitude}, ${site.longitude}`}</Fact>
        <Fact term="Time zone">{site.timezone}</Fact>
        <Fact term="Tariff">{describeTariff(site.tariff)}</Fact>
        <Fact term="Grid CO2">{site.co2_kg_per_kwh} kg/kWh</Fact>
      </dl>
      <div className="actions">
        <Link to={`/analytics?site=${site.id}`}>
          Energy of {site.name}
        </Link>
        {may.update_site && (
          <button type="button" onClick={() => setEditing(true)}>
            Edit {site.name}
          </button>
        )}
        {may.delete_site && (
          <button type="button" className="secondary" aria-busy={removing.busy} onClick={() => removing.run()}>
            Delete {site.name}
          </button>
        )}
      </div>
      <FormError error={removing.error} />
      <MonthlyReport site={site} />
    </>
  );
}

function RoomRow({ room, editable, onChanged }) {
  const { api } = useSession();
  const [name, setName] = useState(room.name);
  const rename = useAction(useCallback(async () => onChanged(await api.patch(`/api/rooms/${room.id}`, { name: name.trim() })), [api, name, room.id, onChanged]));
  const remove = useAction(
    useCallback(async () => {
      if (!window.confirm(`Delete the room ${room.name}? Its devices stay on the site.`)) return;
      await api.del(`/api/rooms/${room.id}`);
      onChanged(null);
    }, [api, room, onChanged]),
  );
  if (!editable) return <li>{room.name}</li>;
  return (
    <li>
      <form
        className="inline-form"
        aria-label={`Room ${room.name}`}
        onSubmit={(event) => {
          event.preventDefault();
          rename.run();
        }}
      >
        <Field label={`Name of room ${room.name}`} name="name" required maxLength={200} value={name} onChange={(event) => setName(event.target.value)} error={rename.error} />
        <button type="submit" className="outline" aria-busy={rename.busy}>
          Rename
        </button>
        <button type="button" className="secondary outline" onClick={() => remove.run()}>
          Delete room {room.name}
        </button>
      </form>
      <FormError error={remove.error} />
    </li>
  );
}

function Rooms({ site, rooms }) {
  const { api } = useSession();
  const editable = Boolean(site.permissions?.manage_rooms);
  const [name, setName] = useState("");
  const add = useAction(
    useCallback(async () => {
      await api.post(`/api/sites/${site.id}/rooms`, { name: name.trim() });
      setName("");
      rooms.reload({ quiet: true });
    }, [api, name, rooms, site.id]),
  );
  return (
    <section aria-labelledby="rooms-title">
      <h2 id="rooms-title">Rooms</h2>
      <Resource resource={rooms} empty="No rooms: devices belong to the site as a whole.">
        {(list) => (
          <ul className="rooms" data-testid="rooms">
            {list.map((room) => (
              <RoomRow key={room.id} room={room} editable={editable} onChanged={() => rooms.reload({ quiet: true })} />
            ))}
          </ul>
        )}
      </Resource>
      {editable && (
        <form
          className="inline-form"
          aria-label="Add a room"
          onSubmit={(event) => {
            event.preventDefault();
            add.run();
          }}
        >
          <Field label="New room" name="name" required maxLength={200} value={name} onChange={(event) => setName(event.target.value)} error={add.error} />
          <button type="submit" aria-busy={add.busy} disabled={add.busy}>
            Add room
          </button>
        </form>
      )}
    </section>
  );
}

function DeviceRoom({ device, rooms, editable, onMoved }) {
  const { api } = useSession();
  const move = useAction(
    useCallback(async (roomId) => onMoved(await api.patch(`/api/devices/${device.id}`, { room_id: roomId || null })), [api, device.id, onMoved]),
  );
  const current = rooms.find((room) => room.id === device.room_id);
  if (!editable) return current?.name || "–";
  return (
    <>
      <select aria-label={`Room of ${device.name}`} value={device.room_id || ""} disabled={move.busy} onChange={(event) => move.run(event.target.value)}>
        <option value="">No room</option>
        {rooms.map((room) => (
          <option key={room.id} value={room.id}>
            {room.name}
          </option>
        ))}
      </select>
      <FormError error={move.error} />
    </>
  );
}

function Devices({ site, rooms }) {
  const { api } = useSession();
  const devices = useResource((signal) => api.get(`/api/devices?site_id=${site.id}`, { signal }), [site.id]);
  return (
    <section aria-labelledby="site-devices-title">
      <h2 id="site-devices-title">Devices</h2>
      <Resource resource={devices} empty="No devices on this site yet.">
        {(list) => (
          <DataTable caption={`Devices of ${site.name}`} columns={["Device", "Kind", "Room"]} data-testid="site-devices">
            {list.map((device) => (
              <tr key={device.id}>
                <td>
                  <Link to={`/devices/${device.id}`}>{device.name}</Link>
                </td>
                <td>{DEVICE_KINDS[device.kind] || device.kind}</td>
                <td>
                  <DeviceRoom
                    device={device}
                    rooms={rooms.data || []}
                    editable={Boolean(device.permissions?.update)}
                    onMoved={(moved) => devices.setData((all) => all.map((one) => (one.id === moved.id ? moved : one)))}
                  />
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </Resource>
    </section>
  );
}

function MemberRow({ site, member, manage, onChanged }) {
  const { api } = useSession();
  const setRole = useAction(useCallback(async (role) => onChanged(await api.put(`/api/sites/${site.id}/members/${member.user_id}`, { role })), [api, member.user_id, site.id, onChanged]));
  const remove = useAction(
    useCallback(async () => {
      if (!window.confirm(`Remove ${member.name} from ${site.name}?`)) return;
      await api.del(`/api/sites/${site.id}/members/${member.user_id}`);
      onChanged(null);
    }, [api, member, site, onChanged]),
  );
  return (
    <tr>
      <td>{member.name}</td>
      <td>{member.email}</td>
      <td>
        {manage ? (
          <select aria-label={`Role of ${member.name}`} value={member.role} disabled={setRole.busy} onChange={(event) => setRole.run(event.target.value)}>
            {Object.entries(SITE_ROLES).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        ) : (
          SITE_ROLES[member.role]
        )}
        <FormError error={setRole.error || remove.error} />
      </td>
      {manage && (
        <td>
          <button type="button" className="secondary outline" onClick={() => remove.run()}>
            Remove {member.name}
          </button>
        </td>
      )}
    </tr>
  );
}

function Members({ site }) {
  const { api } = useSession();
  const members = useResource((signal) => api.get(`/api/sites/${site.id}/members`, { signal }), [site.id]);
  const manage = Boolean(site.permissions?.manage_members);
  const [form, setForm] = useState({ email: "", role: "viewer" });
  const add = useAction(
    useCallback(async () => {
      await api.post(`/api/sites/${site.id}/members`, { email: form.email.trim(), role: form.role });
      setForm({ email: "", role: "viewer" });
      members.reload({ quiet: true });
    }, [api, form, members, site.id]),
  );
  return (
    <section aria-labelledby="members-title">
      <h2 id="members-title">People</h2>
      <Resource resource={members} empty="Nobody.">
        {(list) => (
          <DataTable caption={`People of ${site.name}`} columns={manage ? ["Name", "E-mail", "Role", ""] : ["Name", "E-mail", "Role"]} data-testid="members">
            {list.map((member) => (
              <MemberRow key={member.user_id} site={site} member={member} manage={manage} onChanged={() => members.reload({ quiet: true })} />
            ))}
          </DataTable>
        )}
      </Resource>
      {manage && (
        <form
          className="inline-form"
          aria-label="Add a person"
          onSubmit={(event) => {
            event.preventDefault();
            add.run();
          }}
        >
          <Field label="E-mail" name="email" type="email" required value={form.email} onChange={(event) => setForm({ ...form, email: event.target.value })} error={add.error} />
          <Field label="Role" name="role" as="select" value={form.role} onChange={(event) => setForm({ ...form, role: event.target.value })} error={add.error}>
            {Object.entries(SITE_ROLES).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </Field>
          <button type="submit" aria-busy={add.busy} disabled={add.busy}>
            Add person
          </button>
          <FormError error={add.error} />
        </form>
      )}
    </section>
  );
}

export default function Site() {
  const { siteId } = useParams();
  const { api } = useSession();
  const site = useResource((signal) => api.get(`/api/sites/${siteId}`, { signal }), [siteId]);
  const rooms = useResource((signal) => api.get(`/api/sites/${siteId}/rooms`, { signal }), [siteId]);
  return (
    <Resource resource={site} loadingLabel="Loading the site…">
      {(data) => (
        <section>
          <p>
            <Link to="/sites">All sites</Link>
          </p>
          <h1>{data.name}</h1>
          <Details site={data} onChanged={(saved) => site.setData(() => saved)} />
          <Rooms site={data} rooms={rooms} />
          <Devices site={data} rooms={rooms} />
          <AlarmRules site={data} rooms={rooms.data || []} canAdd={Boolean(data.permissions?.update_site)} />
          <Members site={data} />
        </section>
      )}
    </Resource>
  );
}
