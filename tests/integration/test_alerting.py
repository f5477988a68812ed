"""Prometheus judges the alerting rules against the running platform: an ingest
worker stopped leaves its queue without a consumer, ConsumerMissing fires (and
reaches Alertmanager), and once the worker is back the alert resolves. The stack
scrapes every second and fires after 2 s (conftest.py)."""

import requests

from harness.polling import eventually

QUEUE = "monitoring.ingest.1"
#: What Prometheus reads besides the platform's own processes.
JOBS = {
    "rabbitmq",
    "rabbitmq_node",
    "traefik",
    "postgres",
    "prometheus",
    "alertmanager",
}


def query(stack, promql: str) -> list[dict]:
    answer = requests.get(
        f"{stack.prometheus_url}/api/v1/query", params={"query": promql}, timeout=5
    )
    answer.raise_for_status()
    return answer.json()["data"]["result"]


def consumer_missing(stack) -> list[dict]:
    """Prometheus's active ConsumerMissing alerts of the ingest queue."""
    answer = requests.get(f"{stack.prometheus_url}/api/v1/alerts", timeout=5)
    answer.raise_for_status()
    return [
        alert
        for alert in answer.json()["data"]["alerts"]
        if alert["labels"]["alertname"] == "ConsumerMissing"
        and alert["labels"].get("queue") == QUEUE
    ]


def in_alertmanager(stack) -> list[dict]:
    answer = requests.get(
        f"http://127.0.0.1:{stack.ports['alertmanager']}/api/v2/alerts",
        params={"filter": ["alertname=ConsumerMissing", f"queue={QUEUE}"]},
        timeout=5,
    )
    answer.raise_for_status()
    return answer.json()


def test_prometheus_reads_the_broker_traefik_postgresql_and_alertmanager(stack):
    def up_jobs():
        return {
            series["metric"]["job"]
            for series in query(stack, "up == 1")
            if series["metric"]["job"] in JOBS
        }

    eventually(lambda: up_jobs() == JOBS, timeout=60, interval=1)
    # Traefik's metrics entry point counts the requests it routed.
    requests.get(stack.url("/api/health"), timeout=10)
    eventually(lambda: query(stack, "traefik_entrypoint_requests_total"), timeout=30)


def test_a_stopped_ingest_worker_fires_consumer_missing_until_it_is_back(stack):
    consumers = f'rabbitmq_detailed_queue_consumers{{queue="{QUEUE}"}}'
    # Prometheus reads the stack's virtual host, and the worker consumes.
    eventually(
        lambda: [s for s in query(stack, consumers) if s["value"][1] == "1"],
        timeout=60,
        interval=1,
    )
    assert consumer_missing(stack) == []
    stack.kill("monitoring_worker_1")
    try:
        firing = eventually(
            lambda: [a for a in consumer_missing(stack) if a["state"] == "firing"],
            timeout=60,
            interval=0.5,
        )
        assert firing[0]["labels"]["severity"] == "critical"
        assert QUEUE in firing[0]["annotations"]["summary"]
        eventually(lambda: in_alertmanager(stack), timeout=30, interval=0.5)
    finally:
        stack.start_process("monitoring_worker_1")
    eventually(lambda: not consumer_missing(stack), timeout=60, interval=0.5)
