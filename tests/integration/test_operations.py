"""The operations overview of the running platform: Prometheus's figures of the
reading pipeline, every process's health as its own probe says, and the latest
errors of the processes a failing request went through."""

import uuid

import pytest
from sqlalchemy import create_engine, text

from harness.polling import eventually
from harness.stack import metrics_processes
from services.common.metrics import version

pytestmark = pytest.mark.integration


def overview(admin) -> dict:
    answer = admin.get("/api/operations")
    assert answer.status_code == 200, answer.text
    return answer.json()


def stage(document: dict, name: str) -> dict:
    [found] = [s for s in document["pipeline"] + document["push"] if s["stage"] == name]
    return found


def test_only_an_admin_sees_the_operations(stack, anonymous, new_user):
    assert anonymous.get("/api/operations").status_code == 401
    _, household = new_user()
    answer = household.get("/api/operations")
    assert answer.status_code == 403
    assert answer.json()["error"] == "FORBIDDEN"


def test_the_pipeline_shows_the_readings_flowing_and_every_process_ready(stack, admin):
    processes = metrics_processes()

    seen = {}

    def all_ready():
        document = overview(admin)
        seen.update(health={p["process"]: p["health"] for p in document["processes"]})
        health = seen["health"]
        return set(health) == processes and set(health.values()) == {"ok"} and document

    try:
        document = eventually(all_ready, timeout=60, interval=1)
    except AssertionError:
        pytest.fail(f"expected {sorted(processes)} ok, saw {seen}")
    assert document["metrics"] == {"status": "ok"}
    gateway = next(p for p in document["processes"] if p["process"] == "gateway")
    assert gateway["version"] == version()
    assert gateway["uptime_seconds"] > 0
    # Each ingest worker consumes its own queue.
    workers = stage(document, "workers")["queues"]
    assert [(q["name"], q["consumers"]) for q in workers] == [
        ("monitoring.ingest.1", 1),
        ("monitoring.ingest.2", 1),
    ]
    assert "balancer.raw" in {q["name"] for q in stage(document, "broker")["queues"]}

    # The simulator feeds the demo household over MQTT: its readings are counted
    # at every stage, and their lag measured.
    def flowing():
        document = overview(admin)
        seen.update(document=document)
        devices, database = stage(document, "devices"), stage(document, "database")
        return (
            (devices["paths"].get("mqtt") or 0) > 0
            and (database["rate"] or 0) > 0
            and database["publish_lag"]["p99"] is not None
            and document
        )

    try:
        document = eventually(flowing, timeout=90, interval=2)
    except AssertionError:
        pytest.fail(f"no readings seen flowing: {seen['document']}")
    assert stage(document, "balancer")["rate"] == stage(document, "devices")["rate"]


def test_a_failing_request_shows_its_errors_with_its_id(stack, admin):
    """The audit log's table is taken away under the audit service: listing it
    fails in audit and, in turn, in the gateway; both errors are on the page
    with the request's id."""
    engine = create_engine(stack.resources.databases["auditdb"])
    request_id = f"ops-{uuid.uuid4().hex}"
    try:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE audit_records RENAME TO away"))
        failed = admin.get("/api/audit", headers={"X-Request-Id": request_id})
        assert failed.status_code == 500
        assert failed.json()["request_id"] == request_id
    finally:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE away RENAME TO audit_records"))
        engine.dispose()
    assert admin.get("/api/audit").status_code == 200

    def errors_of_the_request():
        found = {
            error["process"]
            for error in overview(admin)["errors"]
            if error["correlation_id"] == request_id
        }
        return found >= {"audit", "gateway"} and found

    eventually(errors_of_the_request, timeout=30, interval=1)
    [from_audit] = [
        error
        for error in overview(admin)["errors"]
        if error["correlation_id"] == request_id and error["process"] == "audit"
    ]
    assert from_audit["level"] == "ERROR"
    assert "audit_records" in from_audit["message"]


def test_a_killed_process_is_down_until_it_is_back(stack, admin):
    name = "monitoring_worker_2"

    def health():
        return {p["process"]: p["health"] for p in overview(admin)["processes"]}[name]

    stack.kill(name)
    try:
        eventually(lambda: health() == "down", timeout=30, interval=1)

        # Its queue waits without a consumer meanwhile.
        def consumers():
            workers = stage(overview(admin), "workers")["queues"]
            return {q["name"]: q["consumers"] for q in workers}["monitoring.ingest.2"]

        eventually(lambda: consumers() == 0, timeout=30, interval=1)
    finally:
        stack.start_process(name)
    eventually(lambda: health() == "ok", timeout=60, interval=1)
