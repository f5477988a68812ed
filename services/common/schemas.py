"""Loading input with a marshmallow schema, the one way for every service."""

import uuid

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from services.common.errors import ValidationFailed
from services.common.topology import iso_utc

#: Object ids are UUIDs in their canonical text form.
ID = validate.Regexp(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    error="not a valid id",
)


def is_id(value) -> bool:
    """Whether ``value`` can be an object id at all (and so worth a query)."""
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value
    except ValueError:
        return False


def load(schema: Schema, data, **options) -> dict:
    """``schema.load(data)``; ``ValidationFailed`` with per-field details if bad."""
    if not isinstance(data, dict) and not options.get("many"):
        raise ValidationFailed(
            "the body must be a JSON object", {"_schema": ["expected a JSON object"]}
        )
    try:
        return schema.load(data, **options)
    except ValidationError as exc:
        raise ValidationFailed("invalid request", exc.normalized_messages()) from exc


class InputSchema(Schema):
    """Base of every schema that loads input: text may not carry NUL characters,
    which PostgreSQL cannot store."""

    @pre_load
    def refuse_nul(self, data, **kwargs):
        if isinstance(data, dict):
            bad = {
                key: ["must not contain NUL characters"]
                for key, value in data.items()
                if isinstance(value, str) and "\x00" in value
            }
            if bad:
                raise ValidationError(bad)
        return data


class PatchSchema(InputSchema):
    """A partial update: every field optional, but at least one given."""

    @validates_schema
    def not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("give at least one field to change")


class UtcDateTime(fields.AwareDateTime):
    """A datetime on the wire: ISO-8601 UTC with a ``Z``, ``2026-11-22T10:00:00Z``."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else iso_utc(value)


class Kwh(fields.Float):
    """Energy as a JSON number, to the micro-kWh it is stored with."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else round(float(value), 6)
