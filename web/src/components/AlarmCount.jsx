import { useCallback, useEffect, useRef } from "react";
import { Link } from "react-router-dom";
import { ALARM_CREATED, ALARM_UPDATED, countText, summarySeverity, unacknowledgedCount } from "../alarms.js";
import { useResource } from "../hooks.js";
import { useLive, useSession } from "../session.jsx";

// Pushes that come together (a batch raising several alarms) ask for the summary once.
const SETTLE_MS = 500;

// The header's count of active alarms nobody has acknowledged, linking to them;
// asked again after each alarm pushed and when the live connection returns, and
// not shown while there are none (or the count cannot be had).
export default function AlarmCount() {
  const { api, liveStatus } = useSession();
  const summary = useResource((signal) => api.get("/api/alarms/summary", { signal }), [liveStatus === "open"]);
  const { reload } = summary;
  const timer = useRef(null);
  const refresh = useCallback(() => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      reload({ quiet: true });
    }, SETTLE_MS);
  }, [reload]);
  useEffect(() => () => clearTimeout(timer.current), []);
  useLive(ALARM_CREATED, refresh);
  useLive(ALARM_UPDATED, refresh);

  const count = unacknowledgedCount(summary.data);
  if (!count) return null;
  const severity = summarySeverity(summary.data) || "warning";
  return (
    <li>
      <Link to="/alarms?status=unack" className={`alarm-count alarm-count-${severity}`} title={countText(count)} data-testid="alarm-count">
        {count === 1 ? "1 alarm" : `${count} alarms`}
        <span className="visually-hidden"> not acknowledged</span>
      </Link>
    </li>
  );
}
