"""Commands to devices through the whole platform: sent over the API or a socket,
received by a paho MQTT client or an AMQP consumer with the device's own
credentials, answered, expired, and told to the owner's socket."""

import json
import time
import uuid

import pytest
from kombu import Connection

import config
from harness.clients import MqttDevice, ws_connect, ws_receive
from harness.polling import eventually
from services.common.amqp import with_login
from services.common.topology import DATA, device_command_queue, mqtt_status_topic

pytestmark = pytest.mark.integration


@pytest.fixture
def household(new_user):
    """A user, their client, and a device of theirs of each kind asked for."""
    user, client = new_user()

    def add(kind):
        created = client.post("/api/devices", {"name": kind, "kind": kind})
        assert created.status_code == 201, created.text
        device = created.json()
        login = client.post(f"/api/devices/{device['id']}/credentials")
        assert login.status_code == 201, login.text
        return device, login.json()

    return user, client, add


@pytest.fixture
def socket(stack, household):
    _, client, _ = household
    opened = ws_connect(stack, client.token)
    yield opened
    opened.close()


@pytest.fixture
def devices():
    """MQTT devices, closed at the end."""
    opened = []

    def connect(login, **changes):
        device = MqttDevice(login, **changes)
        assert device.connect()
        opened.append(device)
        return device

    yield connect
    for device in opened:
        device.close()


def send(client, device_id, type_, params=None, ttl_s=30):
    response = client.post(
        f"/api/devices/{device_id}/commands",
        {"type": type_, "params": params or {}, "ttl_s": ttl_s},
    )
    assert response.status_code == 202, response.text
    return response.json()


def commands(client, device_id):
    response = client.get(f"/api/devices/{device_id}/commands")
    assert response.status_code == 200, response.text
    return {command["id"]: command for command in response.json()}


def settled(client, device_id, command_id, status):
    return eventually(
        lambda: (
            (command := commands(client, device_id)[command_id])["status"] == status
            and command
        ),
        timeout=15,
    )


def received(device, count=1, wait=10.0):
    deadline = time.monotonic() + wait
    while len(device.received) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return device.received


def updates(socket, command_id, until, wait=10.0) -> list[str]:
    """The statuses ``command.updated`` tells of one command, up to ``until``."""
    seen, deadline = [], time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        message = ws_receive(socket, "command.updated", wait=left)
        if message is None:
            break
        if message["data"]["id"] == command_id:
            seen.append(message["data"]["status"])
            if message["data"]["status"] == until:
                break
    return seen


def test_an_mqtt_device_acks_rejects_or_stays_silent(household, socket, devices):
    _, client, add = household
    device, login = add("appliance")
    mqtt = devices(login, clean_session=False)
    assert [code.value for code in mqtt.subscribe(login["mqtt"]["command_topic"])] == [
        1
    ]

    command = send(client, device["id"], "switch", {"on": True})
    assert command["status"] == "delivered"
    assert command["created_by"] == household[0]["id"]
    (message,) = received(mqtt)
    assert message.topic == login["mqtt"]["command_topic"] and message.qos == 1
    assert json.loads(message.payload) == {
        "command_id": command["id"],
        "type": "switch",
        "params": {"on": True},
        "expires_at": command["expires_at"],
    }
    ack = {"command_id": command["id"], "status": "ok", "detail": "on"}
    for _ in range(2):  # a device may answer twice; it counts once
        assert mqtt.publish(login["mqtt"]["ack_topic"], ack).is_published()
    acked = settled(client, device["id"], command["id"], "acked")
    assert acked["detail"] == "on"
    assert updates(socket, command["id"], "acked") == ["pending", "delivered", "acked"]
    time.sleep(1)
    acked = commands(client, device["id"])[command["id"]]
    assert [event["status"] for event in acked["history"]] == [
        "pending",
        "delivered",
        "acked",
    ]
    assert updates(socket, command["id"], "acked", wait=1) == []

    refused = send(client, device["id"], "switch", {"on": False})
    rejection = {"command_id": refused["id"], "status": "rejected", "detail": "busy"}
    received(mqtt, 2)
    # Only subscribing needs the user name as client id; answering does not.
    answering = devices(login, client_id=f"{login['mqtt']['client_id']}-acks")
    assert answering.publish(login["mqtt"]["ack_topic"], rejection).is_published()
    assert settled(client, device["id"], refused["id"], "rejected")["detail"] == "busy"

    silent = send(client, device["id"], "ping", ttl_s=2)
    expired = settled(client, device["id"], silent["id"], "expired")
    assert [event["status"] for event in expired["history"]] == [
        "pending",
        "delivered",
        "expired",
    ]


def test_a_device_away_gets_its_commands_when_it_returns(household, devices):
    _, client, add = household
    # Its persistent session keeps a queue at the broker while it is away.
    device, login = add("ev_charger")
    away = devices(login, clean_session=False)
    away.subscribe(login["mqtt"]["command_topic"])
    away.close()
    command = send(client, device["id"], "ev_current", {"amps": 16})
    assert command["status"] == "delivered"
    back = devices(login, clean_session=False)
    (message,) = received(back)
    assert json.loads(message.payload)["params"] == {"amps": 16.0}

    # One that never subscribed has no queue: the command waits, pending, until
    # the device says it is online.
    device, login = add("pv")
    command = send(client, device["id"], "curtail", {"max_percent": 40})
    assert command["status"] == "pending" and command["detail"]
    late = devices(login)
    late.subscribe(login["mqtt"]["command_topic"])
    status = mqtt_status_topic(device["id"])
    assert late.publish(status, {"online": True}).is_published()
    (message,) = received(late)
    assert json.loads(message.payload)["command_id"] == command["id"]
    settled(client, device["id"], command["id"], "delivered")


def test_an_amqp_device_reads_its_queue_and_answers(stack, household):
    _, client, add = household
    device, login = add("battery")
    amqp = login["amqp"]
    uri = with_login(
        config.settings("common")["AMQP_URI"],
        login["username"],
        login["password"],
        amqp["vhost"],
    )
    with Connection(uri) as connection:
        queue = device_command_queue(device["id"])(connection.default_channel)
        assert queue.name == amqp["command_queue"]
        assert queue.routing_key == amqp["command_routing_key"]
        queue.queue_declare()
        queue.queue_bind()
        command = send(client, device["id"], "battery_setpoint", {"power_kw": 2})
        assert command["status"] == "delivered"
        message = queue.get(no_ack=True)
        assert json.loads(message.body)["params"] == {"power_kw": 2.0}
        connection.Producer().publish(
            {"command_id": command["id"], "status": "ok", "detail": None},
            exchange=DATA,
            routing_key=amqp["ack_routing_key"],
            serializer="json",
        )
    settled(client, device["id"], command["id"], "acked")


def test_bad_parameters_and_another_user_s_device_are_refused(
    household, new_user, admin
):
    _, client, add = household
    device, _ = add("battery")
    path = f"/api/devices/{device['id']}/commands"
    bad = client.post(path, {"type": "battery_setpoint", "params": {"power_kw": "x"}})
    assert bad.status_code == 400
    assert bad.json()["error"] == "VALIDATION_ERROR"
    assert set(bad.json()["details"]["params"]) == {"power_kw"}
    wrong = client.post(path, {"type": "switch", "params": {"on": True}})
    assert wrong.status_code == 400 and "type" in wrong.json()["details"]
    _, stranger = new_user("Eve")
    assert stranger.post(path, {"type": "ping"}).status_code == 404
    assert stranger.get(path).status_code == 404
    missing = client.post(f"/api/devices/{uuid.uuid4()}/commands", {"type": "ping"})
    assert missing.status_code == 404
    assert admin.post(path, {"type": "ping"}).status_code == 202
    assert client.get(path, params={"limit": 0}).status_code == 400


def test_a_command_sent_over_the_socket(household, socket, new_user):
    _, client, add = household
    device, _ = add("heat_pump")
    heard = []

    def command_send(ref, data):
        """The socket's answer to a ``command.send``; what came before it is kept
        in ``heard``."""
        socket.send(json.dumps({"type": "command.send", "ref": ref, "data": data}))
        while (message := ws_receive(socket)) is not None:
            if message.get("ref") == ref:
                return message
            heard.append(message)
        raise AssertionError(f"no answer to {ref}")

    accepted = command_send(
        "r1", {"device_id": device["id"], "type": "switch", "params": {"on": True}}
    )
    assert accepted["type"] == "command.accepted"
    command = accepted["data"]
    assert (command["type"], command["status"]) == ("switch", "pending")
    assert (
        commands(client, device["id"])[command["id"]]["created_by"]
        == (household[0]["id"])
    )
    # No device listens: it stays pending, and the socket heard so.
    heard.extend(filter(None, [ws_receive(socket, wait=2)]))
    assert [
        (message["type"], message["data"]["status"])
        for message in heard
        if message["data"].get("id") == command["id"]
    ] == [("command.updated", "pending")]

    refused = command_send(
        "r2", {"device_id": device["id"], "type": "switch", "params": {"on": "?"}}
    )
    assert refused["type"] == "command.refused"
    assert refused["data"]["error"] == "VALIDATION_ERROR"
    assert set(refused["data"]["details"]["params"]) == {"on"}
    _, stranger = new_user("Eve")
    theirs = stranger.post("/api/devices", {"name": "x", "kind": "meter"}).json()
    unknown = command_send("r3", {"device_id": theirs["id"], "type": "ping"})
    assert (unknown["type"], unknown["data"]["error"]) == (
        "command.refused",
        "NOT_FOUND",
    )
