import { severityLabel } from "../../alarms.js";
import "./alarms.css";

// A severity in words, in its colour; the words carry it without the colour.
export function SeverityBadge({ severity }) {
  return <span className={`alarm-severity alarm-severity-${severity}`}>{severityLabel(severity)}</span>;
}
