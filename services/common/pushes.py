"""The messages browsers receive over ``/ws``, each type declared once.

A ``Push`` names a message type, the schema that dumps its ``data`` and its
audience: the user it concerns (``user.<user_id>.<type>``) and the roles every
socket of which receives it (``role.<ROLE>.<type>``). Services publish them with
``messaging.Pusher``; ws_gateway builds its own ``session.ended`` from here and
delivers a type only to the audience declared here; the web app's constants are
generated from this module (``python -m services.common.pushes``).
"""

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from marshmallow import Schema, fields

from services.alarms.schemas import AlarmSchema
from services.batteries.schemas import BatteryStateSchema
from services.common.topology import client_message, role_message_key, user_message_key
from services.devices.schemas import DeviceCommandSchema
from services.dr import policies as dr_policies
from services.dr.schemas import DrEventPushSchema
from services.monitoring.schemas import (
    ConsumptionUpdateSchema,
    DeviceStatusSchema,
    OverconsumptionSchema,
)
from services.support import policies as support_policies
from services.support.schemas import ChatMessageSchema, SupportAlertSchema
from services.trading.schemas import TradingTradeSchema


class InvalidPush(ValueError):
    """A push its type does not allow: a payload its schema cannot dump, or an
    audience the type does not have. A bug of the caller; nothing is published."""


class SessionEndedSchema(Schema):
    """``data`` of ``session.ended``: why, and for a logout the token it ends."""

    reason = fields.String(
        metadata={
            "enum": [
                "logout",
                "user_deleted",
                "role_changed",
                "password_changed",
                "expired",
                "revoked",
            ]
        }
    )
    jti = fields.String(metadata={"description": "the one session a logout ends"})


class CommandRefusedSchema(Schema):
    """``data`` of ``command.refused``: the error the HTTP route would answer."""

    error = fields.String(metadata={"description": "the error's code"})
    message = fields.String()
    details = fields.Dict(
        metadata={"description": "per field, as in a 400 (`params.on`, …)"}
    )


@dataclass(frozen=True)
class Push:
    """A message type of ``ems.ws``, its ``data`` and who receives it."""

    name: str
    schema: Schema
    #: Whether it goes to the users it concerns, one ``user.<id>.<name>`` each.
    to_user: bool
    #: The roles every socket of which receives it, ``role.<ROLE>.<name>``.
    roles: tuple[str, ...]
    #: What it says, for the documentation.
    description: str
    #: Fields of ``schema`` a payload may leave out; it must give every other one.
    optional: frozenset[str] = frozenset()

    def data(self, payload) -> dict:
        """``payload`` (an object or a dict) dumped with the type's schema, which
        must give every field but the optional ones."""
        try:
            data = self.schema.dump(payload)
        except (ValueError, TypeError, AttributeError) as exc:
            raise InvalidPush(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        # marshmallow leaves out a field whose attribute the payload lacks.
        absent = [
            name
            for name, field in self.schema.dump_fields.items()
            if name not in self.optional and (field.data_key or name) not in data
        ]
        if absent:
            raise InvalidPush(f"{self.name} without {', '.join(sorted(absent))}")
        return data

    def message(self, payload, now: datetime | None = None) -> dict:
        """The envelope browsers receive, ``{type, data, ts}``."""
        return client_message(self.name, self.data(payload), now)

    def routing_keys(
        self, user_ids: Iterable[str] = (), roles: Iterable[str] | None = None
    ) -> list[str]:
        """One routing key per user and role; ``roles`` None: every declared one."""
        user_ids = list(user_ids)
        roles = self.roles if roles is None else tuple(roles)
        if self.to_user and not user_ids:
            raise InvalidPush(f"{self.name} concerns a user; none was named")
        if user_ids and not self.to_user:
            raise InvalidPush(f"{self.name} goes to roles only, not to users")
        if undeclared := set(roles) - set(self.roles):
            raise InvalidPush(f"{self.name} is not for {', '.join(sorted(undeclared))}")
        return [user_message_key(user_id, self.name) for user_id in user_ids] + [
            role_message_key(role, self.name) for role in roles
        ]


CHAT_MESSAGE = Push(
    "chat.message",
    ChatMessageSchema(),
    to_user=True,
    roles=support_policies.READ_INBOX.roles,
    description="a message of a support conversation, from either side",
)
SUPPORT_ALERT = Push(
    "support.alert",
    SupportAlertSchema(),
    to_user=False,
    # A call to answer: to those who may, not to VIEWER, who reads the inbox but
    # answers no one (and sees the waiting user there, by chat.message).
    roles=support_policies.REPLY.roles,
    description="a user waits for staff: nothing answered, or they asked for one",
)
OVERCONSUMPTION = Push(
    "overconsumption",
    OverconsumptionSchema(),
    to_user=True,
    roles=(),
    description="a device of the user's went over its hourly limit",
)
ALARM_CREATED = Push(
    "alarm.created",
    AlarmSchema(),
    to_user=True,
    roles=(),
    description="an alarm raised on a device or site of the user's, of a severity "
    "they chose to see in the app",
)
ALARM_UPDATED = Push(
    "alarm.updated",
    AlarmSchema(),
    to_user=True,
    roles=(),
    description="an alarm of the user's changed: acknowledged, cleared, ended, "
    "or its severity",
)
CONSUMPTION_UPDATED = Push(
    "consumption.updated",
    ConsumptionUpdateSchema(),
    to_user=True,
    roles=(),
    description="the new hourly totals of the user's devices after a batch",
)
DEVICE_STATUS = Push(
    "device.status",
    DeviceStatusSchema(),
    to_user=True,
    roles=(),
    description="a device of the user's went offline or came online",
)
BATTERY_STATE = Push(
    "battery.state",
    BatteryStateSchema(),
    to_user=True,
    roles=(),
    description="a battery of the user's changed its charge, mode or power",
)
TRADE_EXECUTED = Push(
    "trade.executed",
    TradingTradeSchema(),
    to_user=True,
    roles=(),
    description="a trade, to its buyer and its seller",
)
DR_EVENT = Push(
    "dr.event",
    DrEventPushSchema(),
    to_user=True,
    roles=dr_policies.READ_ALL.roles,
    description="an invitation to a demand-response event, and its changes; "
    "the staff hear of the users' answers",
)
COMMAND_UPDATED = Push(
    "command.updated",
    DeviceCommandSchema(),
    to_user=True,
    roles=(),
    description="a command to a device changed status; to the device's owner and "
    "to whoever sent it",
)
COMMAND_ACCEPTED = Push(
    "command.accepted",
    DeviceCommandSchema(),
    to_user=True,
    roles=(),
    description="ws_gateway's answer to a command.send of the socket: the command, "
    "with the socket's ref",
)
COMMAND_REFUSED = Push(
    "command.refused",
    CommandRefusedSchema(),
    to_user=True,
    roles=(),
    description="ws_gateway's answer to a command.send of the socket that was not "
    "taken, with the socket's ref",
)
SESSION_ENDED = Push(
    "session.ended",
    SessionEndedSchema(),
    to_user=True,
    roles=(),
    description="the session is over; the socket closes with 4001",
    optional=frozenset({"jti"}),
)

#: Every type, by name.
CATALOGUE: dict[str, Push] = {
    push.name: push
    for push in (
        CHAT_MESSAGE,
        SUPPORT_ALERT,
        OVERCONSUMPTION,
        ALARM_CREATED,
        ALARM_UPDATED,
        CONSUMPTION_UPDATED,
        DEVICE_STATUS,
        BATTERY_STATE,
        TRADE_EXECUTED,
        DR_EVENT,
        COMMAND_UPDATED,
        COMMAND_ACCEPTED,
        COMMAND_REFUSED,
        SESSION_ENDED,
    )
}

#: The web app's copy of the catalogue.
JAVASCRIPT = Path(__file__).resolve().parents[2] / "web" / "src" / "pushes.generated.js"


def constant_name(push: Push) -> str:
    """``chat.message`` → ``CHAT_MESSAGE``."""
    return push.name.replace(".", "_").upper()


def javascript() -> str:
    """The web app's module of the catalogue: a constant per type, and audiences."""
    lines = [
        "// Generated from services/common/pushes.py by "
        "`python -m services.common.pushes`; do not edit.",
        "",
    ]
    for push in CATALOGUE.values():
        lines.append(f"/** {push.description} */")
        lines.append(f'export const {constant_name(push)} = "{push.name}";')
    lines += ["", "/** Who receives each type: the user it concerns, and roles. */"]
    lines.append("export const AUDIENCES = Object.freeze({")
    for push in CATALOGUE.values():
        user = "true" if push.to_user else "false"
        roles = ", ".join(f'"{role}"' for role in push.roles)
        name = constant_name(push)
        lines.append(f"  [{name}]: {{ user: {user}, roles: [{roles}] }},")
    lines.append("});")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write ``web/src/pushes.generated.js``; ``--check``: only say if it differs."""
    argv = sys.argv[1:] if argv is None else argv
    expected = javascript()
    current = JAVASCRIPT.read_text() if JAVASCRIPT.exists() else None
    if "--check" in argv:
        if current != expected:
            print(f"{JAVASCRIPT} is out of date: python -m services.common.pushes")
            return 1
        return 0
    if current != expected:
        JAVASCRIPT.write_text(expected)
        print(f"wrote {JAVASCRIPT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
