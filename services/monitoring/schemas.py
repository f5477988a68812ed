"""How monitoring's reports and notifications travel, and the queries they take."""

from marshmallow import Schema, fields, validate

from services.common.schemas import ID, InputSchema, Kwh, UtcDateTime


class ConsumptionQuerySchema(InputSchema):
    device_id = fields.String(required=True, validate=ID)
    date = fields.Date(required=True, metadata={"description": "UTC day, YYYY-MM-DD"})


class HourSchema(Schema):
    hour = UtcDateTime()
    kwh = Kwh()


class ConsumptionDaySchema(Schema):
    device_id = fields.String()
    date = fields.Date()
    unit = fields.Constant("kWh")
    hours = fields.List(fields.Nested(HourSchema))
    total_kwh = Kwh()


class NotificationQuerySchema(InputSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class NotificationSchema(Schema):
    id = fields.String()
    device_id = fields.String()
    hour = UtcDateTime()
    kwh = Kwh()
    limit_kwh = Kwh()
    reason = fields.String(metadata={"enum": ["reading", "hourly"]})
    created_at = UtcDateTime()


class OverconsumptionSchema(Schema):
    """``data`` of the ``overconsumption`` message pushed over ``/ws``."""

    device_id = fields.String()
    hour = UtcDateTime()
    kwh = Kwh()
    limit_kwh = Kwh()
    reason = fields.String()
