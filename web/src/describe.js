// One line of text for a live message or a stored notification.
import { kwh, utcDateTime, utcHour } from "./format.js";

export function describeOverconsumption(data, deviceName) {
  const device = deviceName || "A device";
  const hour = utcHour(data.hour);
  if (data.reason === "reading") {
    return `${device}: one reading of ${kwh(data.kwh)} exceeded its limit of ${kwh(data.limit_kwh)} (hour ${hour} UTC).`;
  }
  return `${device} used ${kwh(data.kwh)} in the hour from ${hour} UTC, over its limit of ${kwh(data.limit_kwh)}.`;
}

export function describeMessage(message, names = {}) {
  const data = message.data || {};
  switch (message.type) {
    case "overconsumption":
      return describeOverconsumption(data, names[data.device_id]);
    case "chat.message":
      return data.author === "user" ? null : `Support: ${data.text}`;
    case "support.alert":
      return `A user is waiting for an answer: “${data.text}”`;
    case "dr.event": {
      const event = data.event || {};
      return `Demand response “${event.name}” (${utcDateTime(event.start)}): ${String(data.change || event.status).replace(/_/g, " ")}.`;
    }
    case "trade.executed":
      return `Trade: ${kwh(data.quantity_kwh)} at ${data.price_per_kwh} per kWh for ${utcDateTime(data.delivery_hour)}.`;
    // battery.state changes what the Batteries page shows; it is no news elsewhere.
    default:
      return null;
  }
}
