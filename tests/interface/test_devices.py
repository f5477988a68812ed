"""devices in its container, on a real broker and a real database."""

import eventlet
import pytest
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy

from harness.clients import (
    MqttDevice,
    assert_locked_out_when_replaced_and_deleted,
    can_connect,
)
from harness.polling import eventually
from services.common.errors import Forbidden
from services.common.topology import DATA, SYNC
from services.devices.exceptions import (
    DeviceKindLocked,
    DeviceLimitReached,
    DeviceNotFound,
)
from services.devices.service import DevicesService
from services.users.exceptions import UserNotFound

pytestmark = pytest.mark.usefixtures("clean_databases")

OWNER = {"user_id": "6f1c9d2e-0000-4000-8000-000000000001", "role": "USER"}
OTHER = {"user_id": "6f1c9d2e-0000-4000-8000-000000000002", "role": "USER"}
OPERATOR = {"user_id": "o-1", "role": "OPERATOR"}
ADMIN = {"user_id": "a-1", "role": "ADMIN"}


class FakeUsers:
    """users' ``describe_user``, knowing OWNER and OTHER."""

    name = "users"

    @rpc(expected_exceptions=UserNotFound)
    def describe_user(self, user_id):
        if user_id not in (OWNER["user_id"], OTHER["user_id"]):
            raise UserNotFound()
        return {"id": user_id}


class FakeTrading:
    """trading's ``device_commitments``, answering from ``commitments``."""

    name = "trading"
    commitments: dict[str, dict] = {}
    asked: list[str] = []

    @rpc
    def device_commitments(self, device_id):
        FakeTrading.asked.append(device_id)
        return FakeTrading.commitments.get(
            device_id, {"open_orders": 0, "unsettled_trades": 0}
        )


@pytest.fixture
def config(container_factory, service_config):
    settings = service_config(
        "devices", DEVICES={"default_max_hourly_kwh": 0.5}, RPC_TIMEOUT=5
    )
    container_factory(DevicesService, settings).start()
    FakeTrading.commitments, FakeTrading.asked = {}, []
    container_factory(FakeTrading, settings).start()
    container_factory(FakeUsers, settings).start()
    return settings


@pytest.fixture
def devices_rpc(config):
    with ServiceRpcProxy("devices", config) as proxy:
        yield proxy


def publish(config, routing_key, payload):
    from kombu import Connection

    with Connection(config["AMQP_URI"]) as connection:
        connection.Producer().publish(
            payload,
            exchange=SYNC,
            routing_key=routing_key,
            declare=[SYNC],
            serializer="json",
        )


def test_devices_belong_to_their_owner(devices_rpc):
    device = devices_rpc.create_device(OWNER, {"name": "Kitchen", "kind": "appliance"})
    assert device["user_id"] == OWNER["user_id"] and device["max_hourly_kwh"] == 0.5
    assert devices_rpc.get_device(OWNER, device["id"])["name"] == "Kitchen"
    assert devices_rpc.get_device(OPERATOR, device["id"])["id"] == device["id"]
    with pytest.raises(DeviceNotFound):
        devices_rpc.get_device(OTHER, device["id"])
    with pytest.raises(DeviceNotFound):
        devices_rpc.update_device(OTHER, device["id"], {"name": "Mine"})
    with pytest.raises(DeviceNotFound):
        devices_rpc.delete_device(OPERATOR, device["id"])
    assert devices_rpc.list_devices(OTHER) == []
    assert len(devices_rpc.list_devices(ADMIN)) == 1


def test_another_service_asks_for_a_user_s_devices(devices_rpc):
    kitchen = devices_rpc.create_device(OWNER, {"name": "Kitchen", "kind": "appliance"})
    devices_rpc.create_device(OTHER, {"name": "Roof", "kind": "pv"})
    meter = devices_rpc.create_device(OWNER, {"name": "Meter", "kind": "meter"})
    mine = devices_rpc.devices_of(OWNER["user_id"])
    assert [device["id"] for device in mine] == [kitchen["id"], meter["id"]]
    assert devices_rpc.devices_of("6f1c9d2e-0000-4000-8000-0000000000ff") == []


def test_only_admin_creates_for_someone_else(devices_rpc):
    with pytest.raises(Forbidden):
        devices_rpc.create_device(
            OWNER, {"name": "X", "kind": "pv", "user_id": OTHER["user_id"]}
        )
    device = devices_rpc.create_device(
        ADMIN, {"name": "X", "kind": "pv", "user_id": OTHER["user_id"]}
    )
    assert device["user_id"] == OTHER["user_id"]


def test_changes_are_published(devices_rpc, listen):
    events = listen(SYNC, "device.*")
    device = devices_rpc.create_device(
        OWNER, {"name": "Heat pump", "kind": "heat_pump", "max_hourly_kwh": 2.5}
    )
    devices_rpc.update_device(
        OWNER,
        device["id"],
        {
            "max_hourly_kwh": 3.0,
            "reading_interval_s": 900,
            "latitude": -33.9,
            "longitude": 18.4,
        },
    )
    devices_rpc.delete_device(OWNER, device["id"])
    received = events.messages(until=3)
    assert [key for key, _ in received] == [
        "device.created",
        "device.updated",
        "device.deleted",
    ]
    assert received[0][1]["device"]["reading_interval_s"] == 60
    assert received[1][1]["device"]["max_hourly_kwh"] == 3.0
    assert received[1][1]["device"]["reading_interval_s"] == 900
    assert received[0][1]["device"]["latitude"] is None
    assert received[1][1]["device"]["latitude"] == -33.9
    assert received[1][1]["device"]["longitude"] == 18.4


def test_a_deleted_user_s_devices_go_too(config, devices_rpc, listen):
    events = listen(SYNC, "device.deleted")
    mine = [
        devices_rpc.create_device(OWNER, {"name": f"D{i}", "kind": "meter"})
        for i in range(3)
    ]
    theirs = devices_rpc.create_device(OTHER, {"name": "T", "kind": "meter"})
    publish(config, "user.deleted", {"user": {"id": OWNER["user_id"]}})
    deleted = {body["device"]["id"] for _, body in events.messages(wait=5, until=3)}
    assert deleted == {device["id"] for device in mine}
    # Each event goes out before the cascade's commit (never lost): the devices
    # are gone once it follows.
    eventually(lambda: devices_rpc.list_devices(OWNER) == [], timeout=10)
    assert devices_rpc.get_device(OTHER, theirs["id"])


def test_a_bad_event_is_dead_lettered_and_the_next_one_still_handled(
    config, devices_rpc, listen
):
    from services.common.topology import DLX

    dead = listen(DLX, "#")
    device = devices_rpc.create_device(OWNER, {"name": "D", "kind": "meter"})
    publish(config, "user.deleted", {"no user": True})
    publish(config, "user.deleted", {"user": {"id": OWNER["user_id"]}})
    ((key, body),) = dead.messages(until=1)
    assert key == "user.deleted" and body == {"no user": True}
    for _ in range(50):
        if not devices_rpc.list_devices(OWNER):
            break
        import time

        time.sleep(0.1)
    with pytest.raises(DeviceNotFound):
        devices_rpc.get_device(OWNER, device["id"])


# -- credentials: each device its own broker user ---------------------------------


@pytest.fixture
def device_of_owner(devices_rpc):
    return devices_rpc.create_device(OWNER, {"name": "Meter", "kind": "meter"})


def reading_of(device_id):
    return {
        "reading_id": "r-1",
        "device_id": device_id,
        "timestamp": "2026-11-22T10:15:00Z",
        "kwh": 0.1,
    }


def test_credentials_let_a_device_publish_its_own_readings_only(
    devices_rpc, device_of_owner, listen
):
    device_id = device_of_owner["id"]
    answer = devices_rpc.issue_credentials(OWNER, device_id)
    assert answer["username"] == f"ems-device-{device_id}"
    assert answer["mqtt"]["publish_topic"] == f"ems/devices/{device_id}/reading"
    assert answer["amqp"]["routing_key"] == f"device.{device_id}.reading"
    readings = listen(DATA, "#")
    device = MqttDevice(answer)
    try:
        assert device.connect()
        info = device.publish(answer["mqtt"]["publish_topic"], reading_of(device_id))
        assert info.is_published()
        assert [
            code.value for code in device.subscribe(answer["mqtt"]["command_topic"])
        ] == [1]
        assert not device.disconnected.wait(1)
        # Subscribing to another device's commands costs the connection.
        device.subscribe("ems/devices/someone-else/commands")
        assert device.disconnected.wait(5)
    finally:
        device.close()
    device = MqttDevice(answer)
    try:
        assert device.connect()
        # So does publishing as another device, and the message is not taken.
        info = device.publish("ems/devices/someone-else/reading", b"{}", timeout=5)
        assert not info.is_published()
        assert device.disconnected.wait(5)
    finally:
        device.close()
    published = readings.messages(wait=2)
    assert [key for key, _ in published] == [f"ems.devices.{device_id}.reading"]


def test_credentials_are_the_owner_s_to_issue(devices_rpc, device_of_owner):
    with pytest.raises(DeviceNotFound):
        devices_rpc.issue_credentials(OTHER, device_of_owner["id"])
    with pytest.raises(DeviceNotFound):
        devices_rpc.issue_credentials(OPERATOR, device_of_owner["id"])
    assert devices_rpc.issue_credentials(ADMIN, device_of_owner["id"])["password"]


def test_rotating_or_deleting_locks_the_old_login_out(devices_rpc, device_of_owner):
    device_id = device_of_owner["id"]
    assert_locked_out_when_replaced_and_deleted(
        lambda: devices_rpc.issue_credentials(OWNER, device_id),
        lambda: devices_rpc.delete_device(OWNER, device_id),
    )


def test_anonymous_and_wrong_passwords_are_refused(devices_rpc, device_of_owner):
    answer = devices_rpc.issue_credentials(OWNER, device_of_owner["id"])
    assert can_connect(answer)
    assert not can_connect(answer, username=None)
    assert not can_connect(answer, password="wrong")


@pytest.fixture
def limited(container_factory, service_config):
    """Two devices processes sharing devicedb, with a quota of three devices."""
    settings = service_config(
        "devices", DEVICES={"default_max_hourly_kwh": 0.5, "max_per_user": 3}
    )
    for _ in range(2):
        container_factory(DevicesService, settings).start()
    container_factory(FakeUsers, settings).start()
    return settings


def test_a_user_may_own_only_so_many_devices(limited):
    with ServiceRpcProxy("devices", limited) as devices_rpc:
        for i in range(3):
            devices_rpc.create_device(OWNER, {"name": f"D{i}", "kind": "meter"})
        with pytest.raises(DeviceLimitReached) as caught:
            devices_rpc.create_device(OWNER, {"name": "D3", "kind": "meter"})
        assert "at most 3 devices" in caught.value.message
        assert int(caught.value.details["limit"]) == 3
        # The quota is the owner's, whoever creates: not even ADMIN adds a fourth.
        with pytest.raises(DeviceLimitReached):
            devices_rpc.create_device(
                ADMIN, {"name": "D3", "kind": "meter", "user_id": OWNER["user_id"]}
            )
        # Other users have their own; a deleted device frees its place.
        devices_rpc.create_device(OTHER, {"name": "T", "kind": "meter"})
        first = devices_rpc.list_devices(OWNER)[0]
        devices_rpc.delete_device(OWNER, first["id"])
        devices_rpc.create_device(OWNER, {"name": "D4", "kind": "meter"})
        assert len(devices_rpc.list_devices(OWNER)) == 3


def test_concurrent_creates_at_the_limit_leave_exactly_the_limit(limited):
    def create(i):
        with ServiceRpcProxy("devices", limited) as devices_rpc:
            try:
                return devices_rpc.create_device(
                    OWNER, {"name": f"D{i}", "kind": "meter"}
                )
            except DeviceLimitReached:
                return None

    created = list(eventlet.GreenPool(10).imap(create, range(10)))
    assert len([device for device in created if device is not None]) == 3
    with ServiceRpcProxy("devices", limited) as devices_rpc:
        assert len(devices_rpc.list_devices(OWNER)) == 3


@pytest.mark.parametrize(
    "commitments",
    [
        {"open_orders": 1, "unsettled_trades": 0},
        {"open_orders": 0, "unsettled_trades": 2},
    ],
)
def test_a_kind_cannot_change_while_trading_holds_the_device(devices_rpc, commitments):
    device = devices_rpc.create_device(OWNER, {"name": "Roof", "kind": "pv"})
    FakeTrading.commitments = {device["id"]: commitments}
    with pytest.raises(DeviceKindLocked) as caught:
        devices_rpc.update_device(OWNER, device["id"], {"kind": "meter"})
    assert caught.value.status == 409
    assert caught.value.details == commitments
    assert devices_rpc.get_device(OWNER, device["id"])["kind"] == "pv"
    # Anything but the kind may still change.
    renamed = devices_rpc.update_device(
        OWNER, device["id"], {"name": "Roof west", "kind": "pv"}
    )
    assert (renamed["name"], renamed["kind"]) == ("Roof west", "pv")
    assert FakeTrading.asked == [device["id"]]


def test_a_kind_changes_when_trading_holds_nothing(devices_rpc):
    device = devices_rpc.create_device(OWNER, {"name": "Meter", "kind": "meter"})
    changed = devices_rpc.update_device(OWNER, device["id"], {"kind": "pv"})
    assert changed["kind"] == "pv"
    assert FakeTrading.asked == [device["id"]]
