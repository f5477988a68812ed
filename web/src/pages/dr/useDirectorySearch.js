import { useEffect, useState } from "react";
import { directoryPath } from "../../dr.js";
import { useResource } from "../../hooks.js";
import { useSession } from "../../session.jsx";

// The people of the user directory whose name or e-mail address holds `text`,
// asked once typing pauses for `delay` ms; a newer question cancels an older
// one still on its way. `waiting`: what is shown is not the answer to `text` yet.
export function useDirectorySearch(text, delay = 300) {
  const { api } = useSession();
  const path = directoryPath(text);
  const [asked, setAsked] = useState(path);
  useEffect(() => {
    const timer = setTimeout(() => setAsked(path), delay);
    return () => clearTimeout(timer);
  }, [path, delay]);
  const found = useResource((signal) => (asked ? api.get(asked, { signal }) : Promise.resolve(null)), [asked]);
  return {
    asked: asked !== null,
    waiting: path !== asked || found.loading,
    people: (asked && found.data) || [],
    error: found.error,
  };
}
