"""The platform as its operators see it (``GET /api/operations``): the reading
pipeline's stages with their rates, lag and queues, the push path, every process's
health, version and uptime, and the latest errors.

Prometheus knows most of it: it finds every process through the target files they
write and reads their metrics and the broker's queues. The overview asks its HTTP
API (instant queries, and the active targets), then asks each process's own metrics
server what Prometheus does not keep: its readiness (``/readyz``) and its latest
errors (``/errors``). Without Prometheus the overview still answers, with
``metrics.status`` ``unavailable`` and no figures.
"""

import math
from collections.abc import Callable
from datetime import UTC, datetime

import eventlet
import requests

from services.common.topology import (
    BALANCER_RAW,
    DEAD,
    INGEST_PREFIX,
    SERVER_NAMED_PREFIX,
    iso_utc,
)

#: Prometheus's job of the platform's own processes (config/prometheus/).
JOB = "ems"
#: Per second, over the last minute; lags over five (they are sparser).
QUERIES = {
    "received": "sum by (path) (rate(ems_readings_received_total[1m]))",
    "committed": "sum(rate(ems_readings_committed_total[1m]))",
    "rejected": "sum(rate(ems_readings_rejected_total[1m]))",
    "lag_p50": "histogram_quantile(0.5, "
    "sum by (le) (rate(ems_ingest_lag_seconds_bucket[5m])))",
    "lag_p99": "histogram_quantile(0.99, "
    "sum by (le) (rate(ems_ingest_lag_seconds_bucket[5m])))",
    "publish_lag_p50": "histogram_quantile(0.5, "
    "sum by (le) (rate(ems_ingest_publish_lag_seconds_bucket[5m])))",
    "publish_lag_p99": "histogram_quantile(0.99, "
    "sum by (le) (rate(ems_ingest_publish_lag_seconds_bucket[5m])))",
    "messages": "rabbitmq_detailed_queue_messages",
    "consumers": "rabbitmq_detailed_queue_consumers",
    "sockets": "sum(ems_ws_sockets_open)",
    "deliveries": "sum(rate(ems_ws_deliveries_total[1m]))",
    "dropped": "sum(rate(ems_ws_slow_clients_dropped_total[1m]))",
    "versions": f'ems_build_info{{job="{JOB}"}}',
    "started": f'ems_process_start_time_seconds{{job="{JOB}"}}',
}
#: The most errors the overview shows, of all processes together.
ERRORS_SHOWN = 50


class Unavailable(Exception):
    """Prometheus did not answer, or not as its API says."""


class Prometheus:
    """Prometheus's HTTP API: instant queries and the active targets."""

    def __init__(self, url: str, timeout: float):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _get(self, path: str, params: dict) -> dict:
        try:
            answer = requests.get(
                f"{self.url}{path}", params=params, timeout=self.timeout
            )
            answer.raise_for_status()
            document = answer.json()
        except (requests.RequestException, ValueError) as exc:
            raise Unavailable(
                f"Prometheus at {self.url} does not answer: {type(exc).__name__}"
            ) from exc
        if document.get("status") != "success":
            raise Unavailable(
                f"Prometheus at {self.url} refused: {document.get('error')}"
            )
        return document["data"]

    def query(self, promql: str) -> list[dict]:
        """An instant vector: ``[{"metric": {labels}, "value": [time, "1.5"]}]``."""
        return self._get("/api/v1/query", {"query": promql})["result"]

    def targets(self) -> list[dict]:
        return self._get("/api/v1/targets", {"state": "active"})["activeTargets"]


def number(series: dict) -> float | None:
    """A sample's value, None if it is not a number (a quantile of nothing)."""
    value = float(series["value"][1])
    return None if math.isnan(value) or math.isinf(value) else value


def scalar(result: list[dict]) -> float | None:
    """The value of a query that sums to one series; None if it has none."""
    return number(result[0]) if result else None


def by_label(result: list[dict], label: str) -> dict:
    return {series["metric"].get(label, ""): number(series) for series in result}


def queues(answers: dict, keep: Callable[[str], bool]) -> list[dict]:
    """The broker's queues whose names ``keep`` takes, with their messages
    (ready and unacknowledged) and consumers."""
    messages = by_label(answers["messages"], "queue")
    consumers = by_label(answers["consumers"], "queue")
    return [
        {
            "name": name,
            "messages": _whole(messages.get(name)),
            "consumers": _whole(consumers.get(name)),
        }
        for name in sorted(set(messages) | set(consumers))
        if keep(name)
    ]


def _whole(value: float | None) -> int | None:
    return None if value is None else int(value)


def pipeline(answers: dict) -> list[dict]:
    """The reading path's stages in order: devices, broker, balancer, workers,
    database."""
    paths = by_label(answers["received"], "path")
    received = sum(v for v in paths.values() if v is not None) if paths else None
    committed = scalar(answers["committed"])
    return [
        {"stage": "devices", "label": "Devices", "rate": received, "paths": paths},
        {
            "stage": "broker",
            "label": "Broker",
            "queues": queues(answers, lambda q: q in (BALANCER_RAW.name, DEAD.name)),
        },
        {"stage": "balancer", "label": "Balancer", "rate": received},
        {
            "stage": "workers",
            "label": "Ingest workers",
            "rate": committed,
            "queues": queues(answers, lambda q: q.startswith(INGEST_PREFIX)),
        },
        {
            "stage": "database",
            "label": "Database",
            "rate": committed,
            "rejected_rate": scalar(answers["rejected"]),
            "lag": {
                "p50": scalar(answers["lag_p50"]),
                "p99": scalar(answers["lag_p99"]),
            },
            "publish_lag": {
                "p50": scalar(answers["publish_lag_p50"]),
                "p99": scalar(answers["publish_lag_p99"]),
            },
        },
    ]


def push(answers: dict) -> list[dict]:
    """The push path: the events each WebSocket gateway's own queue receives, and
    the sockets it hands them to."""
    return [
        {
            "stage": "events",
            "label": "Events",
            "queues": queues(answers, lambda q: q.startswith(SERVER_NAMED_PREFIX)),
        },
        {
            "stage": "ws_gateway",
            "label": "WebSocket gateway",
            "sockets": _whole(scalar(answers["sockets"])),
            "rate": scalar(answers["deliveries"]),
            "dropped_rate": scalar(answers["dropped"]),
        },
    ]


def health(readiness: tuple[int, dict] | None) -> tuple[str, dict]:
    """``ok``, ``unready`` (and what fails) or ``down``, from what ``/readyz``
    answered (its status and body; None: no answer)."""
    if readiness is None:
        return "down", {}
    status, body = readiness
    if status == 200:
        return "ok", {}
    return "unready", dict(body.get("failing") or {})


def processes(
    targets: list[dict], answers: dict, asked: dict, now: datetime
) -> list[dict]:
    """Every process Prometheus scrapes for the platform, by name: its health
    (``asked``: what each answered at ``/readyz``), version and uptime."""
    versions = {
        series["metric"].get("process"): series["metric"].get("version")
        for series in answers["versions"]
    }
    started = by_label(answers["started"], "process")
    rows = []
    for target in targets:
        name = target["labels"]["process"]
        state, failing = health(asked.get(name, (None, None))[0])
        began = started.get(name)
        rows.append(
            {
                "process": name,
                "program": target["labels"].get("program", name),
                "health": state,
                "failing": failing,
                "version": versions.get(name),
                "started_at": (
                    None
                    if began is None
                    else iso_utc(datetime.fromtimestamp(began, UTC))
                ),
                "uptime_seconds": (
                    None
                    if began is None or state == "down"
                    else max(0.0, round(now.timestamp() - began, 1))
                ),
            }
        )
    return sorted(rows, key=lambda row: row["process"])


def latest_errors(asked: dict) -> list[dict]:
    """The processes' latest errors together, newest first."""
    errors = [
        {
            "at": record.get("time"),
            "process": name,
            "logger": record.get("logger"),
            "level": record.get("level"),
            "message": record.get("message"),
            "correlation_id": record.get("correlation_id"),
        }
        for name, (_, records) in asked.items()
        for record in records or ()
    ]
    errors.sort(key=lambda error: error["at"] or "", reverse=True)
    return errors[:ERRORS_SHOWN]


def platform_targets(targets: list[dict]) -> list[dict]:
    """The platform's own processes of Prometheus's active targets."""
    return [
        target
        for target in targets
        if target["labels"].get("job") == JOB and "process" in target["labels"]
    ]


def metrics_base(target: dict) -> str:
    """The address of a target's metrics server: its scrape URL less ``/metrics``."""
    url = target["scrapeUrl"]
    return url[: -len("/metrics")] if url.endswith("/metrics") else url


class Overview:
    """``GET /api/operations``: asks Prometheus, then each process, at once."""

    def __init__(self, prometheus: Prometheus, process_timeout: float):
        self.prometheus = prometheus
        self.process_timeout = process_timeout

    def ask_process(self, target: dict) -> tuple[tuple[int, dict] | None, list]:
        """What a process answers at ``/readyz`` (None: nothing) and ``/errors``."""
        base = metrics_base(target)
        try:
            ready = requests.get(f"{base}/readyz", timeout=self.process_timeout)
            readiness = (ready.status_code, ready.json())
        except (requests.RequestException, ValueError):
            return None, []
        try:
            errors = requests.get(f"{base}/errors", timeout=self.process_timeout)
            records = errors.json() if errors.status_code == 200 else []
        except (requests.RequestException, ValueError):
            records = []
        return readiness, records if isinstance(records, list) else []

    def __call__(self) -> dict:
        now = datetime.now(UTC)
        pool = eventlet.GreenPool()
        try:
            targets = platform_targets(self.prometheus.targets())
            answers = dict(
                zip(
                    QUERIES,
                    pool.imap(self.prometheus.query, QUERIES.values()),
                    strict=True,
                )
            )
        except Unavailable as exc:
            return self.without_metrics(now, str(exc))
        asked = dict(
            zip(
                (target["labels"]["process"] for target in targets),
                pool.imap(self.ask_process, targets),
                strict=True,
            )
        )
        return {
            "generated_at": iso_utc(now),
            "metrics": {"status": "ok"},
            "pipeline": pipeline(answers),
            "push": push(answers),
            "processes": processes(targets, answers, asked, now),
            "errors": latest_errors(asked),
        }

    @staticmethod
    def without_metrics(now: datetime, reason: str) -> dict:
        nothing = {key: [] for key in QUERIES}
        return {
            "generated_at": iso_utc(now),
            "metrics": {"status": "unavailable", "reason": reason},
            "pipeline": pipeline(nothing),
            "push": push(nothing),
            "processes": [],
            "errors": [],
        }
