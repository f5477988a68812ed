"""Bursts at full speed are counted exactly once: over MQTT (RabbitMQ's MQTT plugin)
and over AMQP, from one device and from a hundred at once, each device publishing
with its own credentials."""

import threading

import pytest

from harness.bursts import KWH, AmqpBurst, MqttBurst, readings_of
from harness.polling import eventually
from harness.readings import stored
from simulator.publisher import DeviceLogin

pytestmark = pytest.mark.integration


def new_devices(client, count: int) -> list[dict]:
    devices = []
    for n in range(count):
        created = client.post(
            "/api/devices",
            {"name": f"Meter {n}", "kind": "meter", "max_hourly_kwh": 1000},
        )
        assert created.status_code == 201, created.text
        devices.append(created.json())
    return devices


def credentials(client, device_id: str) -> dict:
    answer = client.post(f"/api/devices/{device_id}/credentials")
    assert answer.status_code == 201, answer.text
    return answer.json()


def assert_counted_once(stack, device_ids: list[str], acked: set[str]) -> None:
    expected = (len(acked), len(acked), pytest.approx(len(acked) * KWH, abs=1e-6))
    eventually(lambda: stored(stack, *device_ids)[0] >= len(acked), timeout=180)
    assert stored(stack, *device_ids) == expected


def test_an_mqtt_burst_counts_exactly_once(stack, new_user):
    _, client = new_user()
    (device,) = new_devices(client, 1)
    readings = readings_of(device["id"], 20_000)
    acked = MqttBurst(credentials(client, device["id"]), readings).run()
    assert acked == {r["reading_id"] for r in readings}
    assert_counted_once(stack, [device["id"]], acked)


def test_an_amqp_burst_counts_exactly_once(stack, new_user):
    _, client = new_user()
    (device,) = new_devices(client, 1)
    readings = readings_of(device["id"], 20_000)
    login = DeviceLogin.from_answer(credentials(client, device["id"]))
    acked = AmqpBurst(login.amqp_uri(stack.resources.amqp_uri), readings).run()
    assert acked == {r["reading_id"] for r in readings}
    assert_counted_once(stack, [device["id"]], acked)


def test_a_hundred_devices_at_once_count_exactly_once(stack, new_user):
    devices = []
    for _ in range(2):
        _, client = new_user()
        devices += [(client, d) for d in new_devices(client, 50)]
    bursts = [
        MqttBurst(credentials(client, d["id"]), readings_of(d["id"], 100), window=100)
        for client, d in devices
    ]
    results: list[set[str]] = []
    threads = [
        threading.Thread(target=lambda b=burst: results.append(b.run()))
        for burst in bursts
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert len(results) == 100
    acked = set().union(*results)
    assert len(acked) == 100 * 100
    assert_counted_once(stack, [d["id"] for _, d in devices], acked)
