"""The audit log's records as they arrive, as they are listed, and its filters."""

import json

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.audit import logic
from services.common.policy import ROLES
from services.common.schemas import ID, InputSchema, UtcDateTime

#: The most records one page lists, and how many unless asked.
MAX_LIMIT = 500
DEFAULT_LIMIT = 50
#: A record's ``details`` stay small: what changed, not the object.
MAX_DETAILS_BYTES = 4096


class ActorSchema(InputSchema):
    id = fields.String(required=True, validate=ID)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class ObjectSchema(InputSchema):
    type = fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,31}$"),
        metadata={"description": "user, device, site, dr_event, settlement, alarm…"},
    )
    id = fields.String(required=True, validate=validate.Length(min=1, max=64))


def _small(details: dict) -> None:
    if len(json.dumps(details)) > MAX_DETAILS_BYTES:
        raise ValidationError(f"at most {MAX_DETAILS_BYTES} bytes of JSON")


class AuditRecordSchema(InputSchema):
    """One record as ``audit.recorded`` carries it (``services.common.audit``)."""

    id = fields.String(required=True, validate=ID)
    at = UtcDateTime(required=True)
    actor = fields.Nested(ActorSchema, required=True, allow_none=True)
    action = fields.String(
        required=True,
        validate=[validate.Length(max=64), validate.Regexp(logic.ACTION)],
    )
    object = fields.Nested(ObjectSchema, required=True)
    details = fields.Dict(keys=fields.String(), load_default=dict, validate=_small)
    client = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=64)
    )


class Cursor(fields.String):
    """The next page's cursor, as a listing gave it: ``(at, id)``."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return logic.parse_cursor(text)
        except ValueError as exc:
            raise ValidationError("not a cursor of this listing") from exc


class AuditQuerySchema(InputSchema):
    """``GET /api/audit``: each filter given narrows the records; newest first."""

    actor_id = fields.String(
        validate=ID, metadata={"description": "only what this user did"}
    )
    action = fields.String(
        validate=[validate.Length(max=64), validate.Regexp(logic.ACTION_FILTER)],
        metadata={
            "description": "an action (``users.role_changed``), or every action "
            "under a prefix ending with a dot (``devices.``)"
        },
    )
    object_type = fields.String(
        validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,31}$"),
        metadata={"description": "only records about objects of this type"},
    )
    object_id = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "only records about this object"},
    )
    from_ = UtcDateTime(
        data_key="from", metadata={"description": "records at or after this time"}
    )
    to = UtcDateTime(metadata={"description": "records before this time"})
    limit = fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"records per page, 1 to {MAX_LIMIT}"},
    )
    cursor = Cursor(
        metadata={"description": "the ``next`` of the previous page, for the next"}
    )

    @validates_schema
    def ordered(self, data, **kwargs):
        if "from_" in data and "to" in data and data["from_"] >= data["to"]:
            raise ValidationError({"to": ["must be after from"]})


class ActorViewSchema(Schema):
    id = fields.String()
    role = fields.String(metadata={"enum": list(ROLES)})


class ObjectViewSchema(Schema):
    type = fields.String()
    id = fields.String()


class AuditEntrySchema(Schema):
    """One record of the audit log."""

    id = fields.String()
    at = UtcDateTime()
    actor = fields.Nested(
        ActorViewSchema,
        allow_none=True,
        metadata={"description": "who did it; null: the platform itself"},
    )
    action = fields.String()
    object = fields.Nested(ObjectViewSchema)
    details = fields.Dict()
    client = fields.String(
        allow_none=True, metadata={"description": "the caller's address, if known"}
    )


class AuditPageSchema(Schema):
    records = fields.List(fields.Nested(AuditEntrySchema))
    next = fields.String(
        allow_none=True,
        metadata={"description": "the cursor of the next page; null on the last"},
    )
