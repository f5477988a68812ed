import { watts } from "../../devices.js";
import { utcDateTime } from "../../format.js";
import "./devices.css";

// Whether a device is online, when it was last heard from and the power it last
// reported (`GET /api/devices/status`, moved by `device.status`).
export function DeviceStatus({ status, name }) {
  if (!status) return null;
  const online = Boolean(status.online);
  return (
    <span className="device-status" data-testid="device-status" data-online={String(online)} aria-label={`${name}: ${online ? "online" : "offline"}`}>
      <span className={`status-badge ${online ? "status-online" : "status-offline"}`}>{online ? "Online" : "Offline"}</span>
      <span>
        last seen {status.last_seen ? <time dateTime={status.last_seen}>{utcDateTime(status.last_seen)}</time> : "never"}
      </span>
      <span data-testid="device-power">{watts(status.power_w)}</span>
    </span>
  );
}
