import { useMemo } from "react";
import { applyState } from "../batteries.js";
import { Resource } from "../components/Status.jsx";
import { useInterval, useResource } from "../hooks.js";
import { can } from "../permissions.js";
import { BATTERY_STATE } from "../pushes.generated.js";
import { useLive, useSession } from "../session.jsx";
import { AddBattery } from "./batteries/AddBattery.jsx";
import { BatteryCard } from "./batteries/BatteryCard.jsx";
import { Schedule } from "./batteries/Schedule.jsx";
import "./Batteries.css";

// The card's commands and its Delete button, for a caller the server lets do both.
function canWrite(battery) {
  return battery.permissions.command && battery.permissions.delete;
}

export default function Batteries() {
  const { api, user, liveStatus } = useSession();
  const batteries = useResource((signal) => api.get("/api/batteries", { signal }), [liveStatus === "open"]);
  const devices = useResource((signal) => api.get("/api/devices", { signal }), []);

  useLive(BATTERY_STATE, (message) => {
    batteries.setData((list) => applyState(list, message.data, message.ts));
  });

  // A charging or discharging battery moves between pushes: its charge is worked
  // out by the server when asked.
  const active = (batteries.data || []).some((b) => b.mode !== "idle");
  useInterval(() => batteries.reload({ quiet: true }), 30000, active);

  const names = useMemo(() => {
    const byDevice = Object.fromEntries((devices.data || []).map((d) => [d.id, d.name]));
    return Object.fromEntries(
      (batteries.data || []).map((b) => [b.id, byDevice[b.device_id] || `Battery ${b.id.slice(0, 8)}`]),
    );
  }, [devices.data, batteries.data]);

  const replace = (saved) => batteries.setData((list) => list.map((b) => (b.id === saved.id ? saved : b)));
  const remove = (gone) => batteries.setData((list) => list.filter((b) => b.id !== gone.id));
  const added = (battery) => batteries.setData((list) => [...(list || []), battery]);

  return (
    <section className="batteries-page">
      <h1>Batteries</h1>
      {can(user, "batteries.create") && batteries.data && devices.data && (
        <AddBattery devices={devices.data} batteries={batteries.data} onAdded={added} />
      )}
      <section aria-labelledby="batteries-heading">
        <h2 id="batteries-heading">{can(user, "batteries.read_all") ? "All batteries" : "Your batteries"}</h2>
        <Resource
          resource={batteries}
          empty="No batteries yet. Add one on a device of kind “Battery”."
          loadingLabel="Loading batteries…"
        >
          {(list) => (
            <ul className="battery-list" aria-label="Batteries">
              {list.map((battery) => (
                <BatteryCard
                  key={battery.id}
                  battery={battery}
                  name={names[battery.id]}
                  writable={canWrite(battery)}
                  onChanged={replace}
                  onDeleted={remove}
                />
              ))}
            </ul>
          )}
        </Resource>
      </section>
      {batteries.data?.length > 0 && (
        <Schedule batteries={batteries.data} devices={devices.data || []} names={names} />
      )}
    </section>
  );
}
