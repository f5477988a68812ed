import { useMemo } from "react";
import { useResource } from "../../hooks.js";
import { useSession } from "../../session.jsx";

// Who the staff can name: the user directory (OPERATOR and ADMIN), as many as it
// answers with at once.
const DIRECTORY_LIMIT = 1000;

export function usePeople() {
  const { api } = useSession();
  const source = useResource((signal) => api.get(`/api/users/directory?limit=${DIRECTORY_LIMIT}`, { signal }), []);
  return useMemo(() => {
    const people = (source.data || []).map((u) => ({ id: u.id, label: u.name, detail: `${u.email} · ${u.role}` }));
    return { people, directory: Object.fromEntries(people.map((p) => [p.id, p])), error: source.error };
  }, [source.data, source.error]);
}
