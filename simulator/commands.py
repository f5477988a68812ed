"""What a simulated device does with a command message: the decisions alone, as a
pure object that the MQTT link (``link``) carries out.

A command is ``{"command_id", "type", "params", "expires_at"}``; the device answers
``{"command_id", "status": "ok" | "rejected", "detail"}``. A command whose
``expires_at`` has passed is rejected (``detail`` says when it expired) rather than
ignored, so that the platform learns at once that it was not carried out. A
command delivered again (QoS 1 redelivers what was not acknowledged before a
connection dropped) is answered as the first time and not carried out twice. A
message without a ``command_id`` cannot be answered; it is dropped.

For tests, a device can be made to misbehave (``Behaviour``): reject every command,
ignore every command (no answer), or go silent at its first command (stop
publishing and drop its connection without a DISCONNECT, so that the broker
publishes its will, ``{"online": false}``).
"""

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from services.common.topology import iso_utc
from simulator.devices import Rejected

OK, REJECTED = "ok", "rejected"
PING = "ping"
#: How many answers a device remembers, to answer a redelivered command alike.
REMEMBERED = 1000


class Behaviour(StrEnum):
    OBEY = "obey"
    REJECT = "reject"
    IGNORE = "ignore"
    SILENT = "silent"


class Unreadable(Exception):
    """A message that is not a command; ``command_id`` if it had one."""

    def __init__(self, reason: str, command_id: str | None = None):
        super().__init__(reason)
        self.reason, self.command_id = reason, command_id


@dataclass(frozen=True)
class Command:
    command_id: str
    type: str
    params: dict = field(default_factory=dict)
    expires_at: datetime | None = None


def parse_command(payload: bytes | str) -> Command:
    """The command in a message body, or Unreadable."""
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise Unreadable("not JSON") from None
    if not isinstance(body, dict):
        raise Unreadable("not a JSON object")
    command_id = body.get("command_id")
    if not isinstance(command_id, str) or not command_id:
        raise Unreadable("no command_id")
    command_type = body.get("type")
    if not isinstance(command_type, str) or not command_type:
        raise Unreadable("type must be a non-empty string", command_id)
    params = body.get("params")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise Unreadable("params must be an object", command_id)
    expires_at = body.get("expires_at")
    if expires_at is not None:
        expires_at = parse_moment(expires_at, command_id)
    return Command(command_id, command_type, params, expires_at)


def parse_moment(text, command_id: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, TypeError, ValueError):
        raise Unreadable("expires_at must be an ISO-8601 time", command_id) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def ack(command_id: str, status: str, detail: str) -> dict:
    return {"command_id": command_id, "status": status, "detail": detail}


@dataclass(frozen=True)
class Response:
    """What to do about one command message: publish ``ack`` (if any), then go
    silent if ``silent``; ``note`` is for the log."""

    ack: dict | None = None
    silent: bool = False
    note: str = ""


class CommandHandler:
    """Decides each command of one device and applies it with ``apply(type,
    params, at)`` (a model's ``apply``, or the fleet's for one device), which
    returns what the answer says or raises Rejected."""

    def __init__(
        self,
        apply: Callable[[str, dict, datetime], str],
        behaviour: Behaviour = Behaviour.OBEY,
    ):
        self.apply = apply
        self.behaviour = Behaviour(behaviour)
        self.lock = threading.Lock()
        self.answered: OrderedDict[str, dict] = OrderedDict()

    def handle(self, payload: bytes | str, now: datetime) -> Response:
        """The response to the message ``payload`` received at ``now``."""
        if self.behaviour is Behaviour.SILENT:
            return Response(silent=True, note="going silent")
        try:
            command, problem = parse_command(payload), None
        except Unreadable as exc:
            if exc.command_id is None:
                return Response(note=f"dropped a message: {exc.reason}")
            command, problem = Command(exc.command_id, "?"), exc.reason
        command_id = command.command_id
        with self.lock:
            if command_id in self.answered:
                return Response(self.answered[command_id], note="again")
            if self.behaviour is Behaviour.IGNORE:
                return Response(note=f"ignored {command.type} {command_id}")
            if self.behaviour is Behaviour.REJECT:
                return self.answer(command_id, REJECTED, "rejects every command")
            if problem is not None:
                return self.answer(command_id, REJECTED, problem)
            if command.expires_at is not None and command.expires_at <= now:
                expired = f"expired at {iso_utc(command.expires_at)}"
                return self.answer(command_id, REJECTED, expired)
            if command.type == PING:
                return self.answer(command_id, OK, "pong")
            try:
                detail = self.apply(command.type, command.params, now)
            except Rejected as exc:
                return self.answer(command_id, REJECTED, exc.detail)
            return self.answer(command_id, OK, detail)

    def answer(self, command_id: str, status: str, detail: str) -> Response:
        body = ack(command_id, status, detail)
        self.answered[command_id] = body
        while len(self.answered) > REMEMBERED:
            self.answered.popitem(last=False)
        return Response(body, note=f"{status} {command_id}: {detail}")
