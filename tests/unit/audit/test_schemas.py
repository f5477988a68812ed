"""A record as services publish it loads; filters that are not answer 400 with
their fields."""

from datetime import UTC, datetime

import pytest

from services.audit import logic
from services.audit.schemas import AuditQuerySchema, AuditRecordSchema
from services.common.audit import ACTIONS, record
from services.common.errors import ValidationFailed
from services.common.schemas import load

ADMIN = {"user_id": "0e6f3b1a-2c4d-4e5f-8a9b-0c1d2e3f4a5b", "role": "ADMIN"}
USER_ID = "7a2e9c1d-3b4f-4a5e-9c6d-7e8f9a0b1c2d"


def test_a_published_record_loads():
    message = record(
        ADMIN,
        "users.role_changed",
        "user",
        USER_ID,
        {"from": "USER", "to": "OPERATOR"},
        "203.0.113.7",
        now=datetime(2026, 12, 2, 10, 15, tzinfo=UTC),
    )
    loaded = load(AuditRecordSchema(), message)
    assert loaded["actor"] == {"id": ADMIN["user_id"], "role": "ADMIN"}
    assert loaded["object"] == {"type": "user", "id": USER_ID}
    assert loaded["at"] == datetime(2026, 12, 2, 10, 15, tzinfo=UTC)
    assert loaded["client"] == "203.0.113.7"


def test_the_platform_acts_as_no_one():
    message = record(None, "trading.settled", "settlement", "2026-12-02T09:00:00Z")
    loaded = load(AuditRecordSchema(), message)
    assert loaded["actor"] is None
    assert loaded["details"] == {}
    assert loaded["client"] is None


def test_every_action_the_platform_records_is_one():
    assert all(logic.ACTION.match(action) for action in ACTIONS)


def test_each_record_has_its_own_id():
    first, second = (record(None, "dr.event_created", "dr_event", "x") for _ in "ab")
    assert first["id"] != second["id"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"action": "Users.Role changed"}, "action"),
        ({"action": "users"}, "action"),
        ({"id": "7"}, "id"),
        ({"actor": {"id": USER_ID, "role": "KING"}}, "actor"),
        ({"details": {"text": "x" * 5000}}, "details"),
        ({"object": {"type": "user"}}, "object"),
    ],
)
def test_a_record_that_is_not_one_is_refused(change, field):
    message = record(ADMIN, "users.deleted", "user", USER_ID) | change
    with pytest.raises(ValidationFailed) as refused:
        load(AuditRecordSchema(), message)
    assert field in refused.value.details


def test_filters_load():
    query = load(
        AuditQuerySchema(),
        {
            "actor_id": USER_ID,
            "action": "devices.",
            "from": "2026-12-01T00:00:00Z",
            "to": "2026-12-02T00:00:00Z",
            "limit": "20",
        },
    )
    assert query["from_"] == datetime(2026, 12, 1, tzinfo=UTC)
    assert query["limit"] == 20
    assert load(AuditQuerySchema(), {})["limit"] == 50


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"actor_id": "me"}, "actor_id"),
        ({"action": "devices.%"}, "action"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2026-12-02T00:00:00Z", "to": "2026-12-01T00:00:00Z"}, "to"),
        ({"cursor": "nope"}, "cursor"),
        ({"object_type": "Device"}, "object_type"),
    ],
)
def test_bad_filters_name_their_fields(query, field):
    with pytest.raises(ValidationFailed) as refused:
        load(AuditQuerySchema(), query)
    assert field in refused.value.details
