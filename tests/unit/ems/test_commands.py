"""``ems traefik``: traefik/traefik.yml with the ``traefik`` settings in place;
``ems bootstrap``: where it asks whether the platform is up."""

import yaml

import config
from ems.commands import health_url, traefik_static

STATIC = config.ROOT_DIR / "traefik" / "traefik.yml"


def test_the_defaults_are_those_traefik_yml_shows():
    assert traefik_static(config.settings("traefik", {})) == yaml.safe_load(
        STATIC.read_text()
    )


def test_the_environment_sets_the_port_routes_and_log_level():
    environ = {
        "EMS_HTTP_PORT": "8081",
        "EMS_TRAEFIK_DYNAMIC": "/tmp/routes.yml",
        "EMS_TRAEFIK_LOG_LEVEL": "DEBUG",
    }
    static = traefik_static(config.settings("traefik", environ))
    assert static["entryPoints"]["web"]["address"] == ":8081"
    assert static["providers"]["file"]["filename"] == "/tmp/routes.yml"
    assert static["log"]["level"] == "DEBUG"
    assert static["ping"] == {"entryPoint": "web"}


def test_the_metrics_entry_point_listens_on_the_loopback_only():
    static = traefik_static(
        config.settings("traefik", {"EMS_TRAEFIK_METRICS_PORT": "18082"})
    )
    assert static["entryPoints"]["metrics"] == {"address": "127.0.0.1:18082"}
    assert static["metrics"]["prometheus"]["entryPoint"] == "metrics"


def test_bootstrap_asks_traefik_on_this_machine_by_default():
    simulator = config.settings("simulator", {"EMS_HTTP_PORT": "8081"})
    assert health_url(simulator) == "http://127.0.0.1:8081/api/health"


def test_bootstrap_asks_the_api_where_ems_api_url_says():
    simulator = config.settings(
        "simulator", {"EMS_API_URL": "http://traefik.ems.svc:8080/"}
    )
    assert health_url(simulator) == "http://traefik.ems.svc:8080/api/health"
