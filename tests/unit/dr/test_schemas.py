"""What a demand-response request may say: bad input is a 400 naming each field."""

from datetime import UTC, datetime

import pytest

from services.common.errors import ValidationFailed
from services.common.http import error_response
from services.common.schemas import load
from services.dr.schemas import DrEventCreateSchema, DrInvitationsSchema

NOW = datetime(2026, 11, 22, 19, 15, tzinfo=UTC)
USER_ID = "6f1c9d2e-0000-4000-8000-0000000000aa"
OTHER_ID = "6f1c9d2e-0000-4000-8000-0000000000ab"
GOOD = {
    "name": "  Evening peak ",
    "start": "2026-11-23T17:00:00Z",
    "end": "2026-11-23T19:00:00+00:00",
    "target_reduction_kw": 50,
    "incentive_per_kwh": 0.3,
}


def create(data):
    return load(DrEventCreateSchema(now=NOW), data)


def test_a_good_event_loads_and_dumps_back_to_the_wire():
    data = create(GOOD)
    assert data["name"] == "Evening peak"
    assert data["start"] == datetime(2026, 11, 23, 17, tzinfo=UTC)
    assert DrEventCreateSchema().dump(data) == {
        "name": "Evening peak",
        "start": "2026-11-23T17:00:00Z",
        "end": "2026-11-23T19:00:00Z",
        "target_reduction_kw": 50.0,
        "incentive_per_kwh": 0.3,
    }


@pytest.mark.parametrize(
    "changes, fields",
    [
        ({"end": "2026-11-23T17:00:00Z"}, {"end"}),
        ({"end": "2026-11-23T16:00:00Z"}, {"end"}),
        (
            {"start": "2026-11-22T18:00:00Z", "end": "2026-11-22T20:00:00Z"},
            {"start"},
        ),
        (
            {"start": "2026-11-22T18:00:00Z", "end": "2026-11-22T17:00:00Z"},
            {"start", "end"},
        ),
        ({"end": "2026-11-24T18:00:00Z"}, {"end"}),
        ({"start": "2026-11-23T17:30:00Z"}, {"start"}),
        ({"start": "2026-11-23T17:00:00"}, {"start"}),
        ({"start": "tomorrow"}, {"start"}),
        ({"target_reduction_kw": -5}, {"target_reduction_kw"}),
        ({"target_reduction_kw": 0}, {"target_reduction_kw"}),
        ({"target_reduction_kw": "NaN"}, {"target_reduction_kw"}),
        ({"incentive_per_kwh": -0.1}, {"incentive_per_kwh"}),
        ({"name": "   "}, {"name"}),
        ({"name": "a\x00b"}, {"name"}),
        ({"status": "finished"}, {"status"}),
    ],
    ids=[
        "end at start",
        "end before start",
        "past start",
        "past and backwards",
        "over 24 hours",
        "not a whole hour",
        "no time zone",
        "not a time",
        "negative target",
        "zero target",
        "NaN target",
        "negative incentive",
        "blank name",
        "NUL",
        "unknown field",
    ],
)
def test_bad_events_are_refused_with_details(changes, fields):
    with pytest.raises(ValidationFailed) as caught:
        create(dict(GOOD, **changes))
    assert set(caught.value.details) == fields


def test_every_missing_field_is_named():
    with pytest.raises(ValidationFailed) as caught:
        create({})
    assert set(caught.value.details) == set(GOOD)


def test_the_refusal_is_a_400_with_the_details():
    with pytest.raises(ValidationFailed) as caught:
        create(
            dict(
                GOOD,
                start="2026-11-22T18:00:00Z",
                end="2026-11-22T20:00:00Z",
                target_reduction_kw=-1,
            )
        )
    response = error_response(caught.value)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "VALIDATION_ERROR"
    assert body["details"] == {
        "start": ["must be in the future"],
        "target_reduction_kw": [
            "Must be greater than 0 and less than or equal to 1000000."
        ],
    }


def test_invitations_name_users_once():
    data = load(DrInvitationsSchema(), {"user_ids": [USER_ID, OTHER_ID, USER_ID]})
    assert data == {"user_ids": [USER_ID, OTHER_ID]}


@pytest.mark.parametrize(
    "data",
    [
        {"user_ids": []},
        {"user_ids": ["not-an-id"]},
        {"user_ids": USER_ID},
        {"user_ids": [USER_ID] * 501},
        {},
    ],
    ids=["empty", "bad id", "not a list", "too many", "missing"],
)
def test_bad_invitations_are_refused(data):
    with pytest.raises(ValidationFailed) as caught:
        load(DrInvitationsSchema(), data)
    assert "user_ids" in caught.value.details
