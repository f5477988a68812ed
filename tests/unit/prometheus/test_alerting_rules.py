"""``ems prometheus`` and ``ems alertmanager``: the configuration and alerting rules
they render are valid for promtool and amtool, every alert fires on the synthetic
series of alerts_test.yml (``promtool test rules``), and the settings land where
they belong."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import config
from ems import prometheus

HERE = Path(__file__).parent
ALERT_TESTS = HERE / "alerts_test.yml"
ARCHITECTURE = config.ROOT_DIR / "docs" / "architecture.md"

needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None,
    reason="promtool (Debian's prometheus package, scripts/setup.sh) is not installed",
)
needs_amtool = pytest.mark.skipif(
    shutil.which("amtool") is None,
    reason="amtool (Debian's prometheus-alertmanager package) is not installed",
)


def run(*command: str, cwd: Path | None = None) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def alert_names() -> set[str]:
    rendered = prometheus.rules(config.settings("prometheus", {}))
    return {
        rule["alert"]
        for groups in rendered.values()
        for group in groups["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }


@pytest.fixture
def rendered(tmp_path) -> Path:
    """The configuration and rules of the default settings, in ``tmp_path``."""
    environ = {"EMS_METRICS_TARGETS_DIR": str(tmp_path / "targets")}
    (tmp_path / "targets").mkdir()
    return prometheus.write_prometheus(
        config.settings("prometheus", environ), tmp_path / "prometheus"
    )


@needs_promtool
def test_promtool_accepts_the_configuration_and_its_rules(rendered):
    output = run("promtool", "check", "config", str(rendered))
    assert "SUCCESS: 1 rule files found" in output
    run("promtool", "check", "rules", *map(str, rendered.parent.glob("rules/*.yml")))


@needs_promtool
def test_every_alert_fires_on_its_synthetic_series(rendered):
    shutil.copy(ALERT_TESTS, rendered.parent / ALERT_TESTS.name)
    output = run("promtool", "test", "rules", ALERT_TESTS.name, cwd=rendered.parent)
    assert "SUCCESS" in output


def test_every_alert_has_a_promtool_test_and_a_place_in_the_docs():
    tests = yaml.safe_load(ALERT_TESTS.read_text())["tests"]
    fired = {
        case["alertname"]
        for test in tests
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    assert fired == alert_names()
    docs = ARCHITECTURE.read_text()
    assert [name for name in sorted(alert_names()) if f"`{name}`" not in docs] == []


def test_the_environment_sets_durations_addresses_and_the_virtual_host(tmp_path):
    environ = {
        "EMS_VAR_DIR": str(tmp_path),
        "EMS_ALERT_FOR": "2s",
        "EMS_SCRAPE_INTERVAL": "1s",
        "EMS_PROMETHEUS_PORT": "19090",
        "EMS_ALERTMANAGER_PORT": "19093",
        "EMS_TRAEFIK_METRICS_PORT": "18082",
        "EMS_RABBIT_METRICS_URL": "http://127.0.0.1:25692",
        "EMS_METRICS_TARGETS_DIR": str(tmp_path / "targets"),
        "EMS_VHOST": "ems_test",
    }
    path = prometheus.write_prometheus(
        config.settings("prometheus", environ), tmp_path / "prometheus"
    )
    static = yaml.safe_load(path.read_text())
    jobs = {job["job_name"]: job for job in static["scrape_configs"]}
    assert static["global"] == {"scrape_interval": "1s", "evaluation_interval": "1s"}
    assert static["rule_files"] == [str(tmp_path / "prometheus" / "rules" / "*.yml")]
    assert jobs["ems"]["file_sd_configs"] == [
        {"files": [str(tmp_path / "targets" / "*.json")]}
    ]
    assert jobs["rabbitmq"]["params"] == {
        "vhost": ["ems_test"],
        "family": ["queue_coarse_metrics", "queue_consumer_count"],
    }
    assert jobs["rabbitmq"]["static_configs"] == [{"targets": ["127.0.0.1:25692"]}]
    assert jobs["traefik"]["static_configs"] == [{"targets": ["127.0.0.1:18082"]}]
    assert jobs["prometheus"]["static_configs"] == [{"targets": ["127.0.0.1:19090"]}]
    assert static["alerting"]["alertmanagers"] == [
        {"static_configs": [{"targets": ["127.0.0.1:19093"]}]}
    ]
    rules = yaml.safe_load((path.parent / "rules" / "ems.yml").read_text())
    durations = {rule["for"] for rule in rules["groups"][0]["rules"]}
    assert durations == {"2s"}


def test_the_repository_s_rules_hold_the_default_duration():
    """docker/prometheus.yml reads config/prometheus/rules/ as they are."""
    default = config.settings("prometheus", {})["ALERT_FOR"]
    for path in prometheus.RULES_DIR.glob("*.yml"):
        for group in yaml.safe_load(path.read_text())["groups"]:
            assert {rule["for"] for rule in group["rules"]} == {default}


def test_alertmanager_mails_the_admin_through_the_platform_s_smtp_server():
    conf = config.settings(
        "alertmanager",
        {
            "EMS_SMTP_HOST": "smtp.example.com",
            "EMS_SMTP_PORT": "587",
            "EMS_SMTP_USER": "ems",
            "EMS_SMTP_PASSWORD": "secret",
            "EMS_SMTP_STARTTLS": "1",
            "EMS_ADMIN_EMAIL": "ops@example.com",
        },
    )
    static = prometheus.alertmanager_config(conf)
    assert static["global"] == {
        "smtp_smarthost": "smtp.example.com:587",
        "smtp_from": "EMS <no-reply@ems.localhost>",
        "smtp_require_tls": True,
        "smtp_auth_username": "ems",
        "smtp_auth_password": "secret",
    }
    assert static["receivers"][0]["email_configs"][0]["to"] == "ops@example.com"
    told = config.settings("alertmanager", {"EMS_ALERT_EMAIL": "oncall@example.com"})
    receivers = prometheus.alertmanager_config(told)["receivers"]
    assert receivers[0]["email_configs"][0]["to"] == "oncall@example.com"


@needs_amtool
def test_amtool_accepts_the_alertmanager_configuration(tmp_path):
    path = tmp_path / "alertmanager.yml"
    conf = config.settings("alertmanager", {})
    path.write_text(yaml.safe_dump(prometheus.alertmanager_config(conf)))
    run("amtool", "check-config", str(path))


def test_the_postgres_exporter_connects_as_the_platform_s_role():
    url = config.settings("postgres_exporter", {})["PG_URL"]
    assert prometheus.postgres_dsn(url) == (
        "postgresql://ems:ems@127.0.0.1:5432/postgres?sslmode=disable"
    )
