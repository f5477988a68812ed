"""A simulated device's MQTT link, on a fake paho client: its session, will and
presence, its answers to commands, and how it goes silent or leaves."""

import json
from datetime import UTC, datetime

import pytest

from simulator.commands import Behaviour, CommandHandler
from simulator.devices import Fleet
from simulator.link import DeviceLink, DeviceLinks
from simulator.profiles import Device
from simulator.publisher import DeviceLogin, Stopper

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
LOGIN = DeviceLogin("ems-device-d1", "secret", "ems-device-d1", "ems:ems-device-d1")


class Code:
    def __init__(self, failure=False):
        self.is_failure = failure


class Info:
    def __init__(self, mid):
        self.mid = mid

    def wait_for_publish(self, timeout=None):
        pass

    def is_published(self):
        return True


class Socket:
    def __init__(self):
        self.shut = self.closed = False

    def shutdown(self, how):
        self.shut = True

    def close(self):
        self.closed = True


class Message:
    def __init__(self, mid, payload, qos=1):
        self.mid, self.payload, self.qos = mid, payload, qos


class FakeClient:
    """Records what the link asks of paho; the broker's answers are called by
    hand (``on_publish``) or at once (CONNACK, SUBACK)."""

    def __init__(self, client_id, refuse=False):
        self.client_id, self.refuse = client_id, refuse
        self.calls: list[tuple] = []
        self.mid = 0
        self.sock = Socket()

    def _next(self):
        self.mid += 1
        return self.mid

    def username_pw_set(self, username, password):
        self.calls.append(("login", username, password))

    def will_set(self, topic, payload, qos=0, retain=False):
        self.calls.append(("will", topic, json.loads(payload), qos))

    def connect(self, host, port, keepalive=60):
        self.calls.append(("connect", host, port))

    def loop_start(self):
        self.calls.append(("loop_start",))
        self.on_connect(self, None, {}, Code(self.refuse), None)

    def loop_stop(self):
        self.calls.append(("loop_stop",))

    def subscribe(self, topic, qos=0):
        self.calls.append(("subscribe", topic, qos))
        self.on_subscribe(self, None, self._next(), [Code()], None)

    def publish(self, topic, payload, qos=0):
        mid = self._next()
        self.calls.append(("publish", topic, json.loads(payload), qos, mid))
        return Info(mid)

    def ack(self, mid, qos):
        self.calls.append(("ack", mid, qos))

    def disconnect(self):
        self.calls.append(("disconnect",))

    def socket(self):
        return self.sock

    def published(self, topic=None):
        return [c for c in self.calls if c[0] == "publish" and topic in (None, c[1])]


def make_link(behaviour=Behaviour.OBEY, kind="battery", refuse=False):
    fleet = Fleet(seed=1)
    device = Device("d1", kind, 5.0)
    fleet.model(device)
    clients = []

    def make_client(client_id):
        clients.append(FakeClient(client_id, refuse))
        return clients[-1]

    def apply(command_type, params, at):
        return fleet.apply("d1", command_type, params, at)

    link = DeviceLink(
        "127.0.0.1",
        1884,
        Stopper(),
        LOGIN,
        "d1",
        CommandHandler(apply, behaviour),
        ack_timeout=0.1,
        make_client=make_client,
        now=lambda: NOW,
        log=lambda message: None,
    )
    return link, clients, fleet


def command(mid=7, **fields):
    body = {"command_id": "c-1", "type": "ping", "params": {}, "expires_at": None}
    body.update(fields)
    return Message(mid, json.dumps(body).encode())


def test_a_device_keeps_its_session_leaves_a_will_listens_then_says_online():
    link, clients, _ = make_link()
    assert link.start()
    (client,) = clients
    assert client.client_id == "ems-device-d1"
    assert client.calls[:3] == [
        ("login", "ems:ems-device-d1", "secret"),
        ("will", "ems/devices/d1/status", {"online": False}, 1),
        ("connect", "127.0.0.1", 1884),
    ]
    operations = [c[:3] for c in client.calls[4:]]
    assert operations == [
        ("subscribe", "ems/devices/d1/commands", 1),
        ("publish", "ems/devices/d1/status", {"online": True}),
    ]


def test_paho_is_asked_for_a_persistent_session_and_manual_acks():
    from simulator.link import paho_client

    client = paho_client("ems-device-d1")
    assert client._clean_session is False and client._manual_ack is True


def test_a_refused_login_is_reported_and_tried_again_later():
    link, clients, _ = make_link(refuse=True)
    assert not link.start()
    assert ("disconnect",) in clients[0].calls and link.client is None


def test_a_command_is_answered_and_acknowledged_once_its_answer_is():
    link, clients, fleet = make_link()
    link.start()
    client = clients[0]
    link.on_message(
        client, None, command(type="battery_setpoint", params={"power_kw": 2})
    )
    (answer,) = client.published("ems/devices/d1/acks")
    assert answer[2] == {
        "command_id": "c-1",
        "status": "ok",
        "detail": "charging at 2 kW",
    }
    assert answer[3] == 1
    assert fleet.models["d1"].state.power_kw == 2
    # The command's PUBACK waits for the answer's.
    assert not [c for c in client.calls if c[0] == "ack"]
    link.on_publish(client, None, answer[4], Code(), None)
    assert client.calls[-1] == ("ack", 7, 1)
    # A reading's PUBACK acknowledges no command.
    link.on_publish(client, None, 999, Code(), None)
    assert client.calls[-1] == ("ack", 7, 1)


def test_a_redelivered_command_gets_the_same_answer():
    link, clients, fleet = make_link()
    link.start()
    client = clients[0]
    message = command(type="battery_setpoint", params={"power_kw": 2})
    link.on_message(client, None, message)
    fleet.models["d1"].state = fleet.models["d1"].state.__class__(5.0)  # idle again
    link.on_message(client, None, message)
    first, second = client.published("ems/devices/d1/acks")
    assert first[2] == second[2]
    assert fleet.models["d1"].state.mode == "idle"  # not carried out twice


def test_an_ignored_command_is_acknowledged_to_the_broker_but_not_answered():
    link, clients, _ = make_link(Behaviour.IGNORE)
    link.start()
    client = clients[0]
    link.on_message(client, None, command())
    assert client.published("ems/devices/d1/acks") == []
    assert client.calls[-1] == ("ack", 7, 1)


def test_a_rejecting_device_answers_rejected():
    link, clients, _ = make_link(Behaviour.REJECT)
    link.start()
    link.on_message(clients[0], None, command())
    (answer,) = clients[0].published("ems/devices/d1/acks")
    assert answer[2]["status"] == "rejected"


def test_a_silent_device_drops_its_connection_without_disconnect():
    link, clients, _ = make_link(Behaviour.SILENT)
    link.start()
    client = clients[0]
    link.on_message(client, None, command())
    assert ("loop_stop",) in client.calls and client.sock.shut and client.sock.closed
    assert ("disconnect",) not in client.calls
    assert not [c for c in client.calls if c[0] == "ack"]
    assert link.is_silent("d1") and link.client is None
    # It publishes nothing more, and does not come back.
    before = len(client.calls)
    link.publish({"reading_id": "r", "device_id": "d1", "kwh": 0.1})
    link.close()
    assert len(client.calls) == before and len(clients) == 1


def test_go_silent_is_also_the_api_of_tests():
    link, clients, _ = make_link()
    link.start()
    link.go_silent()
    assert clients[0].sock.shut and ("disconnect",) not in clients[0].calls


def test_readings_go_to_the_reading_topic():
    link, clients, _ = make_link()
    link.publish({"reading_id": "r", "device_id": "d1", "kwh": 0.1})
    (reading,) = clients[0].published("ems/devices/d1/reading")
    assert reading[2] == {"reading_id": "r", "device_id": "d1", "kwh": 0.1}
    assert reading[3] == 1 and link.confirmed == 1


def test_a_clean_stop_says_offline_then_disconnects():
    link, clients, _ = make_link()
    link.start()
    link.close()
    client = clients[0]
    assert client.calls[-3][:3] == (
        "publish",
        "ems/devices/d1/status",
        {"online": False},
    )
    assert client.calls[-2:] == [("disconnect",), ("loop_stop",)]


def test_links_follow_the_listing():
    made, closed = [], []

    class Link:
        def __init__(self, device):
            self.device = device

        def close(self):
            closed.append(self.device.id)

        def is_silent(self, device_id):
            return device_id == "b"

    def make(device):
        made.append(device.id)
        return Link(device)

    links = DeviceLinks(make, Stopper())
    links.ensure([Device("a"), Device("b")])
    links.ensure([Device("b"), Device("c")])
    assert made == ["a", "b", "c"] and closed == ["a"]
    assert links.is_silent("b") and not links.is_silent("c")
    with pytest.raises(LookupError):
        links.publish({"reading_id": "r", "device_id": "z"})
