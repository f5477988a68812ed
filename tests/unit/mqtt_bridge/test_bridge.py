"""The bridge's decisions, without brokers: where a message goes, when it is acked."""

import threading
from itertools import islice
from types import SimpleNamespace

import pytest
from pika.exceptions import NackError, StreamLostError

from mqtt_bridge.bridge import (
    DEAD_LETTER_KEY,
    SERVICE,
    Bridge,
    Publisher,
    Stopped,
    retry_delays,
    route,
    usable_device_id,
)
from services.common.topology import (
    DATA,
    DLX,
    REASON_HEADER,
    SERVICE_HEADER,
    mqtt_reading_topic,
)


@pytest.mark.parametrize("device_id", ["42", "meter-7", "6f1c9d2e_A", "zähler"])
def test_a_reading_goes_to_ems_data_under_its_device(device_id):
    assert route(mqtt_reading_topic(device_id)) == (
        DATA.name,
        f"device.{device_id}.reading",
        None,
    )


@pytest.mark.parametrize("device_id", ["a.b", "a*", "#", "x" * 250])
def test_a_device_id_that_is_no_routing_word_is_dead_lettered(device_id):
    exchange, routing_key, reason = route(mqtt_reading_topic(device_id))
    assert (exchange, routing_key) == (DLX.name, DEAD_LETTER_KEY)
    assert "device id" in reason
    assert not usable_device_id(device_id)


@pytest.mark.parametrize(
    "topic",
    [
        "ems/devices//reading",
        "ems/devices/42/status",
        "ems/devices/42/reading/extra",
        "ems/devices/42",
        "other/devices/42/reading",
        "",
    ],
)
def test_a_topic_that_is_no_reading_topic_is_dead_lettered(topic):
    exchange, routing_key, reason = route(topic)
    assert (exchange, routing_key) == (DLX.name, DEAD_LETTER_KEY)
    assert repr(topic) in reason


def test_a_reason_is_bounded():
    assert len(route("x" * 70000).reason) == 500


def test_retries_start_at_once_and_back_off_to_a_limit():
    assert list(islice(retry_delays(limit=4), 7)) == [0, 0.5, 1, 2, 4, 4, 4]


class FakeChannel:
    def __init__(self, failures):
        self.failures = failures
        self.published = []

    def confirm_delivery(self):
        pass

    def basic_publish(self, exchange, routing_key, body, properties):
        if self.failures:
            raise self.failures.pop(0)
        self.published.append((exchange, routing_key, body, properties))


class FakeConnection:
    def __init__(self, channel):
        self._channel = channel
        self.is_open = True

    def channel(self):
        return self._channel

    def close(self):
        self.is_open = False


def fake_publisher(failures, stopping=None):
    channel = FakeChannel(list(failures))
    connections = []

    def connect(parameters):
        connections.append(FakeConnection(channel))
        return connections[-1]

    publisher = Publisher(None, stopping or threading.Event(), connect=connect)
    return publisher, channel, connections


def test_a_publish_is_persistent_json():
    publisher, channel, _ = fake_publisher([])
    publisher.publish("ems.data", "device.1.reading", b"{}")
    ((_, _, body, properties),) = channel.published
    assert body == b"{}"
    assert properties.delivery_mode == 2
    assert properties.content_type == "application/json"


def test_a_failed_publish_reconnects_and_publishes_again(monkeypatch):
    publisher, channel, connections = fake_publisher(
        [StreamLostError("gone"), NackError([]), ConnectionResetError()]
    )
    monkeypatch.setattr("mqtt_bridge.bridge.retry_delays", lambda: iter([0] * 3))
    publisher.publish("ems.data", "device.1.reading", b"{}")
    assert [entry[:3] for entry in channel.published] == [
        ("ems.data", "device.1.reading", b"{}")
    ]
    assert len(connections) == 4
    assert [connection.is_open for connection in connections] == [False] * 3 + [True]


def test_a_stop_ends_the_retries():
    stopping = threading.Event()
    stopping.set()
    publisher, channel, _ = fake_publisher([StreamLostError("gone")] * 2, stopping)
    with pytest.raises(Stopped):
        publisher.publish("ems.data", "device.1.reading", b"{}")
    assert channel.published == []


class FakePublisher:
    def __init__(self, error=None):
        self.error = error
        self.published = []

    def publish(self, exchange, routing_key, body, headers=None):
        if self.error:
            raise self.error
        self.published.append((exchange, routing_key, body, headers))


class FakeClient:
    def __init__(self, log):
        self.log = log

    def ack(self, mid, qos):
        self.log.append(("ack", mid, qos))


def message(topic, payload=b'{"kwh": 1}', mid=7):
    return SimpleNamespace(topic=topic, payload=payload, mid=mid, qos=1)


def deliver(publisher, msg, stopping=None):
    stopping = stopping or threading.Event()
    acks = []
    bridge = Bridge(publisher, stopping)
    bridge.on_message(FakeClient(acks), None, msg)
    return bridge, acks


def test_a_reading_is_acked_after_it_is_published():
    publisher = FakePublisher()
    bridge, acks = deliver(publisher, message("ems/devices/m1/reading"))
    assert publisher.published == [
        ("ems.data", "device.m1.reading", b'{"kwh": 1}', None)
    ]
    assert acks == [("ack", 7, 1)]
    assert (bridge.stats.forwarded, bridge.stats.dead_lettered) == (1, 0)


def test_a_bad_topic_is_dead_lettered_with_its_reason_then_acked():
    publisher = FakePublisher()
    bridge, acks = deliver(publisher, message("ems/devices/a.b/reading", b"junk"))
    ((exchange, routing_key, body, headers),) = publisher.published
    assert (exchange, routing_key, body) == ("ems.dlx", "mqtt.invalid", b"junk")
    assert headers[SERVICE_HEADER] == SERVICE
    assert "'a.b'" in headers[REASON_HEADER]
    assert acks == [("ack", 7, 1)]
    assert (bridge.stats.forwarded, bridge.stats.dead_lettered) == (0, 1)


def test_nothing_is_acked_when_the_bridge_stops_before_the_confirm():
    bridge, acks = deliver(FakePublisher(Stopped()), message("ems/devices/1/reading"))
    assert acks == [] and not bridge.failed


def test_nothing_is_handled_once_stopping():
    stopping = threading.Event()
    stopping.set()
    publisher = FakePublisher()
    _, acks = deliver(publisher, message("ems/devices/1/reading"), stopping)
    assert publisher.published == [] and acks == []


def test_an_unexpected_error_stops_the_bridge_without_acking():
    stopping = threading.Event()
    bridge, acks = deliver(
        FakePublisher(ValueError("bug")), message("ems/devices/1/reading"), stopping
    )
    assert acks == [] and bridge.failed and stopping.is_set()
