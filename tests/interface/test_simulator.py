"""``ems simulate`` against the real brokers: RabbitMQ in the test's vhost, Mosquitto.

The simulator runs as a subprocess, as it does in production: this process is
monkey-patched by eventlet and shares nothing with it but the brokers.
"""

import json
import math
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt

import config as settings
from services.common.topology import DATA, READING_KEY, mqtt_reading_topic, reading_key

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def command(*argv: str) -> list[str]:
    return [sys.executable, "-m", "ems.cli", "simulate", *argv]


def environment(amqp_uri: str) -> dict:
    return dict(os.environ, EMS_AMQP_URI=amqp_uri, PYTHONWARNINGS="ignore")


def simulate(amqp_uri: str, *argv: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        command(*argv),
        cwd=settings.ROOT_DIR,
        env=environment(amqp_uri),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result


def device_ids(count: int = 2) -> list[str]:
    prefix = f"simtest-{uuid.uuid4().hex[:8]}"
    return [f"{prefix}-{n}" for n in range(count)]


def assert_contract(reading: dict) -> None:
    assert set(reading) == {"reading_id", "device_id", "timestamp", "kwh"}
    assert uuid.UUID(reading["reading_id"]).version == 4
    assert TIMESTAMP.fullmatch(reading["timestamp"])
    kwh = reading["kwh"]
    assert isinstance(kwh, int | float) and math.isfinite(kwh) and kwh >= 0
    assert round(kwh, 6) == kwh


def sums_by_device(readings) -> dict:
    sums = {}
    for reading in readings:
        sums[reading["device_id"]] = sums.get(reading["device_id"], 0) + reading["kwh"]
    return sums


def test_live_readings_arrive_once_each_and_add_up(rabbit_config, listen, tmp_path):
    listener = listen(DATA, READING_KEY)
    ids = device_ids()
    summary_path = tmp_path / "summary.json"
    result = simulate(
        rabbit_config["AMQP_URI"],
        "--device", ids[0],
        "--device", f"{ids[1]}:heat_pump:2",
        "--count", "50", "--rate", "200", "--seed", "42",
        "--summary-json", str(summary_path), "--summary-reading-ids",
    )  # fmt: skip
    received = listener.messages(wait=15, until=50)
    assert listener.messages(wait=0.5) == []
    assert len(received) == 50
    for routing_key, reading in received:
        assert_contract(reading)
        assert reading["device_id"] in ids
        assert routing_key == reading_key(reading["device_id"])
    readings = [reading for _, reading in received]
    summary = json.loads(summary_path.read_text())
    assert summary["confirmed"] == summary["sent"] == 50 and summary["resent"] == 0
    assert {r["reading_id"] for r in readings} == set(summary["reading_ids"])
    assert len(set(summary["reading_ids"])) == 50
    received_sums = sums_by_device(readings)
    assert received_sums.keys() == summary["kwh_by_device"].keys() == set(ids)
    for device_id, kwh in summary["kwh_by_device"].items():
        assert abs(kwh - received_sums[device_id]) < 1e-6
    assert "sent 50, confirmed 50, resent 0" in result.stdout
    assert len(result.stdout.splitlines()) == 50 + 1 + 2


def test_backfill_gives_one_reading_per_device_and_quarter_hour(rabbit_config, listen):
    listener = listen(DATA, READING_KEY)
    ids = device_ids()
    quarter = 15 * 60
    before = datetime.now(UTC)
    start = datetime.fromtimestamp(before.timestamp() // quarter * quarter, UTC)
    start -= timedelta(hours=3)
    result = simulate(
        rabbit_config["AMQP_URI"],
        "--device", ids[0], "--device", f"{ids[1]}:ev_charger:11",
        "--start", start.isoformat().replace("+00:00", "Z"), "--interval", "15m",
        "--quiet",
    )  # fmt: skip
    after = datetime.now(UTC)
    # A quarter-hour that ends while the simulator starts up belongs in it too.
    crossed = int(after.timestamp()) // quarter != int(before.timestamp()) // quarter
    expected = {12, 13} if crossed else {12}
    received = listener.messages(wait=15, until=2 * 13 if crossed else 2 * 12)
    assert listener.messages(wait=0.5) == []
    assert result.stdout.startswith("sent ")
    for device_id in ids:
        readings = [r for key, r in received if key == reading_key(device_id)]
        assert len(readings) in expected
        stamps = [datetime.fromisoformat(r["timestamp"]) for r in readings]
        assert len(set(stamps)) == len(stamps)
        assert min(stamps) == start + timedelta(minutes=15)
        for reading, stamp in zip(readings, stamps, strict=True):
            assert_contract(reading)
            assert stamp.timestamp() % quarter == 0
            assert start < stamp <= after


def test_an_unroutable_reading_is_resent_until_a_queue_takes_it(
    rabbit_config, listen, tmp_path
):
    # No queue is bound yet: the broker returns the reading as unroutable.
    device = device_ids(1)[0]
    summary_path, errors = tmp_path / "summary.json", tmp_path / "stderr"
    with open(errors, "w") as stderr:
        process = subprocess.Popen(
            command(
                "--device", device, "--count", "1", "--quiet",
                "--summary-json", str(summary_path), "--summary-reading-ids",
            ),
            cwd=settings.ROOT_DIR,
            env=environment(rabbit_config["AMQP_URI"]),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while "not confirmed" not in errors.read_text():
                assert time.monotonic() < deadline, errors.read_text()
                time.sleep(0.1)
            listener = listen(DATA, READING_KEY)
            stdout, _ = process.communicate(timeout=60)
        finally:
            process.kill()
    assert process.returncode == 0 and "Unroutable" in errors.read_text()
    summary = json.loads(summary_path.read_text())
    assert summary["confirmed"] == summary["sent"] == 1 and summary["resent"] >= 1
    received = listener.messages(wait=10, until=1)
    assert listener.messages(wait=0.5) == []
    assert [reading["reading_id"] for _, reading in received] == summary["reading_ids"]


class Subscriber:
    """An MQTT client that keeps what arrives on some topics."""

    def __init__(self, topics: list[str]):
        conf = settings.load("simulator")
        self.received = []
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"simtest-{uuid.uuid4().hex}"
        )
        subscribed = threading.Event()
        self.client.on_message = self.on_message
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.connect(conf["MQTT_HOST"], int(conf["MQTT_PORT"]))
        self.client.loop_start()
        self.client.subscribe([(topic, 1) for topic in topics])
        assert subscribed.wait(10), "Mosquitto did not confirm the subscription"

    def on_message(self, client, userdata, message):
        self.received.append((message.topic, json.loads(message.payload)))

    def wait_for(self, count: int, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.received)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def test_mqtt_readings_reach_the_device_topics(rabbit_config):
    ids = device_ids()
    subscriber = Subscriber([mqtt_reading_topic(device_id) for device_id in ids])
    try:
        result = simulate(
            rabbit_config["AMQP_URI"],
            "--mqtt", "--device", ids[0], "--device", ids[1],
            "--count", "10", "--rate", "50",
        )  # fmt: skip
        received = subscriber.wait_for(10)
        time.sleep(0.3)
        assert len(subscriber.received) == 10
    finally:
        subscriber.close()
    assert "sent 10, confirmed 10, resent 0" in result.stdout
    assert len({reading["reading_id"] for _, reading in received}) == 10
    for topic, reading in received:
        assert_contract(reading)
        assert topic == mqtt_reading_topic(reading["device_id"])
    assert {reading["device_id"] for _, reading in received} == set(ids)
