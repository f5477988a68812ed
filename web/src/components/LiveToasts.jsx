import { useCallback, useRef, useState } from "react";
import { useLocation } from "react-router-dom";
import { describeMessage } from "../describe.js";
import { useDeviceNames } from "../hooks.js";
import { can } from "../permissions.js";
import { useLive, useSession } from "../session.jsx";
import { CHAT_MESSAGE, DEVICE_STATUS, OVERCONSUMPTION, SUPPORT_ALERT } from "../pushes.generated.js";

// Messages about a device, named after it.
const ABOUT_A_DEVICE = [OVERCONSUMPTION, DEVICE_STATUS];

const SHOWN_MS = 12000;
const MAX_SHOWN = 4;

// Live messages as they arrive, in a polite live region: screen readers read them
// without moving focus. A chat reply is not repeated while the chat is open.
export default function LiveToasts() {
  const [toasts, setToasts] = useState([]);
  const location = useLocation();
  const { user, api } = useSession();
  const next = useRef(0);
  // Device names, so that a warning says which device; asked again for a device
  // added since.
  const devices = useDeviceNames(api);
  const names = devices.names;
  const onSupportPage = location.pathname.startsWith("/support") || location.pathname.startsWith("/admin/support");

  const dismiss = useCallback((id) => setToasts((shown) => shown.filter((t) => t.id !== id)), []);

  useLive("*", async (message) => {
    // Staff with the inbox receive every conversation's messages; it shows them.
    const staff = can(user, "support.read_inbox");
    if (message.type === CHAT_MESSAGE && (onSupportPage || staff)) return;
    if (message.type === SUPPORT_ALERT && onSupportPage) return;
    if (message.type === OVERCONSUMPTION && location.pathname === "/notifications") return;
    let known = names;
    const deviceId = ABOUT_A_DEVICE.includes(message.type) ? message.data?.device_id : null;
    if (deviceId && !known[deviceId]) {
      try {
        const device = await api.get(`/api/devices/${deviceId}`);
        known = { ...known, [device.id]: device.name };
        devices.reload({ quiet: true });
      } catch {
        // Named "a device" then.
      }
    }
    const text = describeMessage(message, known);
    if (!text) return;
    const id = ++next.current;
    setToasts((shown) => [...shown.slice(-(MAX_SHOWN - 1)), { id, type: message.type, text }]);
    setTimeout(() => dismiss(id), SHOWN_MS);
  });

  return (
    <div className="toasts" role="log" aria-live="polite" aria-label="Live notifications">
      {toasts.map((toast) => (
        <article key={toast.id} className={`toast toast-${toast.type.replace(".", "-")}`} data-type={toast.type}>
          <p>{toast.text}</p>
          <button type="button" className="close-toast" aria-label="Dismiss" onClick={() => dismiss(toast.id)}>
            ×
          </button>
        </article>
      ))}
    </div>
  );
}
