"""Grafana's dashboards (config/grafana/dashboards/) and the containers' Prometheus
(docker/prometheus.yml): the dashboards parse, every query names a metric the
platform serves (its metrics contract) or RabbitMQ, Traefik, PostgreSQL's exporter
or Prometheus itself gives, and compose scrapes every process of the platform."""

import json
import re

import pytest
import yaml

import config
from ems import prometheus

ROOT = config.ROOT_DIR
DASHBOARDS = sorted((ROOT / "config" / "grafana" / "dashboards").glob("*.json"))
DATASOURCES = ROOT / "config" / "grafana" / "provisioning" / "datasources"
COMPOSE = ROOT / "docker-compose.yml"
CONTAINERS_PROMETHEUS = ROOT / "docker" / "prometheus.yml"

#: The platform's metrics, as every process serves them.
HISTOGRAMS = {
    "ems_ingest_lag_seconds",
    "ems_ingest_publish_lag_seconds",
    "ems_ingest_batch_size",
    "ems_rpc_duration_seconds",
    "ems_http_request_duration_seconds",
}
PLAIN = {
    "ems_readings_received_total",
    "ems_readings_committed_total",
    "ems_readings_rejected_total",
    "ems_dead_letters_total",
    "ems_ws_sockets_open",
    "ems_ws_deliveries_total",
    "ems_ws_slow_clients_dropped_total",
    "ems_commands_total",
    "ems_alarms_raised_total",
    "ems_alarms_ended_total",
    "ems_alarms_active",
}
CONTRACT = PLAIN | {
    f"{name}{suffix}" for name in HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")
}
#: prometheus_client's process collector, under the platform's prefix.
PROCESS_PREFIX = "ems_process_"
#: What the broker, Traefik and PostgreSQL's exporter give, as they name it.
OTHERS_PREFIXES = ("rabbitmq_", "traefik_", "pg_")
#: Prometheus's own series.
PROMETHEUS_SERIES = {"up", "ALERTS", "ALERTS_FOR_STATE"}

KEYWORDS = {"by", "without", "on", "ignoring", "bool", "offset", "and", "or", "unless"}
STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
SELECTORS = re.compile(r"\{[^}]*\}")
RANGES = re.compile(r"\[[^\]]*\]")
GROUPINGS = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
NAME = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*(\()?")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (functions, aggregations, label
    names and durations left out)."""
    bare = GROUPINGS.sub("", RANGES.sub("", SELECTORS.sub("", STRINGS.sub("", expr))))
    return {
        name for name, call in NAME.findall(bare) if not call and name not in KEYWORDS
    }


def known(name: str) -> bool:
    return (
        name in CONTRACT
        or name in PROMETHEUS_SERIES
        or name.startswith(PROCESS_PREFIX)
        or name.startswith(OTHERS_PREFIXES)
    )


def panels(dashboard: dict) -> list[dict]:
    found = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def test_metric_names_are_read_from_promql():
    expr = (
        "histogram_quantile(0.99, sum by (le, route) (rate(ems_http_request_"
        'duration_seconds_bucket{status=~"5.."}[$__rate_interval]))) / on(job) up'
    )
    assert metric_names(expr) == {"ems_http_request_duration_seconds_bucket", "up"}
    assert known("ems_http_request_duration_seconds_bucket") and known("up")
    assert not known("ems_reading_received_total")  # a misspelt name is noticed


def test_there_are_the_pipeline_and_health_dashboards():
    assert {path.name for path in DASHBOARDS} >= {"pipeline.json", "services.json"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_every_panel_queries_metrics_that_exist(path):
    dashboard = json.loads(path.read_text())
    datasources = yaml.safe_load(next(DATASOURCES.glob("*.yml")).read_text())
    uids = {source["uid"] for source in datasources["datasources"]}
    assert dashboard["uid"] and dashboard["title"]
    ids = [panel["id"] for panel in panels(dashboard)]
    assert len(ids) == len(set(ids)), "two panels share an id"
    unknown = {}
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] in uids, panel["title"]
        assert panel["targets"], f"{panel['title']} has no query"
        for target in panel["targets"]:
            names = metric_names(target["expr"])
            assert names, f"{panel['title']}: {target['expr']} reads no metric"
            if strange := sorted(name for name in names if not known(name)):
                unknown[panel["title"]] = strange
    assert unknown == {}


def test_the_alerting_rules_query_metrics_that_exist():
    rendered = prometheus.rules(config.settings("prometheus", {}))
    for groups in rendered.values():
        for group in groups["groups"]:
            for rule in group["rules"]:
                names = metric_names(rule["expr"])
                assert names and all(known(name) for name in names), rule["expr"]


def test_compose_s_prometheus_scrapes_every_process_with_the_local_jobs():
    containers = yaml.safe_load(CONTAINERS_PROMETHEUS.read_text())
    local = prometheus.prometheus_config(
        config.settings("prometheus", {}), prometheus.RULES_DIR
    )
    jobs = {job["job_name"]: job for job in containers["scrape_configs"]}
    assert {job["job_name"] for job in local["scrape_configs"]} <= set(jobs)
    assert jobs["rabbitmq"]["params"] == {
        "vhost": ["ems"],
        "family": ["queue_coarse_metrics", "queue_consumer_count"],
    }
    scraped = {}
    for static in jobs["ems"]["static_configs"]:
        for target in static["targets"]:
            host, _, port = target.partition(":")
            assert port == "9100", target
            assert static["labels"]["process"] == host
            scraped[host] = static["labels"]["program"]
    compose = yaml.safe_load(COMPOSE.read_text())["services"]
    # Every long-running process of our image but the simulator (a client of the
    # platform, not a part of it).
    running = {
        name
        for name, service in compose.items()
        if "build" in service
        and str(service.get("restart")) == "unless-stopped"
        and name != "simulator"
    }
    assert set(scraped) == running
    assert scraped["monitoring_worker_2"] == "monitoring_worker"
    mounts = compose["prometheus"]["volumes"]
    assert "./config/prometheus/rules:/etc/prometheus/rules:ro" in mounts
    assert containers["rule_files"] == ["/etc/prometheus/rules/*.yml"]


def test_compose_s_grafana_is_provisioned_from_the_repository():
    grafana = yaml.safe_load(COMPOSE.read_text())["services"]["grafana"]
    mounts = {
        source: target
        for source, target, *_ in (entry.split(":") for entry in grafana["volumes"])
    }
    assert mounts["./config/grafana/dashboards"] == "/var/lib/grafana/dashboards"
    provider = yaml.safe_load(
        (ROOT / "config/grafana/provisioning/dashboards/ems.yml").read_text()
    )
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    assert (
        mounts["./config/grafana/provisioning/datasources"]
        == "/etc/grafana/provisioning/datasources"
    )
