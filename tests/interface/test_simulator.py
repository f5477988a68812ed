"""``ems simulate`` against the real broker: RabbitMQ in the test's vhost.

The simulator runs as a subprocess, as it does in production: this process is
monkey-patched by eventlet and shares nothing with it but the brokers.
"""

import json
import math
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import config
from config import variables as v
from config.environment import environment as config_environment
from services.common.topology import DATA, READING_KEY, reading_key

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def command(*argv: str) -> list[str]:
    return [sys.executable, "-m", "ems.cli", "simulate", *argv]


def environment(amqp_uri: str) -> dict:
    login = config_environment({v.BROKER_LOGINS["simulator"]: amqp_uri})
    return {**os.environ, **login, "PYTHONWARNINGS": "ignore"}


def simulate(amqp_uri: str, *argv: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        command(*argv),
        cwd=config.ROOT_DIR,
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
            cwd=config.ROOT_DIR,
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


def test_mqtt_needs_device_credentials(rabbit_config):
    """Over MQTT every device logs in as itself, so devices given by id alone (no
    account to issue their credentials) are refused before anything is sent."""
    result = subprocess.run(
        command("--mqtt", "--device", device_ids()[0], "--count", "1"),
        cwd=config.ROOT_DIR,
        env=environment(rabbit_config["AMQP_URI"]),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--mqtt publishes with each device's credentials" in result.stderr
