"""How alarms, their rules and notification preferences travel, and the queries and
bodies they take."""

import re

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from services.alarms.logic import SEVERITIES, TYPES
from services.common.schemas import (
    ID,
    InputSchema,
    PatchSchema,
    Permissions,
    UtcDateTime,
)

STATUSES = ("any", "active", "cleared", "ack", "unack")
CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
MAX_COMMENT = 500
MAX_NAME = 200


class Person(Schema):
    id = fields.String()
    name = fields.String()


class OriginatorSchema(Schema):
    type = fields.String(metadata={"enum": ["device", "site"]})
    id = fields.String()
    name = fields.String()


class AlarmSchema(Schema):
    """An alarm: ``data`` of ``alarm.created`` and ``alarm.updated`` too."""

    id = fields.String()
    type = fields.String(metadata={"enum": list(TYPES)})
    severity = fields.String(metadata={"enum": list(SEVERITIES)})
    originator = fields.Nested(OriginatorSchema)
    device_id = fields.String(allow_none=True)
    site_id = fields.String(allow_none=True)
    rule_id = fields.String(
        allow_none=True,
        metadata={
            "description": "the rule whose condition decided it (the most severe)"
        },
    )
    status = fields.String(metadata={"enum": ["active", "cleared"]})
    acknowledged = fields.Boolean()
    started_at = UtcDateTime()
    ended_at = UtcDateTime(allow_none=True)
    updated_at = UtcDateTime()
    value = fields.Float(
        allow_none=True, metadata={"description": "the newest value measured, in unit"}
    )
    threshold = fields.Float(allow_none=True)
    unit = fields.String(allow_none=True, metadata={"enum": ["kWh", "W", "min", "%"]})
    message = fields.String()
    acknowledged_by = fields.Nested(Person, allow_none=True)
    acknowledged_at = UtcDateTime(allow_none=True)
    cleared_by = fields.Nested(
        Person,
        allow_none=True,
        metadata={
            "description": "who cleared it; null while active, or when its "
            "condition ended"
        },
    )
    comment = fields.String(allow_none=True)
    permissions = Permissions("acknowledge, clear")


class AlarmPageSchema(Schema):
    alarms = fields.List(fields.Nested(AlarmSchema))
    next = fields.String(
        allow_none=True,
        metadata={"description": "pass as `before` for the next page; null: no more"},
    )


class AlarmSummarySchema(Schema):
    active = fields.Integer()
    unacknowledged = fields.Integer(
        metadata={"description": "active alarms nobody acknowledged"}
    )
    by_severity = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "active"},
    )


class Severities(fields.String):
    """Severities, comma-separated (``critical,major``), loaded as a list."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        chosen = [part.strip() for part in text.split(",") if part.strip()]
        if not chosen or any(part not in SEVERITIES for part in chosen):
            raise ValidationError(f"comma-separated, of {', '.join(SEVERITIES)}")
        return chosen


class AlarmQuerySchema(InputSchema):
    status = fields.String(load_default="any", validate=validate.OneOf(STATUSES))
    severity = Severities(load_default=None)
    site_id = fields.String(validate=ID, load_default=None)
    device_id = fields.String(validate=ID, load_default=None)
    type = fields.String(validate=validate.OneOf(list(TYPES)), load_default=None)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    before = fields.String(
        validate=ID,
        load_default=None,
        metadata={"description": "the `next` of the previous page"},
    )


class AlarmActionSchema(InputSchema):
    comment = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=MAX_COMMENT),
    )


class RuleSchema(Schema):
    id = fields.String(dump_only=True)
    name = fields.String()
    type = fields.String(metadata={"enum": list(TYPES)})
    severity = fields.String(metadata={"enum": list(SEVERITIES)})
    enabled = fields.Boolean()
    device_id = fields.String(allow_none=True)
    room_id = fields.String(allow_none=True)
    site_id = fields.String(allow_none=True)
    kind = fields.String(allow_none=True)
    threshold = fields.Float(
        allow_none=True,
        metadata={
            "description": "energy_over: kWh in an hour; power_over: W; "
            "generation_below_forecast: % below the forecast; soc_below: % of "
            "capacity; null for offline and no_reading"
        },
    )
    duration_min = fields.Integer(
        allow_none=True,
        metadata={"description": "power_over, offline, no_reading: minutes"},
    )
    device_limit = fields.Boolean(
        metadata={
            "description": "the rule of a device's own max_hourly_kwh: its "
            "threshold follows the device, it cannot be deleted"
        }
    )
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    permissions = Permissions("update, delete")


def check_shape(data: dict, errors: dict) -> None:
    """Threshold and duration as the rule's type wants them."""
    kind = TYPES.get(data.get("type"))
    if kind is None:
        return
    threshold, duration = data.get("threshold"), data.get("duration_min")
    if kind.unit is None:
        if threshold is not None:
            errors["threshold"] = [f"{kind.name} takes no threshold"]
    elif threshold is None:
        errors["threshold"] = [f"{kind.name} needs a threshold in {kind.unit}"]
    elif not kind.minimum <= threshold <= kind.maximum:
        errors["threshold"] = [f"from {kind.minimum} to {kind.maximum} {kind.unit}"]
    if kind.duration and duration is None:
        errors["duration_min"] = [f"{kind.name} needs duration_min"]
    if not kind.duration and duration is not None:
        errors["duration_min"] = [f"{kind.name} takes no duration_min"]


class RuleCreateSchema(InputSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=MAX_NAME))
    type = fields.String(required=True, validate=validate.OneOf(list(TYPES)))
    severity = fields.String(load_default="major", validate=validate.OneOf(SEVERITIES))
    enabled = fields.Boolean(load_default=True)
    device_id = fields.String(validate=ID, load_default=None, allow_none=True)
    room_id = fields.String(validate=ID, load_default=None, allow_none=True)
    site_id = fields.String(validate=ID, load_default=None, allow_none=True)
    kind = fields.String(
        validate=validate.Length(min=1, max=32), load_default=None, allow_none=True
    )
    threshold = fields.Decimal(
        load_default=None, allow_none=True, places=6, allow_nan=False
    )
    duration_min = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=7 * 24 * 60),
    )

    @validates_schema
    def one_scope(self, data, **kwargs):
        errors = {}
        scopes = [key for key in ("device_id", "room_id") if data.get(key)]
        if len(scopes) > 1:
            errors["room_id"] = ["a rule is on a device or on a room, not both"]
        elif scopes and (data.get("site_id") or data.get("kind")):
            errors[scopes[0]] = ["a device's or a room's rule takes no site_id or kind"]
        elif not scopes and not data.get("site_id") and not data.get("kind"):
            errors["device_id"] = [
                "give a device_id, a room_id, a site_id (and maybe a kind) or a kind"
            ]
        check_shape(data, errors)
        if errors:
            raise ValidationError(errors)


class RuleUpdateSchema(PatchSchema):
    """What a rule's PATCH may change: not where it applies, nor its type."""

    name = fields.String(validate=validate.Length(min=1, max=MAX_NAME))
    severity = fields.String(validate=validate.OneOf(SEVERITIES))
    enabled = fields.Boolean()
    threshold = fields.Decimal(allow_none=True, places=6, allow_nan=False)
    duration_min = fields.Integer(
        allow_none=True, validate=validate.Range(min=1, max=7 * 24 * 60)
    )


class RuleQuerySchema(InputSchema):
    device_id = fields.String(validate=ID, load_default=None)
    site_id = fields.String(validate=ID, load_default=None)


class QuietHoursSchema(InputSchema):
    start = fields.String(required=True, validate=validate.Regexp(CLOCK, error="HH:MM"))
    end = fields.String(required=True, validate=validate.Regexp(CLOCK, error="HH:MM"))

    @validates_schema
    def different_ends(self, data, **kwargs):
        if data.get("start") and data.get("start") == data.get("end"):
            raise ValidationError("start and end must differ", "end")


class DigestSchema(InputSchema):
    enabled = fields.Boolean(required=True)
    hour = fields.Integer(load_default=8, validate=validate.Range(min=0, max=23))


class PreferencesSchema(InputSchema):
    """A user's notification preferences; quiet hours and the digest's hour are
    on their account's clock."""

    app_severities = fields.List(
        fields.String(validate=validate.OneOf(SEVERITIES)), required=True
    )
    email_severities = fields.List(
        fields.String(validate=validate.OneOf(SEVERITIES)), required=True
    )
    quiet_hours = fields.Nested(QuietHoursSchema, allow_none=True, load_default=None)
    digest = fields.Nested(DigestSchema, required=True)
