"""Loading input: whatever arrives, the answer is a value or a 400 naming the field."""

import importlib
import pkgutil
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import Schema, fields

import services
import services.auth.schemas
from services.common.errors import ValidationFailed
from services.common.schemas import Day, InputSchema, UtcDateTime, load, unstorable

BAD_TEXT = "must not contain NUL characters or lone surrogates"


class Thing(InputSchema):
    name = fields.String()
    tags = fields.List(fields.String())
    day = Day()
    at = UtcDateTime()


def refusal(data, schema=None) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        load(schema or Thing(), data)
    return caught.value.details


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "x\udfff", "\udc00\ud800"])
def test_unstorable_text_is_refused_at_any_depth(text):
    assert refusal({"name": text}) == {"name": [BAD_TEXT]}
    assert refusal({"tags": ["ok", text]}) == {"tags": [BAD_TEXT]}
    assert refusal({text: "ok"}) == {"_schema": [BAD_TEXT]}


def test_paired_surrogates_are_just_text():
    assert load(Thing(), {"name": "\U0001f50b battery"}) == {"name": "🔋 battery"}
    assert not unstorable({"a": ["b", {"c": "d"}]})


@pytest.mark.parametrize(
    "day", ["9999-12-31", "3000-01-01", "1969-12-31", "0001-01-01"]
)
def test_far_days_are_refused(day):
    assert refusal({"day": day}) == {"day": ["must be in the years 1970 to 2999"]}


def test_days_in_range_load():
    assert load(Thing(), {"day": "2999-12-31"})["day"] == date(2999, 12, 31)
    assert load(Thing(), {"day": "1970-01-01"})["day"] == date(1970, 1, 1)


@pytest.mark.parametrize(
    "moment",
    ["9999-12-31T23:00:00Z", "0001-01-01T00:00:00+01:00", "1969-12-31T23:59:59Z"],
)
def test_far_moments_are_refused(moment):
    assert refusal({"at": moment}) == {"at": ["must be in the years 1970 to 2999"]}


def test_moments_in_range_load():
    assert load(Thing(), {"at": "2026-11-22T10:00:00Z"})["at"] == datetime(
        2026, 11, 22, 10, tzinfo=UTC
    )


def test_login_checks_the_email_as_auth_will_use_it():
    # "İ".lower() is two characters: 200 of them become 400, past the limit.
    schema = services.auth.schemas.LoginSchema()
    assert refusal({"email": "İ" * 200, "password": "x"}, schema) == {
        "email": ["Length must be between 1 and 254."]
    }
    assert load(schema, {"email": " Ada@Example.com ", "password": "x"}) == {
        "email": "ada@example.com",
        "password": "x",
    }


def input_schemas() -> list[type[Schema]]:
    """Every schema that loads input, from every service and the gateway."""
    for module in pkgutil.walk_packages(services.__path__, "services."):
        if module.name.endswith(".schemas"):
            importlib.import_module(module.name)
    found, pending = set(), [InputSchema]
    while pending:
        schema = pending.pop()
        pending.extend(schema.__subclasses__())
        if schema.__module__ != __name__ and not schema.__name__.startswith("_"):
            found.add(schema)
    return sorted(found, key=lambda schema: schema.__name__)


SCHEMAS = input_schemas()

#: Values chosen to break parsers: far dates, huge and odd numbers, hostile text.
HOSTILE = st.sampled_from(
    [
        "9999-12-31",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-14:00",
        "2026-11-22T10:00:00Z",
        "2026-11-22",
        "\ud800",
        "a\x00",
        "İ" * 200,
        "1e400",
        "-0",
        "NaN",
        "Infinity",
        "9" * 5000,
        10**30,
        -(10**30),
        2**63,
        1e308,
        -1e308,
        5e-324,
        "3f1c0000-0000-0000-0000-000000000000",
    ]
)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | HOSTILE,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda schema: schema.__name__)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_input_is_a_value_or_a_validation_error(schema, data):
    names = sorted(schema().load_fields) or ["x"]
    body = data.draw(
        st.dictionaries(st.sampled_from(names) | st.text(max_size=8), JSONISH) | JSONISH
    )
    try:
        load(schema(), body)
    except ValidationFailed:
        pass


def test_every_service_has_its_input_schemas_checked():
    names = {schema.__name__ for schema in SCHEMAS}
    assert {"LoginSchema", "RegisterSchema", "ConsumptionQuerySchema"} <= names
    assert len(names) > 20
