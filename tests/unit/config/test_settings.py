"""``config.settings``: every process gets what its YAML file used to give it.

``expected_settings.json`` was written once by the loader the processes used before
(``config/<process>.yaml`` read as ``nameko run --config`` reads it, ``${NAME:default}``
filled in from the environment; the files are in the history up to the commit that
removed them): each process's settings in an empty environment, and in one that
sets every variable those files named (``overrides.environment``).
"""

import json
import re
from pathlib import Path

import pytest

import config
from config import variables
from config.environment import flag, number
from ems.broker import PERMISSIONS

EXPECTED = json.loads((Path(__file__).parent / "expected_settings.json").read_text())
OVERRIDES = EXPECTED["overrides"]["environment"]
DYNAMIC = config.ROOT_DIR / "traefik" / "dynamic.yml"


def typed(value):
    """``value`` with each leaf paired with its type, so 10 and 10.0 differ."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


def expected(case: dict, process: str) -> dict:
    settings = json.loads(json.dumps(case[process]))
    if process == "common":
        # The one change of type: YAML read EMS_DEMO as a number (or a YAML
        # boolean); it is a flag now.
        settings["DEMO"]["enabled"] = bool(settings["DEMO"]["enabled"])
    return settings


@pytest.mark.parametrize("process", sorted(EXPECTED["default"]))
def test_the_default_environment_gives_what_the_yaml_gave(process):
    assert typed(config.settings(process, {})) == typed(
        expected(EXPECTED["default"], process)
    )


@pytest.mark.parametrize("process", sorted(EXPECTED["default"]))
def test_every_variable_set_gives_what_the_yaml_gave(process):
    assert typed(config.settings(process, OVERRIDES)) == typed(
        expected(EXPECTED["overrides"]["settings"], process)
    )


def test_every_variable_of_the_yaml_files_is_still_read():
    read = {
        v.name for process in config.PROCESSES for v in config.variables_of(process)
    }
    assert set(EXPECTED["variables"]) <= read
    assert set(OVERRIDES) == set(EXPECTED["variables"])


def test_settings_read_the_process_environment_by_default(monkeypatch):
    monkeypatch.setenv("EMS_BALANCER_PREFETCH", "20")
    assert config.settings("balancer")["PREFETCH"] == 20


def test_an_empty_variable_counts_as_unset():
    conf = config.settings("auth", {"EMS_LOG_LEVEL": "", "EMS_DB_PREFIX": ""})
    assert conf["LOGGING"]["root"]["level"] == "INFO"
    assert conf["DATABASE_URL"].endswith(":5432/authdb")


def test_no_two_results_share_a_mapping():
    first, second = config.settings("auth", {}), config.settings("auth", {})
    first["LOGGING"]["root"]["handlers"].append("file")
    first["JWT"]["issuer"] = "changed"
    assert second["LOGGING"]["root"]["handlers"] == ["console", "recent"]
    assert config.settings("users", {})["JWT"]["issuer"] == "ems-auth"


def test_an_unknown_process_is_named():
    with pytest.raises(LookupError, match="no process 'nope'"):
        config.settings("nope")


def test_the_ingest_workers_share_monitoring_s_database():
    conf = {p: config.settings(p, {}) for p in ("monitoring", "monitoring_worker")}
    assert (
        conf["monitoring"]["DATABASE_URL"] == conf["monitoring_worker"]["DATABASE_URL"]
    )
    assert config.settings("common", {})["DATABASES"].count("monitoringdb") == 1


def test_parsers():
    assert (number("10"), number("0.05")) == (10, 0.05)
    assert isinstance(number("10"), int)
    assert [flag(text) for text in ("0", "false", "No", "off", "1", "yes")] == [
        False,
        False,
        False,
        False,
        True,
        True,
    ]


def test_one_name_one_default_but_the_body_limit():
    defaults: dict[str, set] = {}
    for variable in variables.ALL:
        defaults.setdefault(variable.name, set()).add(variable.default)
    # HTTP requests may be larger than messages on the broker; one variable sets
    # both, as it did when each YAML file had its own default.
    assert {name for name, values in defaults.items() if len(values) > 1} == {
        "EMS_MAX_BODY_BYTES"
    }


def test_every_kind_of_broker_user_has_a_login_variable():
    assert set(variables.BROKER_LOGINS) == set(PERMISSIONS)


def test_traefik_routes_read_the_declared_variables_with_their_defaults():
    template = re.compile(r'env "(\w+)" \| default "([^"]*)"')
    read = dict(template.findall(DYNAMIC.read_text()))
    assert read == {
        variable.name: str(variable.default) for variable in variables.TRAEFIK_BACKENDS
    }


#: Read by the browser scenarios (web/e2e) and the tests themselves, not the platform.
TEST_ONLY = {"EMS_APP_URL", "EMS_ARTIFACTS", "EMS_CHROMIUM", "EMS_TEST_CONTROL_URL"}
NAMED = re.compile(r"""["'](EMS_[A-Z0-9_]+)["']|\b(EMS_[A-Z0-9_]+)=""")


def test_tests_and_benchmarks_set_only_declared_variables():
    declared = {variable.name for variable in variables.ALL} | TEST_ONLY
    unknown = {}
    for folder in ("harness", "tests", "benchmarks"):
        for path in (config.ROOT_DIR / folder).rglob("*.py"):
            for match in NAMED.finditer(path.read_text()):
                name = match.group(1) or match.group(2)
                if name not in declared:
                    unknown.setdefault(name, path.name)
    assert unknown == {}


def test_the_readme_names_only_declared_variables():
    readme = (config.ROOT_DIR / "README.md").read_text()
    named = set(re.findall(r"`((?:EMS|APP|SUPPORT|OPENAI)_[A-Z0-9_]+)`", readme))
    assert named, "the README's configuration table names no variable"
    assert named - {variable.name for variable in variables.ALL} == set()


@pytest.mark.parametrize(
    ("environment", "name"),
    [
        ({}, "devices"),
        ({"HONCHO_PROCESS_NAME": "devices.1"}, "devices"),
        ({"HONCHO_PROCESS_NAME": "devices.3"}, "devices_3"),
        ({"HONCHO_PROCESS_NAME": "devices.3", "EMS_PROCESS_NAME": "d"}, "d"),
    ],
)
def test_each_process_of_a_scaled_program_has_a_name_of_its_own(environment, name):
    assert config.settings("devices", environment)["METRICS"]["process"] == name
