"""Forwards MQTT readings to RabbitMQ and acknowledges each only once RabbitMQ has it.

A device publishes a reading (QoS 1) to ``ems/devices/<device_id>/reading``. The
bridge keeps a persistent MQTT session (a fixed client id, clean session off), so
Mosquitto holds what arrives while the bridge is away. Each message is published
unchanged to ``ems.data`` under ``device.<device_id>.reading``, persistent and with
publisher confirms, and only once RabbitMQ has confirmed it does the bridge send the
PUBACK. A message whose topic gives no usable device id goes to ``ems.dlx`` instead,
with the reason, and is then acknowledged. Payloads are not looked at: the monitoring
workers validate readings. Delivery is at least once: a crash between the confirm
and the PUBACK delivers the message again.

Threads: paho's network thread calls ``on_message``, which publishes on a pika
``BlockingConnection`` owned by that thread alone; a publish returns once confirmed.
Messages are handled one at a time, so throughput is one confirm round trip per
message. The main thread (``__main__``) waits for a signal and logs counts.
"""

import logging
import threading
from collections.abc import Callable, Iterator
from typing import NamedTuple

import paho.mqtt.client as mqtt
import pika
from kombu import Connection
from kombu.exceptions import OperationalError
from pika.exceptions import AMQPError

from services.common.messaging import MAX_REASON_LENGTH
from services.common.topology import (
    DATA,
    DLX,
    MQTT_READING_FILTER,
    REASON_HEADER,
    SERVICE_HEADER,
    declare_all,
    device_of_mqtt_topic,
    reading_key,
)

log = logging.getLogger(__name__)

SERVICE = "mqtt_bridge"
#: Routing key on ``ems.dlx`` of a message the bridge cannot forward.
DEAD_LETTER_KEY = "mqtt.invalid"
CONTENT_TYPE = "application/json"
#: Characters with a meaning in topic routing: ``.`` separates words, ``*`` and ``#``
#: match in bindings. A device id holding one would be read as another key.
ROUTING_CHARACTERS = frozenset(".*#")
#: A routing key is an AMQP short string.
MAX_ROUTING_KEY_BYTES = 255
MQTT_KEEPALIVE = 60
#: paho waits this long before reconnecting, doubling from the first to the second.
MQTT_RECONNECT_DELAY = (1, 30)
MAX_RETRY_DELAY = 30.0
#: How long a stop waits for the message in hand. A publish can wait longer (for a
#: blocked or unreachable RabbitMQ); the process then exits without it, and Mosquitto
#: delivers the unacknowledged message again to the next session.
STOP_TIMEOUT = 10.0
#: kombu would retry for itself; the bridge retries, between looks for a stop.
ONE_ATTEMPT = {"connect_timeout": 5, "transport_options": {"max_retries": 0}}


class Route(NamedTuple):
    """Where a message goes; ``reason`` says why it is dead-lettered, if it is."""

    exchange: str
    routing_key: str
    reason: str | None = None


def dead(reason: str) -> Route:
    return Route(DLX.name, DEAD_LETTER_KEY, reason[:MAX_REASON_LENGTH])


def usable_device_id(device_id: str) -> bool:
    """Whether ``device_id`` can be one word of a routing key."""
    return (
        bool(device_id)
        and not ROUTING_CHARACTERS.intersection(device_id)
        and len(reading_key(device_id).encode()) <= MAX_ROUTING_KEY_BYTES
    )


def route(topic: str) -> Route:
    """Where the message received on MQTT ``topic`` is published."""
    device_id = device_of_mqtt_topic(topic)
    if device_id is None:
        return dead(f"not a topic ems/devices/<device_id>/reading: {topic!r}")
    if not usable_device_id(device_id):
        return dead(f"device id unusable in a routing key: {device_id!r}")
    return Route(DATA.name, reading_key(device_id))


def retry_delays(limit: float = MAX_RETRY_DELAY) -> Iterator[float]:
    """0, 0.5, 1, 2 … ``limit``, ``limit`` … seconds.

    The first retry is immediate: the usual failure is a connection that RabbitMQ
    closed while it was idle, and a new connection is all it takes.
    """
    yield 0.0
    delay = 0.5
    while True:
        yield delay
        delay = min(delay * 2, limit)


def declare_topology(amqp_uri: str, wait: Callable[[float], bool]) -> bool:
    """Declare the platform's exchanges and shared queues as ``ems prepare`` does,
    retrying until RabbitMQ answers; False if ``wait`` says to stop first.

    Declaring is idempotent. Done here, it means that no reading is published to an
    exchange that does not exist yet, nor dropped for want of ``balancer.raw``.
    """
    delays = retry_delays()
    while True:
        try:
            with Connection(amqp_uri, **ONE_ATTEMPT) as connection:
                declare_all(connection.default_channel)
            return True
        except (OperationalError, OSError) as exc:
            log.warning("cannot reach RabbitMQ to declare the topology: %s", exc)
        if wait(next(delays)):
            return False


class Stopped(Exception):
    """The bridge stops: the message in hand is left unacknowledged."""


class Publisher:
    """Confirmed, persistent publishing on one pika ``BlockingConnection``.

    pika's blocking connection is not thread-safe: one thread, the MQTT network
    thread, uses it. ``publish`` returns once RabbitMQ confirmed the message; it
    reconnects and publishes again, with growing delays, until then.
    """

    def __init__(
        self,
        parameters: pika.ConnectionParameters,
        stopping: threading.Event,
        connect: Callable = pika.BlockingConnection,
    ):
        self._parameters = parameters
        self._stopping = stopping
        self._connect = connect
        self._connection = None
        self._channel = None

    def publish(
        self, exchange: str, routing_key: str, body: bytes, headers: dict | None = None
    ) -> None:
        """Publish and wait for the confirm; raise ``Stopped`` if the bridge stops
        before RabbitMQ confirmed."""
        properties = pika.BasicProperties(
            content_type=CONTENT_TYPE,
            delivery_mode=pika.DeliveryMode.Persistent,
            headers=headers,
        )
        delays = retry_delays()
        while True:
            try:
                channel = self._channel or self._open()
                channel.basic_publish(exchange, routing_key, body, properties)
                return
            except (AMQPError, OSError) as exc:
                # The message may have reached RabbitMQ before the failure; publishing
                # it again risks a duplicate, never a loss.
                self._discard()
                delay = next(delays)
                level = logging.INFO if delay == 0 else logging.WARNING
                log.log(level, "publish failed (%r); retrying in %.1f s", exc, delay)
            if self._stopping.wait(delay):
                raise Stopped

    def close(self) -> None:
        self._discard()

    def _open(self):
        self._connection = self._connect(self._parameters)
        channel = self._connection.channel()
        channel.confirm_delivery()
        self._channel = channel
        log.info("connected to RabbitMQ")
        return channel

    def _discard(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except (AMQPError, OSError):
                pass  # It is being dropped; there is nothing left to save.


class Stats:
    """Counts since start: written by the MQTT thread, read by the main thread."""

    def __init__(self):
        self.forwarded = 0
        self.dead_lettered = 0

    def __str__(self):
        return f"forwarded {self.forwarded}, dead-lettered {self.dead_lettered}"


class Bridge:
    """The MQTT client's callbacks: publish each message, then acknowledge it."""

    def __init__(self, publisher: Publisher, stopping: threading.Event):
        self.publisher = publisher
        self.stopping = stopping
        self.stats = Stats()
        self.failed = False
        # Held while a message is in hand, so that a stop falls between two messages.
        self._busy = threading.Lock()

    def on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.warning("MQTT broker refused the connection: %s", reason_code)
            return
        log.info("connected to MQTT (session present: %s)", flags.session_present)
        # Also when the session is present: one made by a process that died before
        # its SUBSCRIBE has no subscription. Subscribing again loses nothing; it only
        # sends retained messages again.
        client.subscribe(MQTT_READING_FILTER, qos=1)

    def on_connect_fail(self, client, userdata):
        log.warning("cannot connect to MQTT; retrying")

    def on_subscribe(self, client, userdata, mid, reason_codes, properties):
        if any(code.is_failure for code in reason_codes):
            log.error("MQTT broker refused %s: %s", MQTT_READING_FILTER, reason_codes)
            self.fail()
        else:
            log.info("subscribed to %s", MQTT_READING_FILTER)

    def on_disconnect(self, client, userdata, flags, reason_code, properties):
        if not self.stopping.is_set():
            log.warning("MQTT connection lost (%s); reconnecting", reason_code)

    def on_message(self, client, userdata, message):
        with self._busy:
            if self.stopping.is_set():
                return  # Unacknowledged, it is delivered again to the next session.
            try:
                self.forward(message)
            except Stopped:
                return
            except Exception:
                # Raised into paho, it would end the network thread and leave the
                # process idle; stopping lets a supervisor start it again, and the
                # message, unacknowledged, is delivered again.
                log.exception("cannot forward message %d; stopping", message.mid)
                self.fail()
                return
            client.ack(message.mid, message.qos)

    def forward(self, message) -> None:
        try:
            target = route(message.topic)
        except UnicodeDecodeError:
            target = dead("topic is not UTF-8")
        if target.reason is None:
            self.publisher.publish(target.exchange, target.routing_key, message.payload)
            self.stats.forwarded += 1
            return
        log.warning("dead-lettering message %d: %s", message.mid, target.reason)
        headers = {REASON_HEADER: target.reason, SERVICE_HEADER: SERVICE}
        self.publisher.publish(
            target.exchange, target.routing_key, message.payload, headers
        )
        self.stats.dead_lettered += 1

    def fail(self) -> None:
        self.failed = True
        self.stopping.set()

    def stop(self, client: mqtt.Client) -> None:
        """Disconnect between two messages, end the MQTT thread, close the AMQP
        connection (once no thread uses it)."""
        self.stopping.set()
        if not self._busy.acquire(timeout=STOP_TIMEOUT):
            log.warning("a publish still waits for RabbitMQ; leaving it unacknowledged")
            return
        try:
            client.disconnect()
        finally:
            self._busy.release()
        client.loop_stop()
        self.publisher.close()


def mqtt_client(client_id: str, bridge: Bridge) -> mqtt.Client:
    """A client whose persistent session keeps the subscription, and queues QoS 1
    messages, while the bridge is away; it acknowledges only when told to."""
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=False,
        protocol=mqtt.MQTTv311,
        manual_ack=True,
    )
    client.enable_logger()
    client.reconnect_delay_set(*MQTT_RECONNECT_DELAY)
    client.on_connect = bridge.on_connect
    client.on_connect_fail = bridge.on_connect_fail
    client.on_subscribe = bridge.on_subscribe
    client.on_disconnect = bridge.on_disconnect
    client.on_message = bridge.on_message
    return client
