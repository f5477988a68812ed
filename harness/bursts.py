"""Bursts of readings at full speed, over MQTT or AMQP, for the tests that prove
nothing is lost or counted twice and for the ingest benchmarks.

A burst publishes its readings with many unacknowledged at once (MQTT QoS 1 with a
window of PUBACKs outstanding, AMQP with pipelined publisher confirms) and keeps
which ones the broker acknowledged. When the connection drops (the broker was
killed, say) it connects again and sends whatever was not acknowledged, unchanged:
the platform counts a reading once however often it arrives. ``run`` returns the
``reading_id`` of every reading the broker took responsibility for.
"""

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt

from services.common.amqp import Backoff, ConfirmedPublisher, Outgoing, pika_parameters
from services.common.topology import DATA, mqtt_reading_topic, reading_key

#: How long a burst waits without progress before it sends the rest again.
STALL_SECONDS = 5.0
#: Every burst reading's energy: exact in the totals' micro-kWh.
KWH = 0.001


def backoff() -> Backoff:
    """A burst reconnects soon: half a second, doubling up to two."""
    return Backoff(first=0.5, most=2.0)


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
        delays = backoff()
        client.reconnect_delay_set(delays.first, delays.most)
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
            # The connection the readings were last sent over: paho sends again
            # what was in flight when a connection broke, so the burst sends the
            # rest itself only after a reconnection, never because the pipeline
            # is slow (that would pile copies onto a busy broker).
            sent_over = self.reconnects
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
                    and self.reconnects > sent_over
                ):
                    # Whatever paho kept from before a broken connection, send the
                    # unacknowledged readings again.
                    sent_over = self.reconnects
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
    (``ConfirmedPublisher``: pipelined publisher confirms), persistent and
    mandatory."""

    def __init__(self, amqp_uri: str, readings: list[dict], window: int = 1000):
        self.publisher = ConfirmedPublisher(
            pika_parameters(amqp_uri, "ems-burst"), DATA, window, backoff=backoff()
        )
        self.readings = readings

    @property
    def reconnects(self) -> int:
        return max(0, self.publisher.connections - 1)

    def run(self, timeout: float = 300.0) -> set[str]:
        messages = [
            Outgoing(
                r["reading_id"], reading_key(r["device_id"]), json.dumps(r).encode()
            )
            for r in self.readings
        ]
        try:
            acked = self.publisher.publish(messages, timeout=timeout)
        finally:
            self.publisher.close()
        if len(acked) < len(self.readings):
            raise BurstFailed(f"{len(acked)} of {len(self.readings)} acknowledged")
        return acked
