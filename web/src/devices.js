// A device's own broker login, as the Devices page shows it once: what
// `POST /api/devices/{id}/credentials` answered, in the rows a person copies into
// the device's settings.

export const LOGIN_CONFIRM =
  "Issue a new login for this device? It replaces any login the device had: the " +
  "device is disconnected, and cannot connect again until it uses the new one.";

// The answer's sections and rows. `host` is the address the device connects to
// (the page's own host name: the broker is served next to the platform).
export function loginSections(answer, host) {
  const { mqtt, amqp } = answer;
  return [
    {
      title: "Login",
      rows: [
        { label: "User name", value: answer.username },
        { label: "Password", value: answer.password, secret: true },
      ],
    },
    {
      title: "MQTT",
      rows: [
        { label: "Host", value: host },
        { label: "Port", value: String(mqtt.port) },
        { label: "MQTT user name", value: mqtt.username },
        { label: "Client id", value: mqtt.client_id },
        { label: "Publish topic", value: mqtt.publish_topic },
        { label: "Command topic", value: mqtt.command_topic },
      ],
    },
    {
      title: "AMQP",
      rows: [
        { label: "Virtual host", value: amqp.vhost },
        { label: "Exchange", value: amqp.exchange },
        { label: "Routing key", value: amqp.routing_key },
      ],
    },
  ];
}

// Copies `text`; false when the browser has no clipboard for the page or refuses
// (the person can still select the text and copy it).
export async function copyText(text, clipboard = globalThis.navigator?.clipboard) {
  if (!clipboard?.writeText) return false;
  try {
    await clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

// Each device's status (`GET /api/devices/status`) by device id.
export function statusesById(list) {
  return Object.fromEntries((list || []).map((status) => [status.device_id, status]));
}

// The statuses with a `device.status` push (a whole status, as the list has
// them) applied; the others stay as they are.
export function applyStatus(byId, status) {
  if (!byId || !status?.device_id) return byId;
  return { ...byId, [status.device_id]: { ...byId[status.device_id], ...status } };
}

// A power in watts as the list shows it: "1,650 W"; "–" when none was reported.
export function watts(value) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "–";
  return `${Math.round(Number(value)).toLocaleString("en")} W`;
}
