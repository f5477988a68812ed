"""Prometheus's and Alertmanager's configuration for this installation: the files of
config/prometheus/ and config/alertmanager/ with the ``prometheus`` and
``alertmanager`` settings in place (``ems prometheus``, ``ems alertmanager``)."""

from pathlib import Path
from urllib.parse import urlsplit

import yaml

import config

PROMETHEUS_DIR = config.ROOT_DIR / "config" / "prometheus"
RULES_DIR = PROMETHEUS_DIR / "rules"
ALERTMANAGER_FILE = config.ROOT_DIR / "config" / "alertmanager" / "alertmanager.yml"


def _job(static: dict, name: str) -> dict:
    """The scrape configuration named ``name``."""
    return next(job for job in static["scrape_configs"] if job["job_name"] == name)


def prometheus_config(conf: dict, rules_dir: Path) -> dict:
    """config/prometheus/prometheus.yml with ``conf`` (the ``prometheus`` settings)
    in place, reading its rules from ``rules_dir``."""
    static = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    static["global"]["scrape_interval"] = conf["SCRAPE_INTERVAL"]
    static["global"]["evaluation_interval"] = conf["SCRAPE_INTERVAL"]
    static["rule_files"] = [str(rules_dir / "*.yml")]
    static["alerting"]["alertmanagers"][0]["static_configs"] = [
        {"targets": [conf["ALERTMANAGER_ADDRESS"]]}
    ]
    targets = config.ROOT_DIR / conf["TARGETS_DIR"]
    _job(static, "ems")["file_sd_configs"] = [{"files": [str(targets / "*.json")]}]
    rabbit = urlsplit(conf["RABBIT_METRICS_URL"])
    for name in ("rabbitmq", "rabbitmq_node"):
        job = _job(static, name)
        job["scheme"] = rabbit.scheme or "http"
        job["static_configs"] = [{"targets": [rabbit.netloc]}]
    _job(static, "rabbitmq")["params"]["vhost"] = [conf["VHOST"]]
    _job(static, "traefik")["static_configs"] = [
        {"targets": [conf["TRAEFIK_METRICS_ADDRESS"]]}
    ]
    _job(static, "postgres")["static_configs"] = [
        {"targets": [conf["POSTGRES_EXPORTER_ADDRESS"]]}
    ]
    _job(static, "prometheus")["static_configs"] = [
        {"targets": [f"127.0.0.1:{conf['PORT']}"]}
    ]
    _job(static, "alertmanager")["static_configs"] = [
        {"targets": [conf["ALERTMANAGER_ADDRESS"]]}
    ]
    return static


def rules(conf: dict) -> dict[str, dict]:
    """Each file of config/prometheus/rules/, by name, with every alert's ``for``
    set to ``conf["ALERT_FOR"]``."""
    rendered = {}
    for path in sorted(RULES_DIR.glob("*.yml")):
        groups = yaml.safe_load(path.read_text())
        for group in groups["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    rule["for"] = conf["ALERT_FOR"]
        rendered[path.name] = groups
    return rendered


def write_prometheus(conf: dict, folder: Path) -> Path:
    """The configuration and its rules written into ``folder``; the configuration's
    path."""
    rules_dir = folder / "rules"
    rules_dir.mkdir(parents=True, exist_ok=True)
    for stale in rules_dir.glob("*.yml"):
        stale.unlink()
    for name, groups in rules(conf).items():
        (rules_dir / name).write_text(yaml.safe_dump(groups, sort_keys=False))
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(prometheus_config(conf, rules_dir), sort_keys=False))
    return path


def alertmanager_config(conf: dict) -> dict:
    """config/alertmanager/alertmanager.yml with ``conf`` (the ``alertmanager``
    settings) in place."""
    static = yaml.safe_load(ALERTMANAGER_FILE.read_text())
    smtp = conf["SMTP"]
    settings = static["global"]
    settings["smtp_smarthost"] = f"{smtp['host']}:{smtp['port']}"
    settings["smtp_from"] = conf["FROM"]
    settings["smtp_require_tls"] = bool(smtp["starttls"])
    if smtp["user"]:
        settings["smtp_auth_username"] = smtp["user"]
        settings["smtp_auth_password"] = smtp["password"] or ""
    for receiver in static["receivers"]:
        for email in receiver.get("email_configs", []):
            email["to"] = conf["TO"]
    return static


def postgres_dsn(pg_url: str) -> str:
    """The exporter's connection to the server of ``EMS_PG_URL``: libpq's URL (no
    SQLAlchemy driver in the scheme), to its ``postgres`` database."""
    server = pg_url.split("://", 1)[1].rstrip("/")
    return f"postgresql://{server}/postgres?sslmode=disable"
