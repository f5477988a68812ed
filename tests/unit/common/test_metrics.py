"""The metrics server, its probes and the Prometheus target file."""

import json
import logging
from collections import deque

import pytest
from prometheus_client import Counter, Gauge, Histogram

from harness.probes import fetch, metrics_server
from services.common import metrics
from services.common.metrics import (
    REGISTRY,
    Heartbeat,
    Probes,
    reason_label,
    remove_target,
    target_address,
    write_target,
)
from services.common.tracing import RecentErrors

SETTINGS = {
    "host": "127.0.0.1",
    "port": 0,
    "process": "monitoring_worker_1",
    "program": "monitoring_worker",
}


def test_the_target_file_is_what_prometheus_file_sd_reads(tmp_path):
    path = write_target({**SETTINGS, "targets_dir": "metrics"}, 41234, tmp_path)
    assert path == tmp_path / "metrics" / "monitoring_worker_1.json"
    assert json.loads(path.read_text()) == [
        {
            "targets": ["127.0.0.1:41234"],
            "labels": {
                "process": "monitoring_worker_1",
                "program": "monitoring_worker",
            },
        }
    ]
    # A restart overwrites its own file and leaves no temporary one behind.
    write_target({**SETTINGS, "targets_dir": str(tmp_path / "metrics")}, 5, None)
    assert json.loads(path.read_text())[0]["targets"] == ["127.0.0.1:5"]
    assert [p.name for p in path.parent.iterdir()] == ["monitoring_worker_1.json"]


def test_a_target_file_is_removed_only_while_it_is_its_writers(tmp_path):
    settings = {**SETTINGS, "targets_dir": str(tmp_path)}
    path = write_target(settings, 41234, None)
    mine = path.read_text()
    # A process of the same name started since wrote its own: it stays.
    write_target(settings, 41235, None)
    remove_target(path, mine)
    assert path.exists()
    remove_target(path, path.read_text())
    assert not path.exists()
    remove_target(path, mine)  # already gone: nothing to do


def test_a_server_on_every_interface_is_reached_on_loopback():
    assert target_address("0.0.0.0", 9100) == "127.0.0.1:9100"
    assert target_address("10.0.0.5", 9100) == "10.0.0.5:9100"


def test_reasons_become_few_labels():
    assert reason_label("unknown device") == "unknown device"
    assert (
        reason_label("kwh 1e30 is absurd for one reading (over 100)")
        == "kwh N is absurd for one reading (over N)"
    )
    assert (
        reason_label("unparseable timestamp 'yesterday'") == "unparseable timestamp …"
    )
    assert reason_label("body is not JSON: Expecting value: line 1") == (
        "body is not JSON"
    )
    assert reason_label("") == "unknown"
    assert len(reason_label("x" * 500)) == 80


@pytest.fixture
def server(tmp_path):
    probes = Probes()
    state = {"database": None}
    probes.live("loop", lambda: None)
    probes.ready("broker", lambda: None)
    probes.ready("database", lambda: state["database"])
    with metrics_server(tmp_path, probes) as url:
        yield url, state


def test_metrics_are_served_in_prometheus_text(server):
    url, _ = server
    status, body = fetch(f"{url}/metrics")
    assert status == 200
    text = body.decode()
    assert "ems_process_start_time_seconds" in text
    assert "# TYPE ems_readings_committed_total counter" in text
    assert fetch(f"{url}/nowhere")[0] == 404


def test_readyz_answers_503_naming_what_fails(server):
    url, state = server
    assert fetch(f"{url}/readyz") == (200, b'{"status": "ok", "failing": {}}')
    state["database"] = "connection refused"
    status, body = fetch(f"{url}/readyz")
    assert status == 503
    assert json.loads(body) == {
        "status": "unavailable",
        "failing": {"database": "connection refused"},
    }
    # Liveness does not depend on the database.
    assert fetch(f"{url}/livez")[0] == 200


def test_errors_answers_the_latest_error_records_newest_first(server, monkeypatch):
    url, _ = server
    monkeypatch.setattr(RecentErrors, "RECENT", deque(maxlen=2))
    handler = RecentErrors()
    logger = logging.getLogger("ems.test.errors")
    logger.addHandler(handler)
    try:
        for n in range(3):
            logger.error("failure %d", n)
        logger.warning("not an error")
    finally:
        logger.removeHandler(handler)
    status, body = fetch(f"{url}/errors")
    assert status == 200
    answered = json.loads(body)
    # The handler keeps its last ones; the logging settings give it ERROR.
    assert [record["message"] for record in answered] == ["failure 2", "failure 1"]
    assert answered[0]["logger"] == "ems.test.errors"
    assert answered[0]["level"] == "ERROR"


def test_a_long_error_keeps_its_beginning_and_its_end(monkeypatch):
    monkeypatch.setattr(RecentErrors, "RECENT", deque(maxlen=5))
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "a" * 5000 + "the end", None, None
    )
    RecentErrors().emit(record)
    [kept] = RecentErrors.latest()
    assert len(kept["message"]) < 4100
    assert kept["message"].startswith("aaa") and kept["message"].endswith("the end")


def test_every_error_is_counted_by_its_logger(monkeypatch):
    monkeypatch.setattr(RecentErrors, "RECENT", deque(maxlen=5))
    counted = metrics.ERRORS_LOGGED.labels(logger="ems.test.counted")
    before = counted._value.get()
    record = logging.LogRecord("ems.test.counted", logging.ERROR, "", 1, "x", (), None)
    RecentErrors().emit(record)
    assert counted._value.get() == before + 1


def test_the_version_is_the_installed_platforms():
    assert (
        REGISTRY.get_sample_value("ems_build_info", {"version": metrics.version()})
        == 1.0
    )


def test_a_check_that_raises_fails_with_the_exception():
    probes = Probes()

    def ping():
        raise ConnectionError("no route to host")

    probes.ready("database", ping)
    assert Probes.failing(probes.readiness) == {
        "database": "ConnectionError: no route to host"
    }


def test_a_loop_silent_too_long_is_not_alive(monkeypatch):
    heartbeat = Heartbeat(interval=1, max_silence=15)
    assert heartbeat.check() is None
    heartbeat.last -= 20
    assert "has not turned" in heartbeat.check()
    heartbeat.beat()
    assert heartbeat.check() is None


def test_every_metric_of_the_contract_is_registered():
    names = {
        metric.name for metric in REGISTRY.collect() if metric.name.startswith("ems_")
    }
    # prometheus_client names counters without their _total.
    assert {
        "ems_readings_received",
        "ems_readings_committed",
        "ems_readings_rejected",
        "ems_ingest_lag_seconds",
        "ems_ingest_publish_lag_seconds",
        "ems_ingest_batch_size",
        "ems_dead_letters",
        "ems_rpc_duration_seconds",
        "ems_http_request_duration_seconds",
        "ems_ws_sockets_open",
        "ems_ws_deliveries",
        "ems_ws_slow_clients_dropped",
        "ems_commands",
        "ems_alarms_raised",
        "ems_alarms_ended",
        "ems_alarms_active",
        "ems_process_start_time_seconds",
        "ems_errors_logged",
        "ems_build",
    } <= names


def test_labels_are_those_of_the_contract():
    assert {
        name: metric._labelnames
        for name, metric in vars(metrics).items()
        if isinstance(metric, Counter | Gauge | Histogram) and metric._labelnames
    } == {
        "READINGS_RECEIVED": ("path",),
        "READINGS_COMMITTED": ("path",),
        "READINGS_REJECTED": ("reason",),
        "DEAD_LETTERS": ("reason", "service"),
        "RPC_DURATION": ("service", "method", "outcome"),
        "HTTP_DURATION": ("route", "method", "status"),
        "COMMANDS": ("status",),
        "ALARMS_RAISED": ("type", "severity"),
        "ALARMS_ENDED": ("type",),
        "ALARMS_ACTIVE": ("severity",),
        "ERRORS_LOGGED": ("logger",),
    }
