"""How devices are loaded from requests and dumped on the wire."""

from marshmallow import Schema, fields, post_load, validate

from services.common.schemas import (
    ID,
    InputSchema,
    PatchSchema,
    Permissions,
    UtcDateTime,
)

#: What a device is; ``battery`` devices carry batteries.
KINDS = ("meter", "appliance", "heat_pump", "ev_charger", "pv", "battery")
NAME = validate.Length(min=1, max=200)
LIMIT = validate.Range(min=0, min_inclusive=False, max=1_000_000)


class DeviceSchema(Schema):
    id = fields.String(dump_only=True)
    user_id = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    kind = fields.String(dump_only=True, metadata={"enum": list(KINDS)})
    max_hourly_kwh = fields.Float(dump_only=True)
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)
    permissions = Permissions(
        "what the caller may do with the device: update, delete, issue_credentials "
        "(absent from ems.sync events)"
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
    command_topic = fields.String(dump_only=True)


class AmqpAccessSchema(Schema):
    vhost = fields.String(dump_only=True)
    exchange = fields.String(dump_only=True)
    routing_key = fields.String(dump_only=True)


class DeviceCredentialsSchema(Schema):
    """A device's broker login, and where it may publish with it."""

    device_id = fields.String(dump_only=True)
    username = fields.String(dump_only=True)
    password = fields.String(dump_only=True)
    mqtt = fields.Nested(MqttAccessSchema, dump_only=True)
    amqp = fields.Nested(AmqpAccessSchema, dump_only=True)


class _Stripped(InputSchema):
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
    user_id = fields.String(
        validate=ID,
        metadata={"description": "owner; ADMIN only, defaults to the caller"},
    )


class DeviceUpdateSchema(_Stripped, PatchSchema):
    name = fields.String(validate=NAME)
    kind = fields.String(validate=validate.OneOf(KINDS))
    max_hourly_kwh = fields.Float(validate=LIMIT, allow_nan=False)


class DeviceListQuerySchema(InputSchema):
    user_id = fields.String(
        validate=ID, metadata={"description": "ADMIN and OPERATOR: one owner"}
    )
