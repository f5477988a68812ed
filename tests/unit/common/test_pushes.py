"""The catalogue of browser messages and the ``Pusher`` that publishes them."""

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest

from services.common import pushes
from services.common.messaging import Pusher
from services.common.pushes import CATALOGUE, InvalidPush
from services.common.topology import WS

NOW = datetime(2026, 11, 22, 10, 15, tzinfo=UTC)
OVER = SimpleNamespace(
    user_id="u1",
    device_id="d1",
    hour=datetime(2026, 11, 22, 10, tzinfo=UTC),
    kwh=Decimal("0.7"),
    limit_kwh=Decimal("0.5"),
    reason="hourly",
)


class FakePublisher:
    def __init__(self):
        self.published = []

    def publish(self, message, extra_headers, routing_key):
        self.published.append((routing_key, message))


@pytest.fixture
def pusher():
    provider = Pusher()
    provider.publisher = FakePublisher()
    push = provider.get_dependency(SimpleNamespace(context_data={}))
    return push, provider.publisher.published


def test_each_type_is_declared_once_under_its_name():
    assert sorted(CATALOGUE) == [
        "alarm.created",
        "alarm.updated",
        "battery.state",
        "chat.message",
        "command.accepted",
        "command.refused",
        "command.updated",
        "consumption.updated",
        "device.status",
        "dr.event",
        "overconsumption",
        "session.ended",
        "support.alert",
        "trade.executed",
    ]
    assert all(push.to_user or push.roles for push in CATALOGUE.values())


def test_a_push_goes_to_each_user_named_and_each_role_declared(pusher):
    push, published = pusher
    message = SimpleNamespace(
        id="m1", user_id="u1", author="user", text="hi", created_at=NOW
    )
    push(pushes.CHAT_MESSAGE, message, "u1", now=NOW)
    expected = {
        "type": "chat.message",
        "data": {
            "id": "m1",
            "user_id": "u1",
            "author": "user",
            "text": "hi",
            "created_at": "2026-11-22T10:15:00Z",
        },
        "ts": "2026-11-22T10:15:00Z",
    }
    assert published == [
        ("user.u1.chat.message", expected),
        ("role.VIEWER.chat.message", expected),
        ("role.ADMIN.chat.message", expected),
    ]


def test_staff_pushes_reach_viewer_to_read_and_not_to_act_on():
    assert "VIEWER" in pushes.CHAT_MESSAGE.roles
    assert "VIEWER" in pushes.DR_EVENT.roles
    assert "VIEWER" not in pushes.SUPPORT_ALERT.roles


def test_one_message_for_several_users_and_none_of_the_roles(pusher):
    push, published = pusher
    push(pushes.OVERCONSUMPTION, OVER, "u1", "u2", roles=())
    assert [key for key, _ in published] == [
        "user.u1.overconsumption",
        "user.u2.overconsumption",
    ]
    (_, first), (_, second) = published
    assert first is second
    assert first["data"] == {
        "device_id": "d1",
        "hour": "2026-11-22T10:00:00Z",
        "kwh": 0.7,
        "limit_kwh": 0.5,
        "reason": "hourly",
    }
    assert first["ts"].endswith("Z")


def test_a_device_status_goes_to_its_owner_whole(pusher):
    from services.monitoring.status import DeviceStatus

    push, published = pusher
    offline = DeviceStatus("d1", "u1", 60, online=False, since=NOW, last_seen=NOW)
    push(pushes.DEVICE_STATUS, offline, offline.user_id)
    [(key, message)] = published
    assert key == "user.u1.device.status"
    assert message["data"] == {
        "device_id": "d1",
        "online": False,
        "since": "2026-11-22T10:15:00Z",
        "last_seen": "2026-11-22T10:15:00Z",
        "reading_interval_s": 60,
        "power_w": None,
        "power_at": None,
        "soc_kwh": None,
        "soc_at": None,
    }


def test_a_role_message_names_no_user(pusher):
    push, published = pusher
    alert = {"user_id": "u1", "message_id": "m1", "text": "?", "reason": "unanswered"}
    push(pushes.SUPPORT_ALERT, alert)
    assert [key for key, _ in published] == ["role.ADMIN.support.alert"]


def test_an_optional_field_left_out_stays_out():
    assert pushes.SESSION_ENDED.message({"reason": "expired"}, NOW) == {
        "type": "session.ended",
        "data": {"reason": "expired"},
        "ts": "2026-11-22T10:15:00Z",
    }
    logout = pushes.SESSION_ENDED.data({"reason": "logout", "jti": "j1"})
    assert logout == {"reason": "logout", "jti": "j1"}


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"device_id": "d1", "kwh": 1}, "overconsumption without hour, limit_kwh"),
        (vars(OVER) | {"kwh": "lots"}, "ValueError"),
        (vars(OVER) | {"hour": "10:00"}, "AttributeError"),
    ],
)
def test_a_payload_its_schema_cannot_dump_is_refused(pusher, payload, error):
    push, published = pusher
    with pytest.raises(InvalidPush, match=error):
        push(pushes.OVERCONSUMPTION, payload, "u1")
    assert published == []


@pytest.mark.parametrize(
    ("kind", "user_ids", "roles", "error"),
    [
        (pushes.OVERCONSUMPTION, (), None, "none was named"),
        (pushes.SUPPORT_ALERT, ("u1",), None, "roles only"),
        (pushes.CHAT_MESSAGE, ("u1",), ("USER",), "not for USER"),
        (pushes.DR_EVENT, ("u1",), ("OPERATOR", "ROOT"), "not for ROOT"),
    ],
)
def test_an_audience_the_type_does_not_have_is_refused(kind, user_ids, roles, error):
    with pytest.raises(InvalidPush, match=error):
        kind.routing_keys(user_ids, roles)


def test_pushes_are_published_to_ems_ws_persistent_and_confirmed():
    provider = Pusher()
    assert provider.exchange is WS
    # Nameko's publisher is persistent and confirmed unless told otherwise.
    assert not {"delivery_mode", "use_confirms"} & provider.options.keys()
    assert provider.publisher_cls.delivery_mode == 2
    assert provider.publisher_cls.use_confirms is True


def test_the_web_apps_copy_is_what_the_catalogue_generates():
    assert pushes.JAVASCRIPT.read_text() == pushes.javascript(), (
        "run python -m services.common.pushes"
    )
    assert pushes.main(["--check"]) == 0
