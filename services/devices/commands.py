"""The commands devices take: which kinds of device accept which types, with what
parameters, and how a command moves from one status to the next. Pure data and
validation, no I/O.

A command's ``params`` are loaded with its type's schema, and the device is sent
what was loaded (numbers as numbers, ``true`` as ``true``), never what the client
wrote. The bounds here are the platform's sanity bounds; a device refuses what it
cannot do (``rejected``, with its ``detail``).
"""

import json
from dataclasses import dataclass

from marshmallow import Schema, ValidationError, fields, validate

from services.common.errors import ValidationFailed
from services.common.schemas import InputSchema, is_id, unstorable
from services.common.topology import ACKS, device_of_key
from services.devices.exceptions import InvalidAck

# -- what each kind of device takes ----------------------------------------------

#: Loads that can be switched on and off.
SWITCHABLE = frozenset({"appliance", "heat_pump", "ev_charger"})
#: Battery power in kW, positive charging and negative discharging: as much as a
#: large home or small business battery moves. devicedb knows no battery's own
#: powers (batterydb does); the battery refuses a setpoint beyond them.
MAX_BATTERY_KW = 100.0
#: Charging current in amperes: 0 pauses; IEC 61851 allows no less than 6 A while
#: charging; 80 A is the largest residential charger.
MIN_EV_AMPS, MAX_EV_AMPS = 6.0, 80.0


def _number(low: float, high: float, unit: str, description: str):
    return fields.Float(
        required=True,
        allow_nan=False,
        validate=validate.Range(min=low, max=high),
        metadata={"description": description, "unit": unit},
    )


class NoParams(InputSchema):
    """``{}``."""


class SwitchParams(InputSchema):
    on = fields.Boolean(
        required=True, metadata={"description": "true switches on, false off"}
    )


class BatterySetpointParams(InputSchema):
    power_kw = _number(
        -MAX_BATTERY_KW,
        MAX_BATTERY_KW,
        "kW",
        "kW at the battery's terminals: positive charges, negative discharges, 0 holds",
    )


class CurtailParams(InputSchema):
    max_percent = _number(0, 100, "%", "the most the PV may produce, in % of its peak")


def _charging_current(amps: float) -> None:
    if 0 < amps < MIN_EV_AMPS:
        raise ValidationError(
            f"0 pauses; a charging current is at least {MIN_EV_AMPS:g} A"
        )


class EvCurrentParams(InputSchema):
    amps = fields.Float(
        required=True,
        allow_nan=False,
        validate=[validate.Range(min=0, max=MAX_EV_AMPS), _charging_current],
        metadata={
            "description": "charging current, A; 0 pauses",
            "unit": "A",
            "min_nonzero": MIN_EV_AMPS,
        },
    )


@dataclass(frozen=True)
class CommandType:
    """A type of command, the device kinds that take it (None: every kind) and the
    schema of its ``params``."""

    name: str
    description: str
    params: type[Schema]
    kinds: frozenset[str] | None = None

    def accepts(self, kind: str) -> bool:
        return self.kinds is None or kind in self.kinds

    def summary(self) -> str:
        """One line for the documentation: the type, its kinds and parameters."""
        names = (
            ", ".join(f"`{name}`" for name in self.params().declared_fields) or "none"
        )
        kinds = "any device" if self.kinds is None else ", ".join(sorted(self.kinds))
        return f"`{self.name}` ({kinds}; params: {names}): {self.description}"

    def describe(self) -> dict:
        """The type as clients read it (``GET /api/command-types``): its kinds
        (None: every kind) and each parameter's type, bounds and unit, taken from
        the schema that loads it."""
        return {
            "type": self.name,
            "description": self.description,
            "kinds": None if self.kinds is None else sorted(self.kinds),
            "params": [
                _describe_param(name, field)
                for name, field in self.params().declared_fields.items()
            ],
        }


def _describe_param(name: str, field: fields.Field) -> dict:
    """A parameter's name, type (``boolean`` or ``number``), bounds and unit."""
    described = {
        "name": name,
        "type": "boolean" if isinstance(field, fields.Boolean) else "number",
        "required": field.required,
        "description": field.metadata.get("description"),
        "unit": field.metadata.get("unit"),
        "min": None,
        "max": None,
        "min_nonzero": field.metadata.get("min_nonzero"),
    }
    for validator in field.validators:
        if isinstance(validator, validate.Range):
            described["min"], described["max"] = validator.min, validator.max
    return described


PING = CommandType("ping", "answer, and do nothing else", NoParams)
SWITCH = CommandType("switch", "switch the load on or off", SwitchParams, SWITCHABLE)
BATTERY_SETPOINT = CommandType(
    "battery_setpoint",
    f"charge or discharge at a power, within ±{MAX_BATTERY_KW:g} kW and the "
    "battery's own limits",
    BatterySetpointParams,
    frozenset({"battery"}),
)
CURTAIL = CommandType(
    "curtail",
    "produce at most a share of the peak, 0–100 %",
    CurtailParams,
    frozenset({"pv"}),
)
EV_CURRENT = CommandType(
    "ev_current",
    f"charge at {MIN_EV_AMPS:g}–{MAX_EV_AMPS:g} A, or pause at 0",
    EvCurrentParams,
    frozenset({"ev_charger"}),
)

#: Every type, by name.
CATALOGUE: dict[str, CommandType] = {
    command.name: command
    for command in (PING, SWITCH, BATTERY_SETPOINT, CURTAIL, EV_CURRENT)
}
TYPES = tuple(CATALOGUE)


def describe_all() -> list[dict]:
    """Every type, as ``CommandType.describe`` tells it."""
    return [command.describe() for command in CATALOGUE.values()]


def types_for(kind: str) -> list[str]:
    """The types a device of ``kind`` takes."""
    return [name for name, command in CATALOGUE.items() if command.accepts(kind)]


def load_params(kind: str, type_name: str, params) -> dict:
    """``params`` of a ``type_name`` command for a device of ``kind``, loaded;
    ``ValidationFailed`` naming the fields otherwise (``type`` for a type the
    kind does not take, ``params`` with a list per parameter)."""
    command = CATALOGUE.get(type_name)
    if command is None:
        raise ValidationFailed(
            "invalid request", {"type": [f"must be one of: {', '.join(TYPES)}"]}
        )
    if not command.accepts(kind):
        raise ValidationFailed(
            "invalid request",
            {
                "type": [
                    f"a {kind} device does not take {type_name}; it takes "
                    + ", ".join(types_for(kind))
                ]
            },
        )
    if not isinstance(params, dict):
        raise ValidationFailed("invalid request", {"params": ["must be an object"]})
    try:
        return command.params().load(params)
    except ValidationError as exc:
        raise ValidationFailed(
            "invalid request", {"params": exc.normalized_messages()}
        ) from exc


# -- how a command's status moves --------------------------------------------------

PENDING, DELIVERED, ACKED, REJECTED, EXPIRED = (
    "pending",
    "delivered",
    "acked",
    "rejected",
    "expired",
)
STATUSES = (PENDING, DELIVERED, ACKED, REJECTED, EXPIRED)
#: Statuses a command can still leave: it waits for its device.
OPEN = (PENDING, DELIVERED)
#: Each status and those a command may reach it from. Nothing leaves an answer or
#: an expiry; an ack may come before the broker's confirm made it ``delivered``.
MOVES: dict[str, tuple[str, ...]] = {
    DELIVERED: (PENDING,),
    ACKED: OPEN,
    REJECTED: OPEN,
    EXPIRED: OPEN,
}
#: A device's answer, ``status`` of its ack, and the status it gives the command.
ANSWERS = {"ok": ACKED, "rejected": REJECTED}


def may_move(current: str, new: str) -> bool:
    """Whether a command in ``current`` may become ``new``."""
    return current in MOVES.get(new, ())


#: What an expired command's ``detail`` says.
NO_ANSWER = "no answer within its time to live"
#: What a pending command's ``detail`` says when the broker had no queue for it.
NOT_ROUTED = (
    "the device has no queue for commands now (offline); sent again when it "
    "announces itself online, and every few seconds until it expires"
)
#: The longest ``detail`` kept of a device's answer.
MAX_DETAIL = 500


# -- what devices say ---------------------------------------------------------------


@dataclass(frozen=True)
class Ack:
    """A device's answer to a command: the status it gives the command."""

    device_id: str
    command_id: str
    status: str
    detail: str | None


def decode(body) -> object:
    """A message's JSON: MQTT messages carry no content type, so kombu hands their
    bodies over undecoded; AMQP devices may send ``application/json``."""
    if isinstance(body, bytes | bytearray):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidAck(f"body is not UTF-8: {exc}") from exc
    if isinstance(body, str):
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise InvalidAck(f"body is not JSON: {exc}") from exc
    return body


def parse_ack(body, routing_key: str) -> Ack:
    """The ack a device published under ``routing_key`` (``ems.devices.<id>.acks``),
    or ``InvalidAck`` saying what is wrong with it. Whether the command exists and
    is that device's is the store's to say."""
    device_id = device_of_key(routing_key, ACKS)
    if device_id is None:
        raise InvalidAck(f"not a device's acks: {routing_key!r}")
    message = decode(body)
    if not isinstance(message, dict):
        raise InvalidAck("not a JSON object {command_id, status, detail}")
    command_id = message.get("command_id")
    if not is_id(command_id):
        raise InvalidAck("command_id is not a command's id")
    status = message.get("status")
    if not isinstance(status, str) or status not in ANSWERS:
        raise InvalidAck('status must be "ok" or "rejected"')
    detail = message.get("detail")
    if detail is not None and not isinstance(detail, str):
        raise InvalidAck("detail must be text")
    if detail is not None and unstorable(detail):
        raise InvalidAck("detail holds NUL or lone surrogates")
    if detail:
        detail = detail[:MAX_DETAIL]
    return Ack(device_id, command_id, ANSWERS[status], detail or None)


def came_online(body) -> bool:
    """Whether a presence message says its device is online, ``{"online": true}``.
    Anything else says nothing to devices; monitoring, which keeps presence,
    judges it."""
    try:
        message = decode(body)
    except InvalidAck:
        return False
    return isinstance(message, dict) and message.get("online") is True
