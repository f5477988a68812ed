// Generated from services/common/pushes.py by `python -m services.common.pushes`; do not edit.

/** a message of a support conversation, from either side */
export const CHAT_MESSAGE = "chat.message";
/** a user waits for staff: nothing answered, or they asked for one */
export const SUPPORT_ALERT = "support.alert";
/** a device of the user's went over its hourly limit */
export const OVERCONSUMPTION = "overconsumption";
/** an alarm raised on a device or site of the user's, of a severity they chose to see in the app */
export const ALARM_CREATED = "alarm.created";
/** an alarm of the user's changed: acknowledged, cleared, ended, or its severity */
export const ALARM_UPDATED = "alarm.updated";
/** the new hourly totals of the user's devices after a batch */
export const CONSUMPTION_UPDATED = "consumption.updated";
/** a device of the user's went offline or came online */
export const DEVICE_STATUS = "device.status";
/** a battery of the user's changed its charge, mode or power */
export const BATTERY_STATE = "battery.state";
/** a trade, to its buyer and its seller */
export const TRADE_EXECUTED = "trade.executed";
/** an invitation to a demand-response event, and its changes; the staff hear of the users' answers */
export const DR_EVENT = "dr.event";
/** a command to a device changed status; to the device's owner and to whoever sent it */
export const COMMAND_UPDATED = "command.updated";
/** ws_gateway's answer to a command.send of the socket: the command, with the socket's ref */
export const COMMAND_ACCEPTED = "command.accepted";
/** ws_gateway's answer to a command.send of the socket that was not taken, with the socket's ref */
export const COMMAND_REFUSED = "command.refused";
/** the session is over; the socket closes with 4001 */
export const SESSION_ENDED = "session.ended";

/** Who receives each type: the user it concerns, and roles. */
export const AUDIENCES = Object.freeze({
  [CHAT_MESSAGE]: { user: true, roles: ["VIEWER", "ADMIN"] },
  [SUPPORT_ALERT]: { user: false, roles: ["ADMIN"] },
  [OVERCONSUMPTION]: { user: true, roles: [] },
  [ALARM_CREATED]: { user: true, roles: [] },
  [ALARM_UPDATED]: { user: true, roles: [] },
  [CONSUMPTION_UPDATED]: { user: true, roles: [] },
  [DEVICE_STATUS]: { user: true, roles: [] },
  [BATTERY_STATE]: { user: true, roles: [] },
  [TRADE_EXECUTED]: { user: true, roles: [] },
  [DR_EVENT]: { user: true, roles: ["VIEWER", "OPERATOR", "ADMIN"] },
  [COMMAND_UPDATED]: { user: true, roles: [] },
  [COMMAND_ACCEPTED]: { user: true, roles: [] },
  [COMMAND_REFUSED]: { user: true, roles: [] },
  [SESSION_ENDED]: { user: true, roles: [] },
});
