import { STATUS_LABELS } from "../../dr.js";
import "./dr.css";

export function StatusBadge({ status }) {
  return <span className={`dr-status dr-status-${status}`}>{STATUS_LABELS[status] || status}</span>;
}
