"""How devices, sites, rooms and members are loaded from requests and dumped on
the wire."""

import functools
import zoneinfo

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
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
from services.devices.policies import SITE_ROLES

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
SITE_HELP = "the site the device is in"
ROOM_HELP = "the room of its site the device is in, or null"


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
    site_id = fields.String(dump_only=True, metadata={"description": SITE_HELP})
    room_id = fields.String(
        dump_only=True, allow_none=True, metadata={"description": ROOM_HELP}
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
    site_id = fields.String(
        validate=ID,
        metadata={
            "description": "a site the caller may change; defaults to the owner's "
            "default site"
        },
    )
    room_id = fields.String(
        validate=ID,
        allow_none=True,
        load_default=None,
        metadata={"description": "a room of that site, or null"},
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
    site_id = fields.String(
        validate=ID,
        metadata={
            "description": "move it to this site (one the caller may change); out "
            "of its room, unless `room_id` names one of the new site's"
        },
    )
    room_id = fields.String(
        validate=ID,
        allow_none=True,
        metadata={"description": "a room of its site, or null for none"},
    )


class DeviceListQuerySchema(InputSchema):
    user_id = fields.String(
        validate=ID, metadata={"description": "ADMIN, OPERATOR and VIEWER: one owner"}
    )
    site_id = fields.String(validate=ID, metadata={"description": "one site's"})
    room_id = fields.String(validate=ID, metadata={"description": "one room's"})


# -- sites, rooms, members -----------------------------------------------------------

ADDRESS = validate.Length(max=500)
CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="three upper-case letters (ISO 4217)")
PRICE = validate.Range(min=0, max=1_000)
CO2 = validate.Range(min=0, max=10)
#: A tariff's periods: at most one per hour of the day.
PERIODS = validate.Length(max=24)


@functools.cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone_name(value: str) -> None:
    """An IANA time zone name (``Europe/Berlin``, ``UTC``), as ``zoneinfo`` knows."""
    if value not in _timezones():
        raise ValidationError("not an IANA time zone name, such as Europe/Berlin")


def _price(description: str, **kwargs):
    return fields.Float(
        validate=PRICE, allow_nan=False, metadata={"description": description}, **kwargs
    )


class TariffPeriodSchema(InputSchema):
    """Prices for some hours of each day, local time."""

    start_hour = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=0, max=23),
        metadata={"description": "the first local hour (0–23)"},
    )
    end_hour = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=1, max=24),
        metadata={"description": "the local hour it ends at, not included (1–24)"},
    )
    import_per_kwh = _price("price of energy drawn in these hours", required=True)
    export_per_kwh = _price("paid for energy sent in these hours", required=True)

    @validates_schema
    def in_order(self, data, **kwargs):
        if data["start_hour"] >= data["end_hour"]:
            raise ValidationError("must be after start_hour", "end_hour")


class TariffSchema(InputSchema):
    """What energy costs at a site and what it earns, flat or by time of use."""

    currency = fields.String(
        required=True,
        validate=CURRENCY,
        metadata={"description": "ISO 4217, such as EUR"},
    )
    import_per_kwh = _price("price of energy drawn from the grid", required=True)
    export_per_kwh = _price("paid for energy sent to the grid", required=True)
    periods = fields.List(
        fields.Nested(TariffPeriodSchema),
        load_default=list,
        validate=PERIODS,
        metadata={
            "description": "time of use: local hours `[start_hour, end_hour)` with "
            "their own prices, not overlapping; an hour in none takes the flat prices"
        },
    )

    @validates_schema
    def apart(self, data, **kwargs):
        """No hour is priced twice."""
        ordered = sorted(data.get("periods", ()), key=lambda p: p["start_hour"])
        for earlier, later in zip(ordered, ordered[1:], strict=False):
            if later["start_hour"] < earlier["end_hour"]:
                raise ValidationError(
                    f"periods overlap: {earlier['start_hour']}–{earlier['end_hour']} "
                    f"and {later['start_hour']}–{later['end_hour']}",
                    "periods",
                )


TIMEZONE_HELP = "an IANA time zone name, such as Europe/Berlin"
CO2_HELP = "the grid's intensity, kg CO₂ per kWh drawn"


class SiteMemberSchema(Schema):
    user_id = fields.String(dump_only=True)
    role = fields.String(dump_only=True, metadata={"enum": list(SITE_ROLES)})


class SiteMemberViewSchema(SiteMemberSchema):
    """A member, named for the people who manage the site."""

    name = fields.String(dump_only=True)
    email = fields.String(dump_only=True)


class SiteSchema(Schema):
    id = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    address = fields.String(dump_only=True, allow_none=True)
    latitude = fields.Float(dump_only=True, allow_none=True)
    longitude = fields.Float(dump_only=True, allow_none=True)
    timezone = fields.String(dump_only=True, metadata={"description": TIMEZONE_HELP})
    tariff = fields.Nested(TariffSchema, dump_only=True)
    co2_kg_per_kwh = fields.Float(dump_only=True, metadata={"description": CO2_HELP})
    members = fields.List(fields.Nested(SiteMemberSchema), dump_only=True)
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)
    permissions = Permissions(
        "what the caller may do with the site: update_site, manage_rooms, "
        "manage_members, delete_site (absent from ems.sync events)"
    )


class _SiteFields(_Stripped):
    name = fields.String(validate=NAME)
    address = fields.String(validate=ADDRESS, allow_none=True)
    latitude = fields.Float(
        validate=LATITUDE,
        allow_nan=False,
        allow_none=True,
        metadata={"description": "degrees north (with longitude, or neither)"},
    )
    longitude = fields.Float(
        validate=LONGITUDE,
        allow_nan=False,
        allow_none=True,
        metadata={"description": "degrees east (with latitude)"},
    )
    timezone = fields.String(
        validate=timezone_name, metadata={"description": TIMEZONE_HELP}
    )
    tariff = fields.Nested(TariffSchema)
    co2_kg_per_kwh = fields.Float(
        validate=CO2, allow_nan=False, metadata={"description": CO2_HELP}
    )


class SiteCreateSchema(_SiteFields):
    """A new site: the time zone, tariff and grid intensity not given are the
    platform's defaults."""

    name = fields.String(required=True, validate=NAME)


class SiteUpdateSchema(_SiteFields, PatchSchema):
    """A change of a site; a tariff given replaces the whole tariff."""


class SiteListQuerySchema(InputSchema):
    user_id = fields.String(
        validate=ID,
        metadata={"description": "ADMIN, OPERATOR and VIEWER: one user's sites"},
    )


class RoomSchema(Schema):
    id = fields.String(dump_only=True)
    site_id = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class RoomCreateSchema(_Stripped):
    name = fields.String(required=True, validate=NAME)


class RoomUpdateSchema(_Stripped, PatchSchema):
    name = fields.String(validate=NAME)


class MemberRoleSchema(InputSchema):
    role = fields.String(
        required=True,
        validate=validate.OneOf(SITE_ROLES),
        metadata={
            "description": "owner: everything; operator: the site, its rooms and "
            "devices; viewer: reads"
        },
    )


class MemberAddSchema(MemberRoleSchema):
    """Someone made a member by their e-mail address."""

    email = fields.Email(required=True, validate=validate.Length(max=254))

    @pre_load
    def normalise(self, data, **kwargs):
        """Addresses are kept lower-case (users), and typed with spaces."""
        if isinstance(data, dict) and isinstance(data.get("email"), str):
            data = data | {"email": data["email"].strip().lower()}
        return data


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
