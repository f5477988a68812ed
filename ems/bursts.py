"""Bursts of readings at full speed, over MQTT or AMQP, for the tests that prove
nothing is lost or counted twice and for the ingest benchmarks.

A burst publishes its readings with many unacknowledged at once (MQTT QoS 1 with a
window of PUBACKs outstanding, AMQP with pipelined publisher confirms) and keeps
which ones the broker acknowledged. When the connection drops (the broker was
killed, say) it connects again and sends whatever was not acknowledged, unchanged:
the platform counts a reading once however often it arrives. ``run`` returns the
``reading_id`` of every reading the broker took responsibility for.
"""

import collections
import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pika
from pika.spec import Basic

from services.common.amqp import pika_parameters
from services.common.topology import DATA, mqtt_reading_topic, reading_key

#: How long a burst waits without progress before it sends the rest again.
STALL_SECONDS = 5.0
#: Every burst reading's energy: exact in the totals' micro-kWh.
KWH = 0.001


def readings_of(device_id: str, count: int) -> list[dict]:
    """``count`` distinct readings of ``KWH`` each, spread over the last ten hours."""
    now = datetime.now(UTC).replace(microsecond=0)
    return [
        {
            "reading_id": str(uuid.uuid4()),
            "device_id": device_id,
            "timestamp": (now - timedelta(seconds=n % 36000)).isoformat(),
            "kwh": KWH,
        }
        for n in range(count)
    ]


class BurstFailed(Exception):
    """Not every reading was acknowledged in time."""


class MqttBurst:
    """One device's readings over MQTT, QoS 1, ``window`` in flight."""

    def __init__(self, login: dict, readings: list[dict], window: int = 1000):
        self.login = login
        self.readings = readings
        self.window = window
        self.acked: set[str] = set()
        # paho calls on_publish from its network thread while holding its own
        # locks; this lock is never held across a call into paho, or the two
        # threads could wait on each other.
        self._lock = threading.Lock()
        self._of_mid: dict[int, str] = {}
        self._acked_mids: set[int] = set()
        self.reconnects = 0
        self.resent = 0

    def _client(self) -> mqtt.Client:
        mqtt_login = self.login["mqtt"]
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=mqtt_login["client_id"]
        )
        client.username_pw_set(mqtt_login["username"], self.login["password"])
        client.max_inflight_messages_set(self.window)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(0.5, 2)
        client.on_publish = self._on_publish
        client.on_connect = self._on_connect
        return client

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if not reason_code.is_failure:
            self.reconnects += 1

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        with self._lock:
            self._acked_mids.add(mid)

    def _send(self, client: mqtt.Client, readings: list[dict]) -> None:
        for reading in readings:
            topic = mqtt_reading_topic(reading["device_id"])
            info = client.publish(topic, json.dumps(reading), qos=1)
            with self._lock:
                self._of_mid[info.mid] = reading["reading_id"]

    def _settle(self) -> None:
        """Turn the acknowledged message ids into acknowledged readings."""
        with self._lock:
            for mid in list(self._acked_mids):
                reading_id = self._of_mid.pop(mid, None)
                if reading_id is not None:
                    self.acked.add(reading_id)
                    self._acked_mids.discard(mid)

    def run(self, timeout: float = 300.0, host: str = "127.0.0.1") -> set[str]:
        client = self._client()
        client.connect(host, int(self.login["mqtt"]["port"]), keepalive=30)
        client.loop_start()
        try:
            self._send(client, self.readings)
            deadline = time.monotonic() + timeout
            progress, last = time.monotonic(), -1
            while True:
                self._settle()
                if len(self.acked) == len(self.readings):
                    break
                if time.monotonic() > deadline:
                    raise BurstFailed(
                        f"{len(self.acked)} of {len(self.readings)} acknowledged"
                    )
                time.sleep(0.2)
                if len(self.acked) != last:
                    progress, last = time.monotonic(), len(self.acked)
                elif (
                    time.monotonic() - progress > STALL_SECONDS
                    and client.is_connected()
                ):
                    # Whatever paho kept from before a broken connection, send the
                    # unacknowledged readings again.
                    missing = [
                        r for r in self.readings if r["reading_id"] not in self.acked
                    ]
                    self.resent += len(missing)
                    with self._lock:
                        self._of_mid.clear()
                        self._acked_mids.clear()
                    self._send(client, missing)
                    progress = time.monotonic()
        finally:
            client.disconnect()
            client.loop_stop()
        return set(self.acked)


class AmqpBurst:
    """Readings published to ``ems.data`` with ``window`` unconfirmed at once
    (pika's asynchronous connection), persistent and mandatory."""

    def __init__(self, amqp_uri: str, readings: list[dict], window: int = 1000):
        self.parameters = pika_parameters(amqp_uri, "ems-burst")
        self.readings = readings
        self.window = window
        self.acked: set[str] = set()
        self.reconnects = 0
        self._reset()

    def _reset(self) -> None:
        self.todo = collections.deque(
            r for r in self.readings if r["reading_id"] not in self.acked
        )
        self.pending: collections.OrderedDict[int, str] = collections.OrderedDict()
        self.returned: set[str] = set()
        self.sequence = 0
        self.connection = self.channel = None

    def run(self, timeout: float = 300.0) -> set[str]:
        deadline = time.monotonic() + timeout
        while len(self.acked) < len(self.readings):
            if time.monotonic() > deadline:
                raise BurstFailed(
                    f"{len(self.acked)} of {len(self.readings)} acknowledged"
                )
            self._reset()
            self.connection = pika.SelectConnection(
                self.parameters,
                on_open_callback=lambda c: c.channel(on_open_callback=self._on_channel),
                on_open_error_callback=lambda c, error: c.ioloop.stop(),
                on_close_callback=lambda c, reason: c.ioloop.stop(),
            )
            self.connection.ioloop.call_later(
                max(0.1, deadline - time.monotonic()), self._close
            )
            self.connection.ioloop.start()
            if len(self.acked) < len(self.readings):
                self.reconnects += 1
                time.sleep(0.5)
        return set(self.acked)

    def _close(self) -> None:
        if self.connection is not None and self.connection.is_open:
            self.connection.close()

    def _on_channel(self, channel) -> None:
        self.channel = channel
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(self._on_confirm, callback=lambda _: self._publish())

    def _publish(self) -> None:
        while len(self.pending) < self.window and self.todo:
            reading = self.todo.popleft()
            self.channel.basic_publish(
                DATA.name,
                reading_key(reading["device_id"]),
                json.dumps(reading).encode(),
                properties=pika.BasicProperties(
                    content_type="application/json",
                    delivery_mode=pika.DeliveryMode.Persistent,
                    message_id=reading["reading_id"],
                ),
                mandatory=True,
            )
            self.sequence += 1  # the broker numbers a channel's publishes 1, 2, …
            self.pending[self.sequence] = reading["reading_id"]
        if not self.pending and not self.todo:
            self._close()

    def _on_confirm(self, frame) -> None:
        method = frame.method
        tags = [t for t in self.pending if t <= method.delivery_tag]
        if not method.multiple:
            tags = [method.delivery_tag]
        for tag in tags:
            reading_id = self.pending.pop(tag, None)
            if reading_id is None:
                continue
            # An unroutable reading is confirmed after being returned: not taken.
            if isinstance(method, Basic.Ack) and reading_id not in self.returned:
                self.acked.add(reading_id)
        self._publish()

    def _on_return(self, channel, method, properties, body) -> None:
        self.returned.add(properties.message_id)
