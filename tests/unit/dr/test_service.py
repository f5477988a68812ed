"""dr's checks before inviting (who may, which users exist), and its load
computation, which asks other services a fixed number of times per participant,
however many devices they have."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from nameko.exceptions import RpcTimeout, UnknownService
from nameko.testing.services import worker_factory

from services.common.errors import Forbidden, ValidationFailed
from services.dr.exceptions import EventNotFound
from services.dr.service import DrService
from services.users.exceptions import UserNotFound

USER = "6f1c9d2e-0000-4000-8000-0000000000d1"
OTHER = "6f1c9d2e-0000-4000-8000-0000000000d2"
UNKNOWN = "6f1c9d2e-0000-4000-8000-0000000000d9"
EVENT = "3d1a0000-0000-4000-8000-000000000001"
OPERATOR = {"user_id": "6f1c9d2e-0000-4000-8000-0000000000f1", "role": "OPERATOR"}
FIRST = datetime(2026, 11, 20, 17, tzinfo=UTC)
LAST = datetime(2026, 11, 20, 19, tzinfo=UTC)


def rows(at_17, at_18):
    return [
        {"hour": "2026-11-20T17:00:00Z", "kwh": at_17},
        {"hour": "2026-11-20T18:00:00Z", "kwh": at_18},
    ]


def test_a_participant_s_load_takes_one_call_for_all_their_devices():
    service = worker_factory(DrService)
    devices = [{"id": f"device-{i}"} for i in range(25)]
    service.devices_rpc.devices_of.return_value = devices
    service.monitoring_rpc.hourly_series_of.return_value = {
        device["id"]: rows(0.1, 0.25) for device in devices
    }
    load = service._load(USER, FIRST, LAST)
    service.devices_rpc.devices_of.assert_called_once_with(USER)
    service.monitoring_rpc.hourly_series_of.assert_called_once_with(
        [device["id"] for device in devices],
        "2026-11-20T17:00:00Z",
        "2026-11-20T19:00:00Z",
    )
    service.monitoring_rpc.hourly_series.assert_not_called()
    assert load == {FIRST: Decimal("2.5"), FIRST.replace(hour=18): Decimal("6.25")}


def test_a_participant_without_devices_asks_monitoring_nothing():
    service = worker_factory(DrService)
    service.devices_rpc.devices_of.return_value = []
    assert service._load(USER, FIRST, LAST) == {}
    service.monitoring_rpc.hourly_series_of.assert_not_called()


# -- who may be invited --------------------------------------------------------------


def person(user_id):
    return {"id": user_id, "name": f"Name {user_id[-2:]}", "email": "x@example.com"}


def inviting(known=(USER, OTHER)):
    """A dr worker whose users service knows ``known``."""
    service = worker_factory(DrService)

    def describe_users(user_ids):
        return [person(user_id) for user_id in user_ids if user_id in known]

    service.users_rpc.describe_users.side_effect = describe_users
    return service


def test_unknown_users_are_refused_all_at_once_and_nobody_is_invited():
    service = inviting()
    with pytest.raises(UserNotFound) as caught:
        service.invite(OPERATOR, EVENT, {"user_ids": [USER, UNKNOWN, OTHER]})
    assert caught.value.details == {"user_ids": [UNKNOWN]}
    assert caught.value.message == "some users do not exist"
    service.storage.invite.assert_not_called()
    # One call for all of them, however many.
    service.users_rpc.describe_users.assert_called_once_with([USER, UNKNOWN, OTHER])


def test_staff_are_told_who_each_invited_user_is():
    service = inviting()
    rows = [{"user_id": USER, "status": "invited"}, {"user_id": UNKNOWN}]
    assert service._named(rows) == [
        {
            "user_id": USER,
            "status": "invited",
            "name": "Name d1",
            "email": "x@example.com",
        },
        {"user_id": UNKNOWN},
    ]
    service.users_rpc.describe_users.assert_called_once_with([USER, UNKNOWN])
    assert service._named([]) == []
    service.users_rpc.describe_users.assert_called_once()


@pytest.mark.parametrize(
    "failure", [RpcTimeout("describe_users"), UnknownService("users")]
)
def test_without_users_the_rows_go_unnamed(failure):
    service = worker_factory(DrService)
    service.users_rpc.describe_users.side_effect = failure
    assert service._named([{"user_id": USER}]) == [{"user_id": USER}]


def test_an_unknown_event_is_refused_before_users_are_asked():
    service = inviting()
    service.storage.get_event.side_effect = EventNotFound()
    with pytest.raises(EventNotFound):
        service.invite(OPERATOR, EVENT, {"user_ids": [UNKNOWN]})
    service.users_rpc.describe_users.assert_not_called()


def test_bad_ids_are_refused_before_anyone_is_asked():
    service = inviting()
    with pytest.raises(ValidationFailed) as caught:
        service.invite(OPERATOR, EVENT, {"user_ids": ["nope"]})
    assert "user_ids" in caught.value.details
    service.storage.get_event.assert_not_called()
    service.users_rpc.describe_users.assert_not_called()


@pytest.mark.parametrize(
    "call, arguments",
    [
        ("create_event", ({"name": "Peak"},)),
        ("cancel_event", (EVENT,)),
        ("invite", (EVENT, {"user_ids": [USER]})),
        ("flexibility", (EVENT,)),
    ],
)
def test_a_user_may_not_run_events(call, arguments):
    service = inviting()
    with pytest.raises(Forbidden):
        getattr(service, call)({"user_id": USER, "role": "USER"}, *arguments)
    service.storage.get_event.assert_not_called()
    service.storage.add_event.assert_not_called()
    service.users_rpc.describe_users.assert_not_called()


# -- dispatch -------------------------------------------------------------------------


def test_a_dispatch_sends_each_flexible_device_its_command_as_the_event():
    service = worker_factory(DrService)
    event = type("E", (), {"id": EVENT, "start": FIRST, "end": LAST})()
    service.storage.invitations.return_value = [
        type("I", (), {"user_id": USER})(),
    ]
    service.devices_rpc.devices_of.return_value = [
        {"id": "d-meter", "user_id": USER, "kind": "meter"},
        {"id": "d-load", "user_id": USER, "kind": "appliance"},
        {"id": "d-gone", "user_id": USER, "kind": "heat_pump"},
    ]

    def issue(device_id, type_name, params, ttl_s, issued_by):
        if device_id == "d-gone":
            raise ValidationFailed("invalid request", {"type": ["not taken"]})
        return {"id": f"c-{device_id}", "status": "pending"}

    service.devices_rpc.issue_command.side_effect = issue
    service._dispatch(event, FIRST)

    assert service.devices_rpc.issue_command.call_count == 2
    service.devices_rpc.issue_command.assert_any_call(
        "d-load", "switch", {"on": False}, 300, f"dr:{EVENT}"
    )
    service.batteries_rpc.list_batteries_of.assert_not_called()
    stored = [call.kwargs for call in service.storage.add_dispatch.call_args_list]
    assert [(s["device_id"], s["command_id"], s["status"]) for s in stored] == [
        ("d-load", "c-d-load", "pending"),
        ("d-gone", None, "failed"),
    ]
    service.storage.mark_dispatched.assert_called_once_with(event, FIRST)
    service.storage.commit.assert_called_once()
