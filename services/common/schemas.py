"""Loading input with a marshmallow schema, the one way for every service."""

import re
import uuid
from datetime import UTC, datetime

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


#: What text may not carry: NUL, and UTF-16 surrogates on their own (JSON's
#: ``"\ud800"``), neither of which PostgreSQL (or UTF-8) can store.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
#: Dates and times taken as input lie in ``[EARLIEST, LATEST)``: anything outside is
#: a mistake, and staying far from year 9999 keeps date arithmetic (the next day,
#: the next hour) from overflowing.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
OUT_OF_RANGE = f"must be in the years {EARLIEST.year} to {LATEST.year - 1}"


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


def unstorable(value) -> bool:
    """Whether ``value`` holds, at any depth, text that PostgreSQL cannot store."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


class InputSchema(Schema):
    """Base of every schema that loads input: text may not carry NUL characters or
    lone UTF-16 surrogates, which PostgreSQL cannot store."""

    @pre_load
    def refuse_unstorable(self, data, **kwargs):
        if isinstance(data, dict):
            bad = {
                key if not unstorable(key) else "_schema": [
                    "must not contain NUL characters or lone surrogates"
                ]
                for key, value in data.items()
                if unstorable(key) or unstorable(value)
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
    """A datetime on the wire: ISO-8601 UTC with a ``Z``, ``2026-11-22T10:00:00Z``.
    Input must lie between ``EARLIEST`` and ``LATEST``."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else iso_utc(value)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            in_range = EARLIEST <= moment.astimezone(UTC) < LATEST
        except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1
            in_range = False
        if not in_range:
            raise ValidationError(OUT_OF_RANGE)
        return moment


class Day(fields.Date):
    """A calendar day, ``2026-11-22``, between ``EARLIEST`` and ``LATEST``."""

    def _deserialize(self, value, attr, data, **kwargs):
        day = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST.date() <= day < LATEST.date():
            raise ValidationError(OUT_OF_RANGE)
        return day


class Kwh(fields.Float):
    """Energy as a JSON number, to the micro-kWh it is stored with."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else round(float(value), 6)


class Permissions(fields.Dict):
    """``{action: bool}``: what the caller may do with the object answered
    (``services.common.policy.permissions``), for the web app to show only the
    actions that work. ``description`` names the actions."""

    def __init__(self, description: str, **kwargs):
        super().__init__(
            keys=fields.String(),
            values=fields.Boolean(),
            dump_only=True,
            metadata={"description": description},
            **kwargs,
        )
