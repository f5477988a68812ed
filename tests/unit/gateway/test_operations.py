"""The operations overview from what Prometheus and the processes answer: a
stand-in for Prometheus's API, real metrics servers for the processes."""

import logging
from collections import deque
from datetime import UTC, datetime

import pytest

from gateway.operations import (
    QUERIES,
    Overview,
    Prometheus,
    Unavailable,
    latest_errors,
    pipeline,
    processes,
    push,
)
from harness.probes import metrics_server
from services.common.metrics import Probes
from services.common.tracing import RecentErrors

NOW = datetime(2026, 12, 2, 16, 0, tzinfo=UTC)


def sample(value, **labels) -> dict:
    return {"metric": labels, "value": [NOW.timestamp(), str(value)]}


ANSWERS = {
    **{key: [] for key in QUERIES},
    "received": [sample(12.5, path="amqp"), sample(4, path="mqtt")],
    "committed": [sample(16.25)],
    "rejected": [sample(0)],
    "lag_p50": [sample("NaN")],
    "lag_p99": [sample(0.2)],
    "messages": [
        sample(0, queue="balancer.raw"),
        sample(7, queue="monitoring.ingest.1"),
        sample(0, queue="monitoring.ingest.2"),
        sample(2, queue="ems.dead"),
        sample(0, queue="amq.gen-abc"),
        sample(0, queue="devices.sync"),
    ],
    "consumers": [
        sample(1, queue="balancer.raw"),
        sample(1, queue="monitoring.ingest.1"),
        sample(0, queue="monitoring.ingest.2"),
        sample(1, queue="amq.gen-abc"),
    ],
    "sockets": [sample(3)],
    "deliveries": [sample(5.5)],
}


def test_the_pipeline_is_its_stages_in_order_with_their_figures():
    stages = pipeline(ANSWERS)
    assert [stage["stage"] for stage in stages] == [
        "devices",
        "broker",
        "balancer",
        "workers",
        "database",
    ]
    devices, broker, balancer, workers, database = stages
    assert devices["paths"] == {"amqp": 12.5, "mqtt": 4.0}
    assert devices["rate"] == balancer["rate"] == 16.5
    assert broker["queues"] == [
        {"name": "balancer.raw", "messages": 0, "consumers": 1},
        {"name": "ems.dead", "messages": 2, "consumers": None},
    ]
    assert [q["name"] for q in workers["queues"]] == [
        "monitoring.ingest.1",
        "monitoring.ingest.2",
    ]
    assert workers["queues"][1]["consumers"] == 0
    assert database["rate"] == 16.25
    # A quantile of nothing is no number; one never measured is not zero either.
    assert database["lag"] == {"p50": None, "p99": 0.2}
    assert database["publish_lag"] == {"p50": None, "p99": None}


def test_the_push_path_is_the_gateways_queues_and_sockets():
    events, sockets = push(ANSWERS)
    assert events["queues"] == [{"name": "amq.gen-abc", "messages": 0, "consumers": 1}]
    assert (sockets["sockets"], sockets["rate"], sockets["dropped_rate"]) == (
        3,
        5.5,
        None,
    )


def target(process, program, url="http://127.0.0.1:1/metrics", job="ems"):
    return {
        "labels": {"job": job, "process": process, "program": program},
        "scrapeUrl": url,
        "health": "up",
    }


def test_each_process_shows_its_health_version_and_uptime():
    answers = {
        **ANSWERS,
        "versions": [{"metric": {"process": "gateway", "version": "0.1.0"}}],
        "started": [sample(NOW.timestamp() - 90, process="gateway")],
    }
    asked = {
        "gateway": ((200, {"status": "ok", "failing": {}}), []),
        "monitoring_worker_1": (
            (503, {"status": "unavailable", "failing": {"database": "refused"}}),
            [],
        ),
        "balancer": (None, []),
    }
    rows = processes(
        [
            target("monitoring_worker_1", "monitoring_worker"),
            target("gateway", "gateway"),
            target("balancer", "balancer"),
        ],
        answers,
        asked,
        NOW,
    )
    assert [row["process"] for row in rows] == [
        "balancer",
        "gateway",
        "monitoring_worker_1",
    ]
    balancer, gateway, worker = rows
    assert gateway == {
        "process": "gateway",
        "program": "gateway",
        "health": "ok",
        "failing": {},
        "version": "0.1.0",
        "started_at": "2026-12-02T15:58:30Z",
        "uptime_seconds": 90.0,
    }
    assert (worker["health"], worker["failing"]) == ("unready", {"database": "refused"})
    assert balancer["health"] == "down"
    assert balancer["uptime_seconds"] is None


def test_the_latest_errors_of_every_process_together_newest_first():
    def record(at, message):
        return {
            "time": at,
            "level": "ERROR",
            "logger": "x",
            "message": message,
            "correlation_id": None,
        }

    asked = {
        "gateway": (None, [record("2026-12-02T15:00:02.000+00:00", "b")]),
        "auth": (
            None,
            [
                record("2026-12-02T15:00:03.000+00:00", "c"),
                record("2026-12-02T15:00:01.000+00:00", "a"),
            ],
        ),
    }
    errors = latest_errors(asked)
    assert [(e["process"], e["message"]) for e in errors] == [
        ("auth", "c"),
        ("gateway", "b"),
        ("auth", "a"),
    ]
    assert errors[0]["at"] == "2026-12-02T15:00:03.000+00:00"


class FakePrometheus:
    """Prometheus's API as the overview uses it, answering ``answers``."""

    def __init__(self, targets, answers):
        self._targets = targets
        self.answers = {QUERIES[key]: value for key, value in answers.items()}

    def targets(self):
        return self._targets

    def query(self, promql):
        return self.answers[promql]


@pytest.fixture
def worker(tmp_path, monkeypatch):
    """A process's real metrics server, its readiness failing on demand."""
    monkeypatch.setattr(RecentErrors, "RECENT", deque(maxlen=5))
    state = {"database": None}
    probes = Probes()
    probes.ready("database", lambda: state["database"])
    with metrics_server(tmp_path, probes) as url:
        yield f"{url}/metrics", state


def test_the_overview_asks_each_process_for_its_readiness_and_errors(worker):
    url, state = worker
    handler = RecentErrors()
    handler.handle(
        logging.LogRecord("ems.ingest", logging.ERROR, "", 1, "commit failed", (), None)
    )
    state["database"] = "connection refused"
    targets = [
        target("monitoring_worker_1", "monitoring_worker", url),
        # Not the platform's: Prometheus scrapes the broker too.
        target("rabbitmq", "rabbitmq", url, job="rabbitmq"),
        # Gone: nothing answers at its address.
        target("monitoring_worker_2", "monitoring_worker"),
    ]
    overview = Overview(FakePrometheus(targets, ANSWERS), process_timeout=2)()
    assert overview["metrics"] == {"status": "ok"}
    assert [(p["process"], p["health"]) for p in overview["processes"]] == [
        ("monitoring_worker_1", "unready"),
        ("monitoring_worker_2", "down"),
    ]
    assert overview["processes"][0]["failing"] == {"database": "connection refused"}
    [error] = overview["errors"]
    assert (error["process"], error["logger"], error["message"]) == (
        "monitoring_worker_1",
        "ems.ingest",
        "commit failed",
    )
    assert overview["pipeline"][3]["rate"] == 16.25


def test_without_prometheus_the_overview_says_why_and_shows_no_figures():
    overview = Overview(Prometheus("http://127.0.0.1:1", timeout=1), 1)()
    assert overview["metrics"]["status"] == "unavailable"
    assert "http://127.0.0.1:1" in overview["metrics"]["reason"]
    assert overview["processes"] == [] and overview["errors"] == []
    assert [stage["rate"] for stage in overview["pipeline"] if "rate" in stage] == [
        None,
        None,
        None,
        None,
    ]


def test_a_refusal_of_prometheus_is_unavailable_too(monkeypatch):
    class Refusing:
        status_code = 200

        def raise_for_status(self):
            pass

        def json(self):
            return {"status": "error", "error": "parse error"}

    monkeypatch.setattr("gateway.operations.requests.get", lambda *a, **k: Refusing())
    with pytest.raises(Unavailable, match="parse error"):
        Prometheus("http://prometheus", 1).query("up")
