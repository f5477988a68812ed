"""How devices are loaded from requests and dumped on the wire."""

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from services.common.schemas import (
    ID,
    InputSchema,
    PatchSchema,
    Permissions,
    UtcDateTime,
)
from services.devices import commands
from services.devices.models import DEFAULT_READING_INTERVAL_S

#: What a device is; ``battery`` devices carry batteries.
KINDS = ("meter", "appliance", "heat_pump", "ev_charger", "pv", "battery")
NAME = validate.Length(min=1, max=200)
LIMIT = validate.Range(min=0, min_inclusive=False, max=1_000_000)
#: A device sends a reading at least once a day, and at most once a second.
READING_INTERVAL = validate.Range(min=1, max=86_400)
READING_INTERVAL_HELP = (
    "seconds between the device's readings (1 to 86400); a device silent for a "
    "few intervals is offline"
)
LATITUDE = validate.Range(min=-90, max=90)
LONGITUDE = validate.Range(min=-180, max=180)
LATITUDE_HELP = (
    "where the device stands, degrees north (-90 to 90; with longitude, or null "
    "with it); a PV device's generation forecast uses the installation's location "
    "when it has none"
)
LONGITUDE_HELP = "where the device stands, degrees east (-180 to 180; with latitude)"


class DeviceSchema(Schema):
    id = fields.String(dump_only=True)
    user_id = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    kind = fields.String(dump_only=True, metadata={"enum": list(KINDS)})
    max_hourly_kwh = fields.Float(dump_only=True)
    reading_interval_s = fields.Integer(
        dump_only=True, metadata={"description": READING_INTERVAL_HELP}
    )
    latitude = fields.Float(
        dump_only=True, allow_none=True, metadata={"description": LATITUDE_HELP}
    )
    longitude = fields.Float(
        dump_only=True, allow_none=True, metadata={"description": LONGITUDE_HELP}
    )
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)
    permissions = Permissions(
        "what the caller may do with the device: update, delete, issue_credentials, "
        "command (absent from ems.sync events)"
    )


class MqttAccessSchema(Schema):
    client_id = fields.String(dump_only=True)
    username = fields.String(
        dump_only=True,
        metadata={
            "description": "`<vhost>:<username>` when the platform's virtual "
            "host is not the broker's default"
        },
    )
    port = fields.Integer(dump_only=True)
    publish_topic = fields.String(dump_only=True)
    command_topic = fields.String(
        dump_only=True, metadata={"description": "subscribe with QoS 1"}
    )
    ack_topic = fields.String(
        dump_only=True, metadata={"description": "where the device answers commands"}
    )


class AmqpAccessSchema(Schema):
    vhost = fields.String(dump_only=True)
    exchange = fields.String(dump_only=True)
    routing_key = fields.String(dump_only=True)
    command_queue = fields.String(
        dump_only=True,
        metadata={
            "description": "the durable queue the device declares, binds to the "
            "exchange with `command_routing_key` and reads its commands from"
        },
    )
    command_routing_key = fields.String(dump_only=True)
    ack_routing_key = fields.String(
        dump_only=True, metadata={"description": "where the device answers commands"}
    )


class DeviceCredentialsSchema(Schema):
    """A device's broker login, and where it may publish with it."""

    device_id = fields.String(dump_only=True)
    username = fields.String(dump_only=True)
    password = fields.String(dump_only=True)
    mqtt = fields.Nested(MqttAccessSchema, dump_only=True)
    amqp = fields.Nested(AmqpAccessSchema, dump_only=True)


def _latitude(**kwargs):
    return fields.Float(
        validate=LATITUDE,
        allow_nan=False,
        allow_none=True,
        metadata={"description": LATITUDE_HELP},
        **kwargs,
    )


def _longitude(**kwargs):
    return fields.Float(
        validate=LONGITUDE,
        allow_nan=False,
        allow_none=True,
        metadata={"description": LONGITUDE_HELP},
        **kwargs,
    )


class _Stripped(InputSchema):
    @validates_schema
    def whole_location(self, data, **kwargs):
        """A location is both coordinates or neither: half a place is none."""
        given = [name for name in ("latitude", "longitude") if name in data]
        if not given:
            return
        known = [name for name in given if data[name] is not None]
        if len(given) == 1 or len(known) == 1:
            lacking = "longitude" if "latitude" in known else "latitude"
            raise ValidationError(
                "give latitude and longitude together, or neither", lacking
            )

    @post_load
    def strip(self, data, **kwargs):
        if "name" in data:
            data["name"] = data["name"].strip()
        return data


class DeviceCreateSchema(_Stripped):
    name = fields.String(required=True, validate=NAME)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    max_hourly_kwh = fields.Float(
        validate=LIMIT, allow_nan=False, metadata={"description": "kWh per UTC hour"}
    )
    reading_interval_s = fields.Integer(
        strict=True,
        load_default=DEFAULT_READING_INTERVAL_S,
        validate=READING_INTERVAL,
        metadata={"description": READING_INTERVAL_HELP},
    )
    latitude = _latitude(load_default=None)
    longitude = _longitude(load_default=None)
    user_id = fields.String(
        validate=ID,
        metadata={"description": "owner; ADMIN only, defaults to the caller"},
    )


class DeviceUpdateSchema(_Stripped, PatchSchema):
    name = fields.String(validate=NAME)
    kind = fields.String(validate=validate.OneOf(KINDS))
    max_hourly_kwh = fields.Float(validate=LIMIT, allow_nan=False)
    reading_interval_s = fields.Integer(
        strict=True,
        validate=READING_INTERVAL,
        metadata={"description": READING_INTERVAL_HELP},
    )
    latitude = _latitude()
    longitude = _longitude()


class DeviceListQuerySchema(InputSchema):
    user_id = fields.String(
        validate=ID, metadata={"description": "ADMIN, OPERATOR and VIEWER: one owner"}
    )


# -- commands ----------------------------------------------------------------------

#: Seconds a command waits for its device's answer, unless the request says.
DEFAULT_TTL_S = 60
MAX_TTL_S = 86_400
TTL = validate.Range(min=1, max=MAX_TTL_S)
#: Who issued a command: a user's id, or a service (``batteries``, ``dr:<event>``).
ISSUER = validate.Length(min=1, max=64)


class DeviceCommandRequestSchema(InputSchema):
    """A command for a device: its type, the type's parameters, how long it may
    wait for the device's answer."""

    type = fields.String(
        required=True,
        validate=validate.OneOf(commands.TYPES),
        metadata={
            "description": "what the device is to do; the types each kind takes: "
            + "; ".join(command.summary() for command in commands.CATALOGUE.values())
        },
    )
    params = fields.Dict(
        keys=fields.String(),
        load_default=dict,
        metadata={"description": "the type's parameters (`{}` for none)"},
    )
    ttl_s = fields.Integer(
        load_default=DEFAULT_TTL_S,
        validate=TTL,
        metadata={
            "description": f"seconds the command waits for the device's answer "
            f"before it expires (default {DEFAULT_TTL_S})"
        },
    )


class DeviceCommandIssueSchema(DeviceCommandRequestSchema):
    """A command another service issues (``devices.issue_command``)."""

    issued_by = fields.String(required=True, validate=ISSUER)


class DeviceCommandListQuerySchema(InputSchema):
    limit = fields.Integer(
        load_default=20,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "how many, newest first (1–100, default 20)"},
    )


class DeviceCommandSchema(Schema):
    """A command and where it stands."""

    id = fields.String(dump_only=True)
    device_id = fields.String(dump_only=True)
    type = fields.String(dump_only=True, metadata={"enum": list(commands.TYPES)})
    params = fields.Dict(dump_only=True)
    status = fields.String(
        dump_only=True,
        metadata={
            "enum": list(commands.STATUSES),
            "description": "pending: not in a queue of the device's yet; delivered: "
            "the broker holds it in a queue of the device's; acked / rejected: the "
            "device's answer; expired: no answer within its time to live",
        },
    )
    created_at = UtcDateTime(dump_only=True)
    created_by = fields.String(
        dump_only=True,
        metadata={"description": "a user's id, or the service that issued it"},
    )
    expires_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)
    detail = fields.String(
        dump_only=True,
        allow_none=True,
        metadata={"description": "the device's word with its answer, or why not"},
    )


class DeviceCommandEventSchema(Schema):
    status = fields.String(dump_only=True)
    detail = fields.String(dump_only=True, allow_none=True)
    at = UtcDateTime(dump_only=True)


class DeviceCommandHistorySchema(DeviceCommandSchema):
    """A command with every status it has had, oldest first."""

    history = fields.List(fields.Nested(DeviceCommandEventSchema), dump_only=True)


class DeviceCommandMessageSchema(Schema):
    """What a device receives: ``ems/devices/<id>/commands``."""

    command_id = fields.String(attribute="id")
    type = fields.String()
    params = fields.Dict()
    expires_at = UtcDateTime()


class CommandParamSchema(Schema):
    """A parameter of a command type, as its schema loads it."""

    name = fields.String(dump_only=True)
    type = fields.String(dump_only=True, metadata={"enum": ["boolean", "number"]})
    required = fields.Boolean(dump_only=True)
    description = fields.String(dump_only=True, allow_none=True)
    unit = fields.String(dump_only=True, allow_none=True)
    min = fields.Float(dump_only=True, allow_none=True)
    max = fields.Float(dump_only=True, allow_none=True)
    min_nonzero = fields.Float(
        dump_only=True,
        allow_none=True,
        metadata={"description": "the least value other than 0, when 0 means off"},
    )


class CommandTypeSchema(Schema):
    """A type of command, the device kinds that take it and its parameters."""

    type = fields.String(dump_only=True, metadata={"enum": list(commands.TYPES)})
    description = fields.String(dump_only=True)
    kinds = fields.List(
        fields.String(),
        dump_only=True,
        allow_none=True,
        metadata={"description": "the kinds that take it; null: every kind"},
    )
    params = fields.List(fields.Nested(CommandParamSchema), dump_only=True)
