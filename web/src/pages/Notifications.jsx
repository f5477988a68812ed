import { Link } from "react-router-dom";
import { Resource } from "../components/Status.jsx";
import { describeNotification } from "../describe.js";
import { dateTime } from "../format.js";
import { useDeviceNames, useResource } from "../hooks.js";
import { useLive, useSession } from "../session.jsx";
import { DEVICE_STATUS, OVERCONSUMPTION } from "../pushes.generated.js";

// A live overconsumption message as a row of the list (it has no id or creation
// time of its own: the device-hour and reason identify it).
function fromLive(message) {
  const data = message.data;
  return { ...data, id: `live-${data.device_id}-${data.hour}-${data.reason}`, created_at: message.ts, live: true };
}

// A live device.status message as the row of its stored notification.
function fromStatus(message) {
  const data = message.data;
  const reason = data.online ? "online" : "offline";
  return { device_id: data.device_id, reason, last_seen: data.last_seen, id: `live-${data.device_id}-${reason}-${data.since}`, created_at: message.ts, live: true };
}

export default function Notifications() {
  const { api, liveStatus } = useSession();
  const notifications = useResource(
    (signal) => api.get("/api/notifications?limit=100", { signal }),
    [liveStatus === "open"],
  );
  const { names } = useDeviceNames(api);

  useLive(OVERCONSUMPTION, (message) => {
    notifications.setData((list) => {
      const row = fromLive(message);
      const seen = (list || []).some(
        (n) => n.device_id === row.device_id && n.hour === row.hour && n.reason === row.reason,
      );
      return seen ? list : [row, ...(list || [])];
    });
  });
  useLive(DEVICE_STATUS, (message) => {
    notifications.setData((list) => [fromStatus(message), ...(list || [])]);
  });

  return (
    <section>
      <h1>Notifications</h1>
      <p>
        New ones appear here as they happen
        {liveStatus !== "open" && <strong> (live updates are reconnecting; the list is reloaded when they are back)</strong>}.
      </p>
      <Resource resource={notifications} empty="No notifications. None of your devices has gone over its limit or offline." loadingLabel="Loading notifications…">
        {(list) => (
          <ol className="notifications" aria-label="Notifications, newest first" data-testid="notifications">
            {list.map((n) => (
              <li key={n.id} className={n.live ? "notification live" : "notification"} data-reason={n.reason}>
                <p>{describeNotification(n, names[n.device_id])}</p>
                <small>
                  <time dateTime={n.created_at}>{dateTime(n.created_at)}</time> ·{" "}
                  <Link to={`/devices/${n.device_id}`}>see the device</Link>
                </small>
              </li>
            ))}
          </ol>
        )}
      </Resource>
    </section>
  );
}
