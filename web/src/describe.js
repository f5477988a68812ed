// One line of text for a live message or a stored notification.
import { clock, dateTime, energyFigure, zoneAbbreviation } from "./format.js";
import { CHAT_MESSAGE, DEVICE_STATUS, DR_EVENT, OVERCONSUMPTION, SUPPORT_ALERT, TRADE_EXECUTED } from "./pushes.generated.js";

// A device that went offline or came online: a stored notification (reason
// offline/online, last_seen) or a device.status message (online, last_seen).
export function describeDeviceStatus(online, lastSeen, deviceName) {
  const device = deviceName || "A device";
  const heard = lastSeen ? `last heard from ${dateTime(lastSeen)}` : "never heard from before";
  return online ? `${device} is online (${heard}).` : `${device} went offline (${heard}).`;
}

// One stored notification: overconsumption, or a device offline or online.
export function describeNotification(notification, deviceName) {
  if (notification.reason === "offline" || notification.reason === "online") {
    return describeDeviceStatus(notification.reason === "online", notification.last_seen, deviceName);
  }
  return describeOverconsumption(notification, deviceName);
}

export function describeOverconsumption(data, deviceName) {
  const device = deviceName || "A device";
  const hour = clock(data.hour);
  const zone = zoneAbbreviation(data.hour);
  if (data.reason === "reading") {
    return `${device}: one reading of ${energyFigure(data.kwh)} exceeded its limit of ${energyFigure(data.limit_kwh)} (hour ${hour} ${zone}).`;
  }
  return `${device} used ${energyFigure(data.kwh)} in the hour from ${hour} ${zone}, over its limit of ${energyFigure(data.limit_kwh)}.`;
}

export function describeMessage(message, names = {}) {
  const data = message.data || {};
  switch (message.type) {
    case OVERCONSUMPTION:
      return describeOverconsumption(data, names[data.device_id]);
    case DEVICE_STATUS:
      return describeDeviceStatus(data.online, data.last_seen, names[data.device_id]);
    case CHAT_MESSAGE:
      return data.author === "user" ? null : `Support: ${data.text}`;
    case SUPPORT_ALERT:
      return `A user is waiting for an answer: “${data.text}”`;
    case DR_EVENT: {
      const event = data.event || {};
      return `Demand response “${event.name}” (${dateTime(event.start)}): ${String(data.change || event.status).replace(/_/g, " ")}.`;
    }
    case TRADE_EXECUTED:
      return `Trade: ${energyFigure(data.quantity_kwh)} at ${data.price_per_kwh} per kWh for ${dateTime(data.delivery_hour)}.`;
    // battery.state changes what the Batteries page shows; it is no news elsewhere.
    default:
      return null;
  }
}
