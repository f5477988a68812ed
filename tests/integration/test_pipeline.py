"""Readings through the whole pipeline: AMQP or MQTT in, balancer, both ingest
workers, hourly totals out through the API — with processes killed on the way."""

import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.clients import MqttDevice
from harness.polling import eventually
from harness.readings import publish_readings as publish_amqp
from harness.readings import recent_day, stored
from services.common.topology import (
    mqtt_reading_topic,
    reading_key,
)

pytestmark = pytest.mark.integration


def reading(device_id, stamp, kwh, reading_id=None):
    return {
        "reading_id": reading_id or str(uuid.uuid4()),
        "device_id": device_id,
        "timestamp": stamp,
        "kwh": kwh,
    }


def publish_mqtt(client, *bodies):
    """Publish as each body's device, with credentials the owner's ``client``
    issues for it."""
    logins = {}
    try:
        for body in bodies:
            device_id = body["device_id"]
            if device_id not in logins:
                answer = client.post(f"/api/devices/{device_id}/credentials")
                assert answer.status_code == 201, answer.text
                logins[device_id] = MqttDevice(answer.json())
                assert logins[device_id].connect()
            info = logins[device_id].publish(mqtt_reading_topic(device_id), body)
            assert info.is_published()
    finally:
        for device in logins.values():
            device.close()


def consumption(client, device_id, day):
    response = client.get(
        "/api/consumption/day", params={"device_id": device_id, "date": day}
    )
    assert response.status_code == 200, response.text
    return response.json()


BOUNDARY_READINGS = [  # out of order, late, across hour and day boundaries
    (f"{recent_day()}T10:15:00Z", 0.25),
    (f"{recent_day(-1)}T23:59:00Z", 0.5),  # late, the day before
    (f"{recent_day()}T11:00:00Z", 0.125),  # hour ending 11:00: counts in 10:00
    (f"{recent_day()}T00:00:00Z", 0.0625),  # counts in 23:00 of the day before
    (f"{recent_day()}T00:00:01Z", 0.03125),
]


@pytest.mark.parametrize("transport", ["amqp", "mqtt"])
def test_readings_count_exactly_per_utc_hour(stack, device, transport):
    device, _, client = device
    bodies = [reading(device["id"], stamp, kwh) for stamp, kwh in BOUNDARY_READINGS]
    if transport == "amqp":
        publish_amqp(stack, *bodies)
    else:
        publish_mqtt(client, *bodies)
    day = eventually(
        lambda: (
            (r := consumption(client, device["id"], recent_day()))["total_kwh"]
            == 0.40625
            and r
        )
    )
    hours = {h["hour"]: h["kwh"] for h in day["hours"] if h["kwh"]}
    assert hours == {
        f"{recent_day()}T00:00:00Z": 0.03125,
        f"{recent_day()}T10:00:00Z": 0.375,
    }
    before = consumption(client, device["id"], recent_day(-1))
    assert {h["hour"]: h["kwh"] for h in before["hours"] if h["kwh"]} == {
        f"{recent_day(-1)}T23:00:00Z": 0.5625
    }


def test_a_reading_sent_twice_counts_once(stack, device):
    device, _, client = device
    body = reading(device["id"], f"{recent_day()}T08:30:00Z", 0.2)
    publish_amqp(stack, body, body)
    publish_mqtt(client, body)
    eventually(
        lambda: consumption(client, device["id"], recent_day())["total_kwh"] == 0.2
    )
    publish_amqp(stack, body, reading(device["id"], f"{recent_day()}T08:45:00Z", 0.1))
    eventually(
        lambda: (
            consumption(client, device["id"], recent_day())["total_kwh"]
            == pytest.approx(0.3)
        )
    )
    time.sleep(1)
    assert consumption(client, device["id"], recent_day())["total_kwh"] == 0.3


def test_bad_messages_land_in_ems_dead_and_good_ones_flow(stack, device, admin):
    device, _, client = device
    key = reading_key(device["id"])
    ahead = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    bad = [
        (key, b"{not json"),
        (key, json.dumps({"device_id": device["id"], "kwh": 1}).encode()),
        (
            key,
            json.dumps(
                reading(device["id"], f"{recent_day()}T09:00:00Z", float("nan"))
            ).encode(),
        ),
        (
            key,
            json.dumps(reading(device["id"], f"{recent_day()}T09:00:00Z", -2)).encode(),
        ),
        (
            key,
            json.dumps(
                reading(device["id"], f"{recent_day()}T09:00:00Z", 5e5)
            ).encode(),
        ),
        (key, json.dumps(reading(device["id"], "22/11/2026 9am", 0.1)).encode()),
        (key, json.dumps(reading(device["id"], ahead, 0.1)).encode()),
    ]
    publish_amqp(
        stack, reading(device["id"], f"{recent_day()}T09:00:00Z", 0.1), raw=bad
    )
    publish_amqp(stack, reading(device["id"], f"{recent_day()}T09:30:00Z", 0.2))
    eventually(
        lambda: (
            consumption(client, device["id"], recent_day())["total_kwh"]
            == pytest.approx(0.3)
        )
    )
    reasons = {}

    def collect():
        # ems.dead is moved into monitoring's dead letters as it fills.
        listed = admin.get("/api/dead-letters", params={"limit": 500})
        assert listed.status_code == 200, listed.text
        for letter in listed.json():
            if letter["routing_key"] == key:
                reasons[letter["preview"]] = (letter["reason"], letter["routing_key"])
        return len(reasons) >= len(bad) and reasons

    eventually(collect, timeout=15)
    expected = [
        "undecodable",
        "missing fields",
        "not finite",
        "negative",
        "absurd",
        "unparseable timestamp",
        "ahead",
    ]
    for (_, body), fragment in zip(bad, expected, strict=True):
        reason, routing_key = reasons[body.decode()]
        assert fragment in reason
        assert routing_key == key  # under the key it was published with


def test_overconsumption_is_notified_once_per_device_hour(stack, device):
    device, user, client = device
    for minute in range(5, 60, 5):  # 11 × 0.2 kWh: over 1.0 from the sixth
        publish_amqp(
            stack, reading(device["id"], f"{recent_day()}T14:{minute:02d}:00Z", 0.2)
        )
    eventually(
        lambda: (
            consumption(client, device["id"], recent_day())["total_kwh"]
            == pytest.approx(2.2)
        )
    )
    time.sleep(1)
    notifications = client.get("/api/notifications").json()
    assert [(n["reason"], n["hour"], n["limit_kwh"]) for n in notifications] == [
        ("hourly", f"{recent_day()}T14:00:00Z", 1.0)
    ]
    assert notifications[0]["kwh"] > 1.0


def run_simulator(stack, device_id, *options, summary: Path, email=None):
    """``ems simulate`` for one device: given by id (published with the platform's
    own login), or as the only device of ``email``'s account, with its own
    credentials."""
    if email is None:
        source = ["--device", f"{device_id}:meter:5"]
    else:
        source = ["--email", email, "--password", "password-1"]
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("ems")),
            "simulate",
            *source,
            "--quiet",
            "--summary-json",
            str(summary),
            "--summary-reading-ids",
            *options,
        ],
        env=stack.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("transport", ["amqp", "mqtt"])
def test_simulated_history_adds_up_to_what_was_confirmed(
    stack, device, tmp_path, transport
):
    device, user, _ = device
    start = (datetime.now(UTC) - timedelta(hours=30)).isoformat()
    options = ["--start", start, "--interval", "15m"]
    if transport == "mqtt":
        options.append("--mqtt")
    summary_path = tmp_path / "summary.json"
    # The account's own device, publishing with its own credentials.
    simulator = run_simulator(
        stack, device["id"], *options, summary=summary_path, email=user["email"]
    )
    assert simulator.wait(timeout=120) == 0, simulator.stderr.read()
    summary = json.loads(summary_path.read_text())
    expected = summary["kwh_by_device"][device["id"]]
    assert summary["confirmed"] == 120
    count = eventually(lambda: (s := stored(stack, device["id"]))[0] == 120 and s)
    assert count[1] == 120
    assert count[2] == pytest.approx(expected, abs=1e-5)


def test_killed_worker_and_balancer_lose_and_double_nothing(stack, device, tmp_path):
    device, _, _ = device
    summary_path = tmp_path / "summary.json"
    start = (datetime.now(UTC) - timedelta(days=40)).isoformat()
    simulator = run_simulator(
        stack, device["id"], "--start", start, "--interval", "15m", summary=summary_path
    )
    kills = []
    try:
        # SIGKILL each while readings stream through it, then start it again.
        for name, after in (("monitoring_worker_1", 300), ("balancer", 1200)):
            counted = eventually(
                lambda after=after: (
                    (n := stored(stack, device["id"])[0]) >= after and n
                ),
                timeout=60,
                interval=0.05,
            )
            stack.kill(name)
            kills.append((name, counted))
            time.sleep(0.5)
            stack.start_process(name)
        assert simulator.wait(timeout=240) == 0, simulator.stderr.read()
    finally:
        if simulator.poll() is None:
            simulator.kill()
    summary = json.loads(summary_path.read_text())
    confirmed_ids = set(summary["reading_ids"])
    assert len(confirmed_ids) == summary["confirmed"] == 40 * 96
    # Both were killed before the last reading was counted.
    assert all(counted < len(confirmed_ids) for _, counted in kills), kills
    count, distinct, total = eventually(
        lambda: (s := stored(stack, device["id"]))[0] >= len(confirmed_ids) and s,
        timeout=120,
    )
    time.sleep(1)
    assert stored(stack, device["id"]) == (count, distinct, total)
    assert count == distinct == len(confirmed_ids)
    assert total == pytest.approx(summary["kwh_by_device"][device["id"]], abs=1e-4)
