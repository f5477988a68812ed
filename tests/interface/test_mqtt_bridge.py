"""mqtt_bridge as its own process, between the real Mosquitto and a test vhost.

Each test runs the bridge under its own MQTT client id (its own persistent session)
and publishes for devices named with its own prefix: other bridges and devices on
the shared Mosquitto see these readings too, and what they send reaches this
bridge, so every check looks at this test's messages only.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import paho.mqtt.client as mqtt
import paho.mqtt.publish as mqtt_publish
import pytest
from kombu import Connection, Queue

import config
from services.common.topology import (
    DATA,
    DEAD,
    READING_KEY,
    REASON_HEADER,
    SERVICE_HEADER,
    mqtt_reading_topic,
    reading_key,
)

SETTINGS = config.load("mqtt_bridge")
MQTT_HOST, MQTT_PORT = SETTINGS["MQTT_HOST"], int(SETTINGS["MQTT_PORT"])


def wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        time.sleep(0.05)


def connect_as(client_id: str, clean_session: bool) -> None:
    """Connect to Mosquitto under ``client_id`` and leave. Whoever was connected
    under it is disconnected; with a clean session, the session kept for it ends."""
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
    )
    client.connect(MQTT_HOST, MQTT_PORT)
    deadline = time.monotonic() + 5
    while not client.is_connected() and time.monotonic() < deadline:
        client.loop(0.1)
    client.disconnect()


class BridgeProcess:
    """``python -m mqtt_bridge`` under one MQTT client id, started and stopped at
    will; each run logs to its own file."""

    def __init__(self, amqp_uri: str, log_dir):
        self.client_id = f"ems-mqtt-bridge-test-{uuid.uuid4().hex[:12]}"
        self.env = {
            **os.environ,
            "EMS_AMQP_URI": amqp_uri,
            "EMS_MQTT_CLIENT_ID": self.client_id,
            "EMS_MQTT_STATS_INTERVAL": "1",
            "EMS_LOG_LEVEL": "INFO",
            "PYTHONWARNINGS": "ignore",
        }
        self.log_dir = log_dir
        self.runs = 0
        self.process = None

    def start(self) -> None:
        self.runs += 1
        self.log = self.log_dir / f"bridge-{self.runs}.log"
        with open(self.log, "wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "mqtt_bridge"],
                cwd=config.ROOT_DIR,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until(self.subscribed, 30, "the bridge to subscribe")
        except AssertionError as error:
            raise AssertionError(f"{error}; it wrote:\n{self.output()}") from None

    def subscribed(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError("the bridge exited")
        return "subscribed to ems/devices/+/reading" in self.output()

    def output(self) -> str:
        return self.log.read_text()

    def stop(self, signum=signal.SIGTERM) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=20)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        # Else Mosquitto would keep queueing every reading for a bridge long gone.
        connect_as(self.client_id, clean_session=True)


class Collector:
    """This test's messages from a queue of the test vhost, raw: body, headers,
    properties."""

    def __init__(self, amqp_uri: str, queue: Queue, marker: str):
        self.connection = Connection(amqp_uri)
        self.queue = queue(self.connection.default_channel)
        self.queue.declare()
        self.marker = marker.encode()
        self.messages = []

    def collect(self, count: int, seconds: float = 30) -> list:
        """This test's messages so far, once there are ``count`` (or time is up)."""
        self._receive_until(lambda: len(self.messages) >= count, seconds)
        return self.messages

    def bodies(self, count: int, seconds: float = 30) -> set[bytes]:
        """The distinct bodies so far, once there are ``count``: a message may come
        twice, when the bridge died between the confirm and the acknowledgement."""
        self._receive_until(lambda: len(self._bodies()) >= count, seconds)
        return self._bodies()

    def _bodies(self) -> set[bytes]:
        return {message.body for message in self.messages}

    def _receive_until(self, enough, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not enough() and time.monotonic() < deadline:
            message = self.queue.get(no_ack=True)
            if message is None:
                time.sleep(0.05)
            elif self.marker in message.body:
                self.messages.append(message)

    def close(self) -> None:
        self.connection.release()


@pytest.fixture
def prefix():
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def bridge(rabbit_config, tmp_path):
    process = BridgeProcess(rabbit_config["AMQP_URI"], tmp_path)
    try:
        yield process
    finally:
        process.close()


@pytest.fixture
def readings(rabbit_config, prefix):
    """A queue bound to ``ems.data`` like ``balancer.raw``, before the bridge starts."""
    queue = Queue(
        f"test.readings.{prefix}", exchange=DATA, routing_key=READING_KEY, durable=False
    )
    collector = Collector(rabbit_config["AMQP_URI"], queue, prefix)
    yield collector
    collector.close()


@pytest.fixture
def dead(rabbit_config, prefix):
    collector = Collector(rabbit_config["AMQP_URI"], DEAD, prefix)
    yield collector
    collector.close()


def reading(prefix: str, seq: int) -> tuple[str, bytes]:
    """(device id, payload) of reading ``seq``, from one of ten devices."""
    device_id = f"{prefix}-{seq % 10}"
    payload = {"device_id": device_id, "seq": seq, "kwh": 0.125, "marker": prefix}
    return device_id, json.dumps(payload, indent=1).encode()


def publish(messages: list[tuple[str, bytes]]) -> None:
    """Publish (topic, payload) pairs with QoS 1, and return once Mosquitto has them."""
    mqtt_publish.multiple(
        [{"topic": topic, "payload": payload, "qos": 1} for topic, payload in messages],
        hostname=MQTT_HOST,
        port=MQTT_PORT,
    )


def publish_readings(prefix: str, seqs) -> set[bytes]:
    sent = [reading(prefix, seq) for seq in seqs]
    publish([(mqtt_reading_topic(device_id), body) for device_id, body in sent])
    return {body for _, body in sent}


def test_readings_arrive_unchanged_under_their_device_key(bridge, readings, prefix):
    bridge.start()
    sent = [reading(prefix, seq) for seq in range(200)]
    publish([(mqtt_reading_topic(device_id), body) for device_id, body in sent])

    received = readings.collect(200)
    assert [(m.delivery_info["routing_key"], m.body) for m in received] == [
        (reading_key(device_id), body) for device_id, body in sent
    ]
    assert {(m.content_type, m.properties["delivery_mode"]) for m in received} == {
        ("application/json", 2)
    }
    wait_until(lambda: "forwarded 200" in bridge.output(), 10, "the counts logged")


def test_readings_sent_while_the_bridge_is_down_arrive_when_it_is_back(
    bridge, readings, prefix
):
    bridge.start()
    first = publish_readings(prefix, range(20))
    assert readings.bodies(20) == first
    assert bridge.stop(signal.SIGTERM) == 0
    assert "stopped: forwarded 20, dead-lettered 0" in bridge.output()

    while_stopped = publish_readings(prefix, range(20, 120))
    bridge.start()
    assert readings.bodies(120) == first | while_stopped

    assert bridge.stop(signal.SIGKILL) == -signal.SIGKILL
    while_killed = publish_readings(prefix, range(120, 220))
    bridge.start()
    assert readings.bodies(220) == first | while_stopped | while_killed


def test_a_bridge_killed_while_forwarding_loses_nothing(bridge, readings, prefix):
    bridge.start()
    sent = publish_readings(prefix, range(600))
    readings.collect(1)
    assert bridge.stop(signal.SIGKILL) == -signal.SIGKILL
    bridge.start()
    assert readings.bodies(600, seconds=60) == sent
    # Publishing takes a fraction of the time forwarding does (one confirm round
    # trip per message), so the first bridge died with readings still to forward.
    assert bridge.stop(signal.SIGTERM) == 0
    assert "stopped: forwarded 0," not in bridge.output()


def test_the_bridge_connects_to_mosquitto_again(bridge, readings, prefix):
    bridge.start()
    first = publish_readings(prefix, range(20))
    assert readings.bodies(20) == first
    # Mosquitto disconnects a client when another connects under its id.
    connect_as(bridge.client_id, clean_session=False)
    wait_until(
        lambda: bridge.output().count("subscribed to") == 2, 20, "a new connection"
    )
    assert "MQTT connection lost" in bridge.output()

    rest = publish_readings(prefix, range(20, 100))
    assert readings.bodies(100) == first | rest


def bridge_connection(rabbit_manager, vhost: str) -> str:
    """The name of the bridge's AMQP connection in ``vhost``."""
    names = []

    def found():
        names[:] = [
            connection["name"]
            for connection in rabbit_manager.get_connections()
            if connection["vhost"] == vhost
            and connection["client_properties"].get("connection_name") == "mqtt_bridge"
        ]
        return names

    wait_until(found, 20, "the bridge's AMQP connection")
    return names[0]


def test_readings_survive_rabbitmq_closing_the_connection(
    bridge, readings, prefix, rabbit_config, rabbit_manager
):
    bridge.start()
    first = publish_readings(prefix, range(50))
    assert readings.bodies(50) == first
    rabbit_manager.delete_connection(
        bridge_connection(rabbit_manager, rabbit_config["vhost"])
    )

    rest = publish_readings(prefix, range(50, 300))
    assert readings.bodies(300) == first | rest
    assert "publish failed" in bridge.output()
    assert bridge.output().count("connected to RabbitMQ") == 2


def test_a_bad_topic_is_dead_lettered_while_readings_flow(
    bridge, readings, dead, prefix
):
    bridge.start()
    bad = [
        (f"ems/devices/{prefix}a.b/reading", b"dotted " + prefix.encode()),
        (f"ems/devices/{prefix}a*b/reading", b"starred " + prefix.encode()),
        ("ems/devices//reading", b"nameless " + prefix.encode()),
    ]
    not_json = (
        mqtt_reading_topic(f"{prefix}-raw"),
        b"not json \xff " + prefix.encode(),
    )
    good = [
        (mqtt_reading_topic(device_id), body)
        for device_id, body in (reading(prefix, seq) for seq in range(10))
    ]
    publish(good[:3] + bad[:1] + good[3:6] + bad[1:] + [not_json] + good[6:])

    rejected = dead.collect(3)
    assert sorted(m.body for m in rejected) == sorted(body for _, body in bad)
    for message in rejected:
        assert message.delivery_info["routing_key"] == "mqtt.invalid"
        assert message.headers[SERVICE_HEADER] == "mqtt_bridge"
        assert message.headers[REASON_HEADER]
    dotted = next(m for m in rejected if m.body.startswith(b"dotted"))
    assert f"{prefix}a.b" in dotted.headers[REASON_HEADER]

    forwarded = readings.collect(11)
    assert sorted(m.body for m in forwarded) == sorted(
        body for _, body in good + [not_json]
    )
    wait_until(
        lambda: "forwarded 11, dead-lettered 3" in bridge.output(), 10, "the counts"
    )
