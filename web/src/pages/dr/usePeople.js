import { useMemo } from "react";
import { useResource } from "../../hooks.js";
import { useSession } from "../../session.jsx";

// Who the staff can name: an ADMIN lists the users; an OPERATOR knows only the
// owners of devices (user ids).
export function usePeople(isAdmin) {
  const { api } = useSession();
  const source = useResource(
    (signal) => api.get(isAdmin ? "/api/users" : "/api/devices", { signal }),
    [isAdmin],
  );
  return useMemo(() => {
    const list = source.data || [];
    if (isAdmin) {
      const people = list.map((u) => ({ id: u.id, label: u.name, detail: `${u.email} · ${u.role}` }));
      return { people, directory: Object.fromEntries(people.map((p) => [p.id, p])), error: source.error };
    }
    const owners = new Map();
    for (const device of list) {
      if (!owners.has(device.user_id)) owners.set(device.user_id, []);
      owners.get(device.user_id).push(device.name);
    }
    const people = [...owners].map(([id, devices]) => ({
      id,
      label: `User ${id.slice(0, 8)}…`,
      detail: `${devices.length === 1 ? "device" : "devices"}: ${devices.join(", ")}`,
    }));
    return { people, directory: Object.fromEntries(people.map((p) => [p.id, p])), error: source.error };
  }, [source.data, source.error, isAdmin]);
}
