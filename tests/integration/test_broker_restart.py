"""The broker killed (SIGKILL) and started again in the middle of bursts over MQTT and
AMQP: every reading it acknowledged is counted, and none twice.

RabbitMQ's MQTT plugin is the whole MQTT-to-``ems.data`` path, so killing the
broker kills that path too. The platform runs on a RabbitMQ node of its own
(``PrivateBroker``), so the rest of the test run keeps its broker.
"""

import threading

import pytest
import requests

from harness.broker import PrivateBroker
from harness.bursts import KWH, AmqpBurst, MqttBurst, readings_of
from harness.polling import eventually
from harness.readings import stored
from harness.stack import Stack, read_procfile
from simulator.publisher import DeviceLogin

# Two bursts of 20,000 readings and a broker restart: minutes on a busy machine.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

READINGS = 20_000


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    node = PrivateBroker(tmp_path_factory.mktemp("broker")).start()
    yield node
    node.stop()


@pytest.fixture(scope="module")
def platform(tmp_path_factory, broker):
    # Everything but the simulator (it would feed the demo household) and the web app.
    processes = [name for name in read_procfile() if name not in ("simulator", "web")]
    stack = Stack(tmp_path_factory.mktemp("stack"), processes=processes, broker=broker)
    stack.start()
    yield stack
    stack.stop()


def api(platform, method, path, token=None, body=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.request(
        method, platform.url(path), json=body, headers=headers, timeout=15
    )
    assert response.ok, response.text
    return response.json()


def test_bursts_survive_the_broker_killed_and_restarted(platform, broker):
    email = "kill@example.com"
    api(platform, "POST", "/api/auth/register", body={
        "email": email, "password": "password-1", "name": "Kill",
    })  # fmt: skip
    token = api(platform, "POST", "/api/auth/login", body={
        "email": email, "password": "password-1",
    })["access_token"]  # fmt: skip
    devices = [
        api(
            platform,
            "POST",
            "/api/devices",
            token,
            {
                "name": name,
                "kind": "meter",
                "max_hourly_kwh": 1000,
            },
        )["id"]  # fmt: skip
        for name in ("over MQTT", "over AMQP")
    ]
    logins = [
        api(platform, "POST", f"/api/devices/{device}/credentials", token)
        for device in devices
    ]
    readings = [readings_of(device, READINGS) for device in devices]
    bursts = [
        MqttBurst(logins[0], readings[0]),
        AmqpBurst(
            DeviceLogin.from_answer(logins[1]).amqp_uri(platform.resources.amqp_uri),
            readings[1],
        ),
    ]
    acked: list[set[str]] = [set(), set()]
    errors = []

    def run(index):
        try:
            acked[index] = bursts[index].run(timeout=600)
        except Exception as exc:  # reported below, with the other burst's result
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    # Kill the broker once both bursts are under way and part of them is counted.
    eventually(lambda: stored(platform, *devices)[0] >= 2_000, timeout=120)
    counted_before = stored(platform, *devices)[0]
    broker.kill()
    broker.start()
    for thread in threads:
        thread.join(timeout=700)
    assert not errors, errors
    assert counted_before < 2 * READINGS
    assert bursts[0].reconnects >= 2 and bursts[1].reconnects >= 1
    for index in (0, 1):
        assert acked[index] == {r["reading_id"] for r in readings[index]}
    eventually(
        lambda: stored(platform, *devices)[0] >= 2 * READINGS,
        timeout=300,
        interval=1,
    )
    for device in devices:
        assert stored(platform, device) == (
            READINGS,
            READINGS,
            pytest.approx(READINGS * KWH, abs=1e-6),
        )
