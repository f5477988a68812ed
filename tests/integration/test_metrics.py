"""Every process's metrics and probes in the running platform, found as Prometheus
finds them: through the target files in the installation's metrics folder."""

import json
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.clients import MqttDevice
from harness.polling import eventually
from harness.probes import fetch
from harness.readings import publish_readings as publish_amqp
from harness.stack import metrics_processes
from services.common.topology import mqtt_reading_topic

pytestmark = pytest.mark.integration

WORKERS = ("monitoring_worker_1", "monitoring_worker_2")


def publish_mqtt(client, device_id: str, *bodies) -> None:
    """Publish as the device, with credentials its owner's ``client`` issues."""
    answer = client.post(f"/api/devices/{device_id}/credentials")
    assert answer.status_code == 201, answer.text
    mqtt = MqttDevice(answer.json())
    assert mqtt.connect()
    try:
        for body in bodies:
            assert mqtt.publish(mqtt_reading_topic(device_id), body).is_published()
    finally:
        mqtt.close()


def total(stack, processes, name: str, **labels) -> float:
    """The sum of ``name``'s samples with ``labels`` over ``processes``."""
    found = 0.0
    for process in processes:
        status, body = fetch(stack.metrics_url(process))
        assert status == 200, process
        for family in text_string_to_metric_families(body.decode()):
            for sample in family.samples:
                if sample.name == name and labels.items() <= sample.labels.items():
                    found += sample.value
    return found


def test_every_process_has_a_target_file_and_is_ready(stack):
    expected = metrics_processes()
    targets = stack.metrics_targets()
    assert set(targets) == expected
    assert targets["monitoring_worker_2"]["labels"] == {
        "process": "monitoring_worker_2",
        "program": "monitoring_worker",
    }
    for process in expected:
        eventually(lambda p=process: fetch(stack.metrics_url(p, "/readyz"))[0] == 200)
        assert fetch(stack.metrics_url(process, "/livez"))[0] == 200


def test_readings_over_amqp_and_mqtt_move_the_counters_and_the_lag(stack, device):
    device, _, client = device

    def counts():
        return {
            "received_amqp": total(
                stack, ["balancer"], "ems_readings_received_total", path="amqp"
            ),
            "received_mqtt": total(
                stack, ["balancer"], "ems_readings_received_total", path="mqtt"
            ),
            "amqp": total(stack, WORKERS, "ems_readings_committed_total", path="amqp"),
            "mqtt": total(stack, WORKERS, "ems_readings_committed_total", path="mqtt"),
            "lag": total(stack, WORKERS, "ems_ingest_lag_seconds_count"),
            "publish_lag": total(
                stack, WORKERS, "ems_ingest_publish_lag_seconds_count"
            ),
            "batches": total(stack, WORKERS, "ems_ingest_batch_size_count"),
        }

    before = counts()
    now = datetime.now(UTC)

    def reading(minutes: int) -> dict:
        return {
            "reading_id": str(uuid.uuid4()),
            "device_id": device["id"],
            "timestamp": (now - timedelta(minutes=minutes)).isoformat(),
            "kwh": 0.01,
        }

    publish_amqp(stack, *(reading(minutes) for minutes in (1, 2, 3)))
    publish_mqtt(client, device["id"], *(reading(minutes) for minutes in (4, 5)))

    # The simulator feeds the demo household alongside: at least this test's.
    def moved():
        now = counts()
        return all(
            now[key] - before[key] >= least
            for key, least in (
                ("received_amqp", 3),
                ("received_mqtt", 2),
                ("amqp", 3),
                ("mqtt", 2),
                ("lag", 5),
                ("publish_lag", 5),
                ("batches", 1),
            )
        )

    try:
        eventually(moved)
    except AssertionError:
        after = counts()
        pytest.fail(f"moved: { {key: after[key] - before[key] for key in after} }")


def test_the_gateway_times_each_route_by_its_template(stack, device):
    device, _, client = device
    route = "/api/devices/<string:device_id>"

    def count():
        return total(
            stack,
            ["gateway"],
            "ems_http_request_duration_seconds_count",
            route=route,
            method="GET",
            status="200",
        )

    before = count()
    assert client.get(f"/api/devices/{device['id']}").status_code == 200
    assert count() - before == 1
    # Every RPC the gateway forwards to is timed where it is served, too.
    assert (
        total(
            stack,
            ["devices"],
            "ems_rpc_duration_seconds_count",
            service="devices",
            method="get_device",
            outcome="ok",
        )
        >= 1
    )


def test_devices_counts_each_status_its_commands_reach(stack, device):
    device, _, client = device

    def pending():
        return total(stack, ["devices"], "ems_commands_total", status="pending")

    before = pending()
    path = f"/api/devices/{device['id']}/commands"
    for _ in range(3):
        assert client.post(path, {"type": "ping"}).status_code == 202
    # Nobody listens for this device: they wait, pending, until they expire. The
    # counter is the process's: tests beside this one may add their commands.
    assert pending() - before >= 3


def test_a_killed_worker_keeps_its_target_file_but_stops_answering(stack):
    name = "monitoring_worker_2"
    target = stack.resources.metrics_dir / f"{name}.json"
    url = stack.metrics_url(name, "/readyz")
    stack.kill(name)
    try:
        assert target.exists()
        assert json.loads(target.read_text())[0]["labels"]["process"] == name
        with pytest.raises(OSError):
            urllib.request.urlopen(url, timeout=2)
        with pytest.raises(OSError):
            urllib.request.urlopen(stack.metrics_url(name), timeout=2)
    finally:
        stack.start_process(name)
    # Back, it writes its file anew (another port) and becomes ready.
    eventually(lambda: fetch(stack.metrics_url(name, "/readyz"))[0] == 200, timeout=60)
