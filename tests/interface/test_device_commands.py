"""Commands to devices, in devices' container on a real broker and database: a
device's queue stands in for the device, and the test publishes its answers."""

import json
import time
from datetime import UTC, datetime

import pytest
from kombu import Connection, Queue
from nameko.standalone.rpc import ServiceRpcProxy

from harness.polling import eventually
from services.common.errors import ValidationFailed
from services.common.topology import (
    ACKS,
    DATA,
    DLX,
    STATUS,
    WS,
    device_command_queue,
    device_key,
    iso_utc,
)
from services.devices.commands import NO_ANSWER, NOT_ROUTED, TYPES, describe_all
from services.devices.exceptions import DeviceNotFound
from services.devices.schemas import CommandTypeSchema
from services.devices.service import DevicesService

pytestmark = pytest.mark.usefixtures("clean_databases")

OWNER = {"user_id": "6f1c9d2e-0000-4000-8000-000000000001", "role": "USER"}
OTHER = {"user_id": "6f1c9d2e-0000-4000-8000-000000000002", "role": "USER"}
OPERATOR = {"user_id": "6f1c9d2e-0000-4000-8000-000000000003", "role": "OPERATOR"}


@pytest.fixture
def config(container_factory, service_config):
    settings = service_config("devices", DEVICES={"default_max_hourly_kwh": 0.5})
    container_factory(DevicesService, settings).start()
    return settings


@pytest.fixture
def devices_rpc(config):
    with ServiceRpcProxy("devices", config) as proxy:
        yield proxy


@pytest.fixture
def broker(config):
    with Connection(config["AMQP_URI"]) as connection:
        yield connection


def device_queue(broker, device_id):
    """What an AMQP device declares for its commands."""
    queue = device_command_queue(device_id)(broker.default_channel)
    queue.declare()
    return queue


def answer(broker, device_id, body, key=None):
    """A device's message, published as RabbitMQ's MQTT plugin does: bytes, with no
    content type."""
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    broker.Producer().publish(
        payload,
        exchange=DATA,
        routing_key=key or device_key(device_id, ACKS),
        declare=[DATA],
    )


def statuses(devices_rpc, device_id, caller=OWNER):
    return [
        [event["status"] for event in command["history"]]
        for command in devices_rpc.list_commands(caller, device_id)
    ]


def test_the_command_types_are_the_catalogue_for_every_caller(devices_rpc):
    """``GET /api/command-types``: what the catalogue says, over RPC."""
    for caller in (OWNER, OPERATOR):
        types = devices_rpc.command_types(caller)
        assert types == CommandTypeSchema(many=True).dump(describe_all())
    assert [entry["type"] for entry in types] == list(TYPES)


def test_a_command_reaches_the_device_s_queue_and_its_answer_counts_once(
    devices_rpc, broker, listen
):
    pushes = listen(WS, "#")
    device = devices_rpc.create_device(OWNER, {"name": "Home", "kind": "battery"})
    queue = device_queue(broker, device["id"])
    command = devices_rpc.send_command(
        OWNER,
        device["id"],
        {"type": "battery_setpoint", "params": {"power_kw": "-2.5"}, "ttl_s": 30},
    )
    assert command["status"] == "delivered"
    assert command["params"] == {"power_kw": -2.5}
    assert command["created_by"] == OWNER["user_id"]
    assert {
        "id",
        "device_id",
        "type",
        "params",
        "status",
        "created_at",
        "created_by",
        "expires_at",
        "updated_at",
        "detail",
    } == set(command)

    sent = queue.get(no_ack=True)
    assert json.loads(sent.body) == {
        "command_id": command["id"],
        "type": "battery_setpoint",
        "params": {"power_kw": -2.5},
        "expires_at": command["expires_at"],
    }
    assert 28_000 < int(sent.properties["expiration"]) <= 30_000
    assert sent.properties["delivery_mode"] == 2

    ack = {"command_id": command["id"], "status": "ok", "detail": "discharging"}
    answer(broker, device["id"], ack)
    answer(broker, device["id"], ack)
    eventually(lambda: statuses(devices_rpc, device["id"])[0][-1] == "acked")
    # Answers are handled concurrently, so which of two contradicting answers in
    # flight together is stored first is not defined; one after the command was
    # answered changes nothing.
    answer(broker, device["id"], ack | {"status": "rejected"})
    time.sleep(1)
    (listed,) = devices_rpc.list_commands(OWNER, device["id"])
    assert [event["status"] for event in listed["history"]] == [
        "pending",
        "delivered",
        "acked",
    ]
    assert (listed["status"], listed["detail"]) == ("acked", "discharging")
    received = pushes.messages(wait=1)
    assert [(key, body["data"]["status"]) for key, body in received] == [
        (f"user.{OWNER['user_id']}.command.updated", status)
        for status in ("pending", "delivered", "acked")
    ]


def test_a_command_waits_until_its_device_comes_online(devices_rpc, broker):
    device = devices_rpc.create_device(OWNER, {"name": "Plug", "kind": "appliance"})
    command = devices_rpc.send_command(
        OWNER, device["id"], {"type": "switch", "params": {"on": True}}
    )
    assert (command["status"], command["detail"]) == ("pending", NOT_ROUTED)
    queue = device_queue(broker, device["id"])
    answer(broker, device["id"], {"online": True}, key=device_key(device["id"], STATUS))
    sent = eventually(lambda: queue.get(no_ack=True), timeout=5)
    assert json.loads(sent.body)["command_id"] == command["id"]
    (listed,) = devices_rpc.list_commands(OWNER, device["id"])
    assert (listed["status"], listed["detail"]) == ("delivered", None)


def test_a_pending_command_is_sent_again_by_the_timer(devices_rpc, broker):
    device = devices_rpc.create_device(OWNER, {"name": "Plug", "kind": "appliance"})
    command = devices_rpc.send_command(OWNER, device["id"], {"type": "ping"})
    assert command["status"] == "pending"
    queue = device_queue(broker, device["id"])
    # A device that never says it is online: the next send, 10 s after the first.
    sent = eventually(lambda: queue.get(no_ack=True), timeout=15)
    assert json.loads(sent.body)["command_id"] == command["id"]
    assert statuses(devices_rpc, device["id"]) == [["pending", "delivered"]]


def test_an_unanswered_command_expires_once_whatever_the_processes(
    container_factory, config, devices_rpc, broker, listen
):
    container_factory(DevicesService, config).start()  # a second devices process
    pushes = listen(WS, "#")
    device = devices_rpc.create_device(OWNER, {"name": "Meter", "kind": "meter"})
    command = devices_rpc.send_command(
        OWNER, device["id"], {"type": "ping", "ttl_s": 1}
    )
    eventually(lambda: statuses(devices_rpc, device["id"]) == [["pending", "expired"]])
    time.sleep(2)
    (listed,) = devices_rpc.list_commands(OWNER, device["id"])
    assert (listed["status"], listed["detail"]) == ("expired", NO_ANSWER)
    assert [body["data"]["status"] for _, body in pushes.messages(wait=1)] == [
        "pending",
        "expired",
    ]
    # A late answer changes nothing, and is no error either.
    dead = listen(DLX, "#")
    answer(broker, device["id"], {"command_id": command["id"], "status": "ok"})
    assert dead.messages(wait=1.5) == []
    assert statuses(devices_rpc, device["id"]) == [["pending", "expired"]]


def test_what_is_not_an_ack_of_that_device_is_dead_lettered(
    devices_rpc, broker, listen
):
    dead = listen(DLX, "#")
    mine = devices_rpc.create_device(OWNER, {"name": "Plug", "kind": "appliance"})
    theirs = devices_rpc.create_device(OTHER, {"name": "Plug", "kind": "appliance"})
    device_queue(broker, mine["id"])
    command = devices_rpc.send_command(
        OWNER, mine["id"], {"type": "switch", "params": {"on": False}}
    )
    unknown = "c41d0c1d-0000-4000-8000-0000000000ff"
    answer(broker, mine["id"], {"command_id": unknown, "status": "ok"})
    answer(broker, theirs["id"], {"command_id": command["id"], "status": "ok"})
    answer(broker, mine["id"], b"switched")
    answer(broker, mine["id"], {"command_id": command["id"], "status": "done"})
    received = dead.messages(wait=5, until=4)
    assert sorted(key for key, _ in received) == sorted(
        [device_key(mine["id"], ACKS)] * 3 + [device_key(theirs["id"], ACKS)]
    )
    assert statuses(devices_rpc, mine["id"]) == [["pending", "delivered"]]


def test_dead_letters_say_why(devices_rpc, broker):
    device = devices_rpc.create_device(OWNER, {"name": "Plug", "kind": "appliance"})
    why = Queue(
        exclusive=True, exchange=DLX, routing_key=device_key(device["id"], ACKS)
    )
    bound = why(broker.default_channel)
    bound.declare()
    answer(broker, device["id"], {"command_id": "nope", "status": "ok"})
    message = eventually(lambda: bound.get(no_ack=True), timeout=5)
    assert "command_id" in message.headers["x-ems-reason"]
    assert message.headers["x-ems-service"] == "devices"


def test_who_may_command_and_what(devices_rpc):
    device = devices_rpc.create_device(OWNER, {"name": "Meter", "kind": "meter"})
    with pytest.raises(DeviceNotFound):
        devices_rpc.send_command(OTHER, device["id"], {"type": "ping"})
    with pytest.raises(DeviceNotFound):
        devices_rpc.list_commands(OTHER, device["id"])
    staff = devices_rpc.send_command(OPERATOR, device["id"], {"type": "ping"})
    assert staff["created_by"] == OPERATOR["user_id"]
    with pytest.raises(ValidationFailed) as refused:
        devices_rpc.send_command(OWNER, device["id"], {"type": "switch"})
    assert "meter device does not take switch" in refused.value.details["type"][0]
    with pytest.raises(ValidationFailed) as refused:
        devices_rpc.send_command(OWNER, device["id"], {"type": "ping", "ttl_s": 0})
    assert set(refused.value.details) == {"ttl_s"}
    battery = devices_rpc.create_device(OWNER, {"name": "B", "kind": "battery"})
    with pytest.raises(ValidationFailed) as refused:
        devices_rpc.send_command(
            OWNER, battery["id"], {"type": "battery_setpoint", "params": {}}
        )
    assert refused.value.details == {
        "params": {"power_kw": ["Missing data for required field."]}
    }
    listed = devices_rpc.list_commands(OPERATOR, device["id"], {"limit": 1})
    assert [command["id"] for command in listed] == [staff["id"]]


def test_another_service_issues_a_command_as_itself(devices_rpc, listen):
    pushes = listen(WS, "#")
    device = devices_rpc.create_device(OWNER, {"name": "Car", "kind": "ev_charger"})
    command = devices_rpc.issue_command(
        device["id"], "ev_current", {"amps": 10}, 30, "dr:e1"
    )
    assert (command["created_by"], command["params"]) == ("dr:e1", {"amps": 10.0})
    assert {key for key, _ in pushes.messages(wait=1)} == {
        f"user.{OWNER['user_id']}.command.updated"
    }
    # It asks how its commands stand in one call; what is no command is left out.
    (now,) = devices_rpc.get_commands(
        [command["id"], "c41d0c1d-0000-4000-8000-0000000000ff", "not an id"]
    )
    assert (now["id"], now["status"]) == (command["id"], command["status"])
    assert devices_rpc.get_commands([]) == []
    with pytest.raises(ValidationFailed):
        devices_rpc.issue_command(device["id"], "ev_current", {"amps": 2}, 30, "dr")
    with pytest.raises(ValidationFailed):
        devices_rpc.issue_command(device["id"], "ping", {}, 30, "")
    with pytest.raises(DeviceNotFound):
        devices_rpc.issue_command(
            "c41d0c1d-0000-4000-8000-0000000000ff", "ping", {}, 30, "batteries"
        )


def test_a_deleted_device_s_commands_go_with_it(devices_rpc):
    device = devices_rpc.create_device(OWNER, {"name": "Meter", "kind": "meter"})
    devices_rpc.send_command(OWNER, device["id"], {"type": "ping"})
    devices_rpc.delete_device(OWNER, device["id"])
    with pytest.raises(DeviceNotFound):
        devices_rpc.list_commands(OWNER, device["id"])


def test_what_a_device_was_last_set_to_comes_from_its_acknowledged_commands(
    devices_rpc, broker
):
    device = devices_rpc.create_device(OWNER, {"name": "Car", "kind": "ev_charger"})
    device_queue(broker, device["id"])

    def sent(params, status):
        command = devices_rpc.send_command(
            OWNER, device["id"], {"type": "ev_current", "params": params}
        )
        answer(
            broker,
            device["id"],
            {"command_id": command["id"], "status": status, "detail": ""},
        )
        want = "acked" if status == "ok" else "rejected"
        eventually(lambda: statuses(devices_rpc, device["id"])[0][-1] == want)
        return command

    first = sent({"amps": 10}, "ok")
    sent({"amps": 16}, "rejected")  # refused: not what it is set to
    devices_rpc.send_command(OWNER, device["id"], {"type": "ping", "params": {}})
    assert devices_rpc.settings_before([device["id"]], iso_utc(datetime.now(UTC))) == {
        device["id"]: {"ev_current": {"amps": 10.0}}
    }
    assert devices_rpc.settings_before([device["id"]], first["created_at"]) == {}
    assert devices_rpc.settings_before(["not an id"], first["created_at"]) == {}
