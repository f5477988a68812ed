"""Metrics and probes of Nameko services on the real broker and database: a
service's /metrics, /livez and /readyz, and the ingest worker's counters."""

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from kombu import Connection
from nameko.standalone.rpc import ServiceRpcProxy
from prometheus_client.parser import text_string_to_metric_families

from harness.monitoring import FakeDevices, start_monitoring
from harness.polling import eventually
from harness.probes import fetch
from services.common.metrics import REGISTRY
from services.common.service_metrics import with_metrics
from services.common.topology import RECEIVED_AT_HEADER, ingest_queue
from services.users.service import UsersService

pytestmark = pytest.mark.usefixtures("clean_databases")

OWNER = "6f1c9d2e-0000-4000-8000-0000000000aa"
QUEUE = ingest_queue(1)


def target(resources, process: str) -> str:
    [group] = json.loads((resources.metrics_dir / f"{process}.json").read_text())
    assert group["labels"] == {"process": process, "program": "users"}
    return group["targets"][0]


def sample(text: str, name: str, labels: dict) -> float | None:
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and labels.items() <= found.labels.items():
                return found.value
    return None


def test_a_service_serves_its_rpc_durations_and_is_ready(
    container_factory, service_config, resources
):
    settings = service_config("users")
    settings["METRICS"] = {**settings["METRICS"], "process": "users_metrics_test"}
    container_factory(with_metrics(UsersService), settings).start()
    address = target(resources, "users_metrics_test")

    with ServiceRpcProxy("users", service_config()) as users:
        assert users.health() == {"status": "ok"}

    status, body = fetch(f"http://{address}/metrics")
    assert status == 200
    labels = {"service": "users", "method": "health", "outcome": "ok"}
    assert sample(body.decode(), "ems_rpc_duration_seconds_count", labels) >= 1
    assert sample(body.decode(), "ems_process_start_time_seconds", {}) > 0
    assert fetch(f"http://{address}/livez")[0] == 200
    status, body = eventually(
        lambda: (answer := fetch(f"http://{address}/readyz"))[0] == 200 and answer
    )
    assert json.loads(body) == {"status": "ok", "failing": {}}


def test_readyz_names_a_database_that_does_not_answer(
    container_factory, service_config, resources
):
    settings = service_config(
        "users",
        DATABASE_URL="postgresql+psycopg2://ems:ems@127.0.0.1:5432/no_such_database",
    )
    settings["METRICS"] = {**settings["METRICS"], "process": "users_without_db"}
    container_factory(with_metrics(UsersService), settings).start()
    address = target(resources, "users_without_db")

    status, body = fetch(f"http://{address}/readyz")
    assert status == 503
    answer = json.loads(body)
    assert answer["status"] == "unavailable"
    assert set(answer["failing"]) == {"database"}
    assert "no_such_database" in answer["failing"]["database"]
    # Alive all the same: the process runs, its database does not answer.
    assert fetch(f"http://{address}/livez")[0] == 200


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_ingest_worker_counts_a_batch_its_lag_and_rejections(
    container_factory, service_config
):
    config = start_monitoring(container_factory, service_config, QUEUE)
    device_id = str(uuid.uuid4())
    FakeDevices.devices[device_id] = {
        "id": device_id,
        "user_id": OWNER,
        "name": "Meter",
        "kind": "meter",
        "max_hourly_kwh": 100.0,
        "reading_interval_s": 60,
        "updated_at": "2026-12-01T00:00:00+00:00",
        "site_id": None,
        "room_id": None,
    }
    before = {
        "amqp": value("ems_readings_committed_total", path="amqp"),
        "mqtt": value("ems_readings_committed_total", path="mqtt"),
        "unknown": value("ems_readings_rejected_total", reason="unknown device"),
        "lag": value("ems_ingest_lag_seconds_count"),
        "publish_lag": value("ems_ingest_publish_lag_seconds_count"),
        "batches": value("ems_ingest_batch_size_count"),
    }
    now = datetime.now(UTC)
    received_at = time.time()

    def reading(device: str, minutes: int) -> dict:
        return {
            "reading_id": uuid.uuid4().hex,
            "device_id": device,
            "timestamp": (now - timedelta(minutes=minutes)).isoformat(),
            "kwh": 0.1,
        }

    stranger = str(uuid.uuid4())
    # As the balancer forwards them: under the ingest queue's name, with the
    # original key and its receipt in the headers.
    messages = [
        (f"device.{device_id}.reading", reading(device_id, 1)),
        (f"device.{device_id}.reading", reading(device_id, 2)),
        (f"ems.devices.{device_id}.reading", reading(device_id, 3)),
        (f"device.{stranger}.reading", reading(stranger, 4)),
    ]
    with Connection(config["AMQP_URI"]) as connection:
        producer = connection.Producer()
        for key, body in messages:
            producer.publish(
                body,
                exchange="",
                routing_key=QUEUE.name,
                declare=[QUEUE],
                serializer="json",
                delivery_mode=2,
                headers={
                    "x-ems-routing-key": key,
                    RECEIVED_AT_HEADER: f"{received_at:.6f}",
                },
            )

    eventually(
        lambda: value("ems_readings_committed_total", path="amqp") - before["amqp"] == 2
    )
    assert value("ems_readings_committed_total", path="mqtt") - before["mqtt"] == 1
    assert (
        value("ems_readings_rejected_total", reason="unknown device")
        - before["unknown"]
        == 1
    )
    assert value("ems_ingest_lag_seconds_count") - before["lag"] == 3
    assert value("ems_ingest_publish_lag_seconds_count") - before["publish_lag"] == 3
    assert value("ems_ingest_batch_size_count") > before["batches"]
