"""Loading input with a marshmallow schema, the one way for every service."""

from marshmallow import Schema, ValidationError, validates_schema

from services.common.errors import ValidationFailed


def load(schema: Schema, data, **options) -> dict:
    """``schema.load(data)``, failing with ``ValidationFailed`` and per-field details."""
    if not isinstance(data, dict) and not options.get("many"):
        raise ValidationFailed(
            "the body must be a JSON object", {"_schema": ["expected a JSON object"]}
        )
    try:
        return schema.load(data, **options)
    except ValidationError as exc:
        raise ValidationFailed("invalid request", exc.normalized_messages()) from exc


class PatchSchema(Schema):
    """A partial update: every field optional, but at least one given."""

    @validates_schema
    def not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("give at least one field to change")
