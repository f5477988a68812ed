"""Deliver readings until the broker confirms them: AMQP with publisher confirms, or
MQTT with QoS 1.

A reading that is not confirmed (nack, unroutable, connection lost, no PUBACK) is sent
again after reconnecting with back-off, unchanged: the same ``reading_id`` lets the
platform count it once even when the first copy did arrive.
"""

import json
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from uuid import uuid4

import paho.mqtt.client as mqtt

from services.common.amqp import (
    Backoff,
    ConfirmedPublisher,
    Outgoing,
    pika_parameters,
    with_login,
)
from services.common.topology import DATA, mqtt_reading_topic, reading_key


@dataclass(frozen=True)
class DeviceLogin:
    """A device's broker credentials, as ``POST /api/devices/{id}/credentials``
    answers them."""

    username: str
    password: str
    client_id: str
    mqtt_username: str

    def amqp_uri(self, base_uri: str) -> str:
        """``base_uri`` (the platform's AMQP URI) logged in as this device."""
        return with_login(base_uri, self.username, self.password)

    @classmethod
    def from_answer(cls, answer: dict) -> "DeviceLogin":
        return cls(
            answer["username"],
            answer["password"],
            answer["mqtt"]["client_id"],
            answer["mqtt"]["username"],
        )


class Stopped(Exception):
    """A stop was requested while a reading waited to be resent."""


class NotAcknowledged(Exception):
    """The MQTT broker did not answer in time."""


class Stopper:
    """Stop requests (SIGINT, SIGTERM, a deadline) that waits give way to.

    The signal handler only sets a flag: it runs between any two bytecodes, where
    waking eventlet's hub or raising into a half-done publish is not safe. A second
    signal stops at once, as an impatient Ctrl-C expects.
    """

    #: Longest uninterrupted sleep, so that a stop is noticed quickly.
    SLICE = 0.1

    def __init__(self, deadline: float | None = None):
        self.deadline = deadline
        self.requested = False

    @property
    def stopped(self) -> bool:
        return self.requested or (
            self.deadline is not None and time.monotonic() >= self.deadline
        )

    def stop(self, *_signal) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def install(self) -> None:
        signal.signal(signal.SIGINT, self.stop)
        signal.signal(signal.SIGTERM, self.stop)

    def sleep(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless stopped first; True if not stopped."""
        until = time.monotonic() + seconds
        while not self.stopped:
            left = until - time.monotonic()
            if left <= 0:
                return True
            time.sleep(min(left, self.SLICE))
        return False


def warn(message: str) -> None:
    print(f"simulator: {message}", file=sys.stderr, flush=True)


def encode(reading: dict) -> bytes:
    return json.dumps(reading).encode()


class Publisher:
    """Publishes one reading at a time and returns once the broker confirmed it:
    ``send`` makes one attempt, and a failed one is made again after the back-off.

    ``sent`` counts readings, ``resent`` extra attempts, ``confirmed`` readings the
    broker took responsibility for.
    """

    transport = ""
    #: What a failed attempt raises; anything else is a bug and propagates.
    failures: tuple[type[BaseException], ...] = (OSError,)

    def __init__(self, stopper: Stopper, backoff: Backoff | None = None):
        self.stopper = stopper
        self.backoff = backoff or Backoff(first=0.5, most=30.0)
        self.sent = self.confirmed = self.resent = 0

    def publish(self, reading: dict) -> None:
        """Send ``reading`` until confirmed; Stopped if a stop comes first."""
        body = encode(reading)
        self.sent += 1
        while True:
            try:
                self.send(reading, body)
            except self.failures as exc:
                self.drop()
                delay = self.backoff.next()
                self.resending(reading["reading_id"], repr(exc), delay)
                if not self.stopper.sleep(delay):
                    raise Stopped from exc
                self.resent += 1
                continue
            self.backoff.reset()
            self.confirmed += 1
            return

    def resending(self, reading_id: str, why: str, delay: float) -> None:
        warn(
            f"{self.transport} publish of {reading_id} not confirmed ({why}); "
            f"resending in {delay:.1f} s"
        )

    def send(self, reading: dict, body: bytes) -> None:
        """One attempt: connect if need be, publish, wait for the confirmation."""
        raise NotImplementedError

    def drop(self) -> None:
        """Forget the connection after a failure (the next attempt reconnects)."""

    def keepalive(self) -> None:
        """Serve the connection while idle (heartbeats)."""

    def ensure(self, devices) -> None:
        """Get ready for these devices (the live run's listing)."""

    def is_silent(self, device_id: str) -> bool:
        """Whether the device stopped publishing (``--behaviour ID=silent``)."""
        return False

    def close(self) -> None:
        self.drop()


class AmqpPublisher(Publisher):
    """Publishes to ``ems.data`` under ``device.<id>.reading``, persistent, confirmed,
    through the platform's ``ConfirmedPublisher``, which resends what is not
    confirmed with this publisher's back-off.

    Publishes are mandatory: a reading that no queue takes is returned as unroutable
    and resent, rather than confirmed and lost.
    """

    transport = "AMQP"

    def __init__(
        self,
        amqp_uri: str,
        stopper: Stopper,
        backoff: Backoff | None = None,
        declare: bool = True,
    ):
        super().__init__(stopper, backoff)
        self.channel = ConfirmedPublisher(
            pika_parameters(amqp_uri, "ems-simulator"),
            DATA,
            window=1,
            # A device's own user may publish to ems.data but not declare it.
            declare_exchange=declare,
            backoff=self.backoff,
            on_retry=self.not_confirmed,
        )

    def publish(self, reading: dict) -> None:
        message = Outgoing(
            reading["reading_id"], reading_key(reading["device_id"]), encode(reading)
        )
        self.sent += 1
        resent = self.channel.resent
        try:
            confirmed = self.channel.publish(
                [message], stopped=lambda: self.stopper.stopped
            )
        finally:
            self.resent += self.channel.resent - resent
        if not confirmed:
            raise Stopped
        self.confirmed += 1

    def not_confirmed(self, messages: list[Outgoing], why: str, delay: float):
        for message in messages:
            self.resending(message.message_id, why, delay)

    def keepalive(self) -> None:
        self.channel.keepalive()

    def close(self) -> None:
        self.channel.close()


class MqttPublisher(Publisher):
    """Publishes to ``ems/devices/<id>/reading`` with QoS 1, waiting for PUBACK.

    A failed attempt throws its client away, with whatever paho still holds in
    flight, so that only this class decides what is sent again.
    """

    transport = "MQTT"
    failures = (OSError, RuntimeError, ValueError, NotAcknowledged)

    def __init__(
        self,
        host: str,
        port: int,
        stopper: Stopper,
        backoff: Backoff | None = None,
        ack_timeout: float = 10.0,
        login: "DeviceLogin | None" = None,
    ):
        super().__init__(stopper, backoff)
        self.host, self.port, self.ack_timeout = host, int(port), ack_timeout
        self.login = login
        self.client = None

    def connect(self) -> None:
        client_id = f"ems-simulator-{uuid4().hex[:12]}"
        if self.login is not None:
            client_id = self.login.client_id
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        if self.login is not None:
            client.username_pw_set(self.login.mqtt_username, self.login.password)
        connected = threading.Event()

        def on_connect(client, userdata, flags, reason_code, properties):
            if not reason_code.is_failure:
                connected.set()

        client.on_connect = on_connect
        client.connect(self.host, self.port, keepalive=30)
        client.loop_start()
        self.client = client
        if not connected.wait(self.ack_timeout):
            raise NotAcknowledged(f"no CONNACK within {self.ack_timeout} s")

    def send(self, reading: dict, body: bytes) -> None:
        if self.client is None:
            self.connect()
        topic = mqtt_reading_topic(reading["device_id"])
        info = self.client.publish(topic, body, qos=1)
        info.wait_for_publish(self.ack_timeout)
        if not info.is_published():
            raise NotAcknowledged(f"no PUBACK within {self.ack_timeout} s")

    def drop(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            client.disconnect()
            client.loop_stop()


class DevicePublishers(Publisher):
    """Publishes each device's readings as that device: one connection per device,
    made with its own credentials (``make(device_id)``), as real meters do."""

    def __init__(
        self, make: Callable[[str], Publisher], stopper: Stopper, transport: str
    ):
        super().__init__(stopper)
        self.make = make
        self.transport = transport
        self.publishers: dict[str, Publisher] = {}

    def publish(self, reading: dict) -> None:
        device_id = reading["device_id"]
        if device_id not in self.publishers:
            self.publishers[device_id] = self.make(device_id)
        publisher = self.publishers[device_id]
        resent = publisher.resent
        self.sent += 1
        try:
            publisher.publish(reading)
        finally:
            self.resent += publisher.resent - resent
        self.confirmed += 1

    def keepalive(self) -> None:
        for publisher in self.publishers.values():
            publisher.keepalive()

    def is_silent(self, device_id: str) -> bool:
        publisher = self.publishers.get(device_id)
        return publisher is not None and publisher.is_silent(device_id)

    def close(self) -> None:
        for publisher in self.publishers.values():
            publisher.close()
