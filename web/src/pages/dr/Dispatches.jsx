import { useMemo } from "react";
import { commandText, STATUS_LABELS } from "../../commands.js";
import { DataTable } from "../../components/DataTable.jsx";
import { dispatchesByDevice } from "../../dr.js";
import { utcTime } from "../../format.js";
import { useResource } from "../../hooks.js";
import { useSession } from "../../session.jsx";

const LABELS = { ...STATUS_LABELS, failed: "Not sent" };

function Sent({ dispatch }) {
  if (!dispatch) return <td>–</td>;
  return (
    <td data-status={dispatch.status}>
      {commandText(dispatch.type, dispatch.params)}: <strong>{LABELS[dispatch.status] || dispatch.status}</strong>
      {dispatch.detail && <small> ({dispatch.detail})</small>}
      <small>
        {" "}
        at <time dateTime={dispatch.created_at}>{utcTime(dispatch.created_at)}</time>
      </small>
    </td>
  );
}

// What the event sent a participant's devices as it started and as it ended, and
// what each device answered (`dispatches` of the results).
export function Dispatches({ participant, label, own }) {
  const { api } = useSession();
  const rows = useMemo(() => dispatchesByDevice(participant.dispatches), [participant.dispatches]);
  const devices = useResource(
    (signal) => api.get(own ? "/api/devices" : `/api/devices?user_id=${participant.user_id}`, { signal }),
    [participant.user_id, own],
  );
  const names = Object.fromEntries((devices.data || []).map((device) => [device.id, device.name]));
  if (rows.length === 0) return <p className="dr-muted">No device of theirs was sent a command.</p>;
  return (
    <DataTable
      caption={`Commands sent to the devices of ${label}`}
      captionShown
      columns={["Device", "At the start", "At the end"]}
      data-testid="dr-dispatches"
    >
      {rows.map((row) => (
        <tr key={row.device_id}>
          <th scope="row">{names[row.device_id] || `Device ${row.device_id.slice(0, 8)}`}</th>
          <Sent dispatch={row.start} />
          <Sent dispatch={row.end} />
        </tr>
      ))}
    </DataTable>
  );
}
