import { useCallback, useRef, useState } from "react";
import { useLocation } from "react-router-dom";
import { describeMessage } from "../describe.js";
import { useSession, useLive } from "../session.jsx";

const SHOWN_MS = 12000;
const MAX_SHOWN = 4;

// Live messages as they arrive, in a polite live region: screen readers read them
// without moving focus. A chat reply is not repeated while the chat is open.
export default function LiveToasts() {
  const [toasts, setToasts] = useState([]);
  const location = useLocation();
  const { user } = useSession();
  const next = useRef(0);
  const onSupportPage = location.pathname.startsWith("/support") || location.pathname.startsWith("/admin/support");

  const dismiss = useCallback((id) => setToasts((shown) => shown.filter((t) => t.id !== id)), []);

  useLive("*", (message) => {
    if (message.type === "chat.message" && (onSupportPage || user?.role === "ADMIN")) return;
    if (message.type === "support.alert" && onSupportPage) return;
    const text = describeMessage(message);
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
