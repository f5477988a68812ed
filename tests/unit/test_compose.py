"""docker-compose.yml runs the processes of the Procfile, each as it runs locally.

No Docker engine is needed: the file is read with PyYAML and checked against the
Procfile, the installed programs, the settings each process reads (``config``),
traefik/traefik.yml and traefik/dynamic.yml. Each
check is a plain function that returns a list of problems, so the tests run it on
the real file and also on a copy broken on purpose, to show it would notice.
"""

import copy
import functools
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import config
from ems.commands import TRAEFIK_SETTINGS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
PROCFILE = ROOT / "Procfile"
TRAEFIK_STATIC = ROOT / "traefik" / "traefik.yml"
TRAEFIK_DYNAMIC = ROOT / "traefik" / "dynamic.yml"

#: Processes whose compose command may differ from their Procfile line, and why.
COMMAND_EXCEPTIONS = {
    "traefik": "the Traefik image with flags instead of `ems traefik`",
    "bootstrap": "`ems bootstrap --exit`: compose does not stop all when one exits",
    "maildev": "the maildev image instead of `ems maildev` (maildev from npm)",
    "prometheus": "the Prometheus image with docker/prometheus.yml (the containers "
    "by name) instead of `ems prometheus`",
    "alertmanager": "the Alertmanager image with docker/alertmanager.yml instead of "
    "`ems alertmanager`",
    "postgres_exporter": "the exporter's image instead of `ems postgres-exporter`",
}
#: Services that must have a healthcheck of their own.
REQUIRED_HEALTHCHECKS = ("rabbitmq", "postgres", "traefik", "gateway")
#: The one-shot service that prepares the installation.
MIGRATE = "migrate"
LONG_RUNNING = {"always", "unless-stopped", "on-failure"}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
#: Where the programs of our image are installed: next to this interpreter.
BIN_DIR = Path(sys.executable).parent

# Run in a child interpreter, from the repository as the image runs from /app, so
# that importing the services (and eventlet's monkey patching) stays out of pytest.
# ``ems run`` also imports the service it would run.
EMS_CHECK = """
import sys
from ems.cli import parser
args = parser().parse_args(sys.argv[1:])
if args.command == "run":
    from nameko.cli.run import import_service
    from ems.run import SERVICES
    import_service(SERVICES[args.service])
"""
#: ``{{ env "NAME" ... }}`` in traefik/dynamic.yml.
ENV_TEMPLATE = re.compile(r'\benv\s+"([A-Za-z_][A-Za-z0-9_]*)"')
#: The keys of traefik.yml that ``ems traefik`` sets from its settings.
TRAEFIK_FROM_SETTINGS = {".".join(path).lower() for path in TRAEFIK_SETTINGS.values()}
#: A host part that is this machine: in a container, the container itself.
LOOPBACK = re.compile(r"(^|[/@])(127\.0\.0\.1|localhost)(:|/|$)")


# -- reading ------------------------------------------------------------------------


def parse_procfile(text: str) -> dict[str, str]:
    """``{process: command}`` from Procfile text: ``name: command`` lines."""
    processes = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, separator, command = line.partition(":")
        if not separator or not name.strip() or not command.strip():
            raise ValueError(f"not a Procfile line: {line!r}")
        processes[name.strip()] = command.strip()
    return processes


def load_yaml(text: str):
    """A YAML file as written: ``${NAME:-default}`` is compose's to fill in."""
    return yaml.safe_load(text)


def load_compose(path: Path = COMPOSE_FILE) -> dict:
    return load_yaml(path.read_text())


def argv(command) -> list[str]:
    """A compose ``command`` (string or list) as a list of arguments."""
    if command is None:
        return []
    if isinstance(command, str):
        return shlex.split(command)
    return [str(part) for part in command]


def normalised(command) -> str:
    return " ".join(argv(command))


def environment(service: dict) -> dict[str, str]:
    """A service's environment, written as a mapping or as ``NAME=value`` items."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.partition("=")[::2] for item in env)
    return {name: "" if value is None else str(value) for name, value in env.items()}


def depends_on(service: dict) -> dict[str, str]:
    """``{service: condition}``; the list form means ``service_started``."""
    dependencies = service.get("depends_on") or {}
    if isinstance(dependencies, list):
        return dict.fromkeys(dependencies, "service_started")
    return {
        name: (options or {}).get("condition", "service_started")
        for name, options in dependencies.items()
    }


def has_healthcheck(service: dict) -> bool:
    check = service.get("healthcheck") or {}
    test = check.get("test")
    return bool(test) and not check.get("disable") and argv(test)[:1] != ["NONE"]


def is_ours(service: dict) -> bool:
    """Built from this repository's Dockerfile."""
    return "build" in service


def short_mounts(service: dict) -> list[tuple[str, str]]:
    """``(source, target)`` of the short-syntax ``volumes`` entries."""
    mounts = []
    for entry in service.get("volumes") or []:
        if isinstance(entry, str) and ":" in entry:
            source, target = entry.split(":")[:2]
            mounts.append((source, target))
    return mounts


def traefik_flags(service: dict) -> dict[str, str]:
    """``{lower-cased option: value}`` of ``--option=value`` command arguments."""
    flags = {}
    for argument in argv(service.get("command")):
        if argument.startswith("--"):
            name, separator, value = argument[2:].partition("=")
            flags[name.lower()] = value if separator else "true"
    return flags


def flatten(settings: dict, prefix: str = "") -> dict[str, object]:
    """``{"a.b.c": value}`` for every leaf of nested mappings."""
    leaves = {}
    for key, value in settings.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            leaves.update(flatten(value, f"{path}."))
        else:
            leaves[path] = value
    return leaves


def processes_of(command: list[str]) -> list[str]:
    """The processes of ``config`` whose settings a command reads."""
    if command[:2] == ["ems", "run"] and len(command) > 2:
        return [command[2]]
    if command[:2] == ["ems", "simulate"]:
        return ["common", "simulator"]
    if command[:2] == ["ems", "traefik"]:
        return ["common", "traefik"]
    if command[:1] == ["ems"]:
        return ["common"]
    if command[:2] == ["python", "-m"] and len(command) > 2:
        process = command[2].split(".")[0]
        return [process] if process in config.PROCESSES else []
    return []


# -- checks: each returns a list of problems ----------------------------------------


def missing_services(compose: dict, procfile: dict[str, str]) -> list[str]:
    services = compose.get("services") or {}
    return [
        f"Procfile process {name!r} is not a compose service"
        for name in procfile
        if name not in services
    ]


def split_assignments(command: str) -> tuple[dict[str, str], str]:
    """``NAME=value`` words leading a Procfile command, and the command after them."""
    words, assignments = shlex.split(command), {}
    while words and re.fullmatch(r"[A-Za-z_]\w*=.*", words[0]):
        name, _, value = words.pop(0).partition("=")
        assignments[name] = value
    return assignments, " ".join(words)


def command_problems(compose: dict, procfile: dict[str, str]) -> list[str]:
    problems = []
    services = compose.get("services") or {}
    for name, command in procfile.items():
        if name in COMMAND_EXCEPTIONS or name not in services:
            continue
        assignments, command = split_assignments(command)
        actual = normalised(services[name].get("command"))
        if actual != normalised(command):
            problems.append(f"{name}: runs {actual!r}, the Procfile {command!r}")
        env = environment(services[name])
        for variable, value in assignments.items():
            if env.get(variable) != value:
                problems.append(f"{name}: the Procfile sets {variable}={value}")
    return problems


@functools.cache
def check_program(command: tuple[str, ...]) -> str | None:
    """Why ``command`` could not run in our image, or None if it could."""
    if not command:
        return "no command"
    program, arguments = command[0], list(command[1:])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if program == "ems":
        if shutil.which(program, path=str(BIN_DIR)) is None:
            return f"{program} is not installed in {BIN_DIR}"
        run = subprocess.run(
            [sys.executable, "-W", "ignore", "-c", EMS_CHECK, *arguments],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if run.returncode != 0:
            lines = run.stderr.strip().splitlines() or ["(no output)"]
            return f"{' '.join(command)!r} fails: {lines[-1]}"
        return None
    if program == "python":
        if arguments[:1] == ["-m"] and len(arguments) > 1:
            if importlib.util.find_spec(arguments[1]) is None:
                return f"no module {arguments[1]}"
            return None
        if arguments and not (ROOT / arguments[0]).is_file():
            return f"no script {arguments[0]}"
        return None
    return f"unexpected program {program!r} (ems or python)"


def program_problems(compose: dict) -> list[str]:
    problems = []
    for name, service in (compose.get("services") or {}).items():
        if not is_ours(service):
            continue
        problem = check_program(tuple(argv(service.get("command"))))
        if problem:
            problems.append(f"{name}: {problem}")
    return problems


def health_problems(compose: dict) -> list[str]:
    services = compose.get("services") or {}
    problems = [
        f"{name} has no healthcheck"
        for name in REQUIRED_HEALTHCHECKS
        if name not in services or not has_healthcheck(services[name])
    ]
    for name, service in services.items():
        restart = str(service.get("restart", "")).strip()
        if not restart:
            problems.append(f"{name} has no restart policy")
        if restart not in LONG_RUNNING or has_healthcheck(service):
            continue
        healthy_dependencies = [
            target
            for target, condition in depends_on(service).items()
            if condition == "service_healthy"
            and has_healthcheck(services.get(target, {}))
        ]
        if not healthy_dependencies:
            problems.append(
                f"{name} runs for good but neither has a healthcheck "
                "nor waits for a healthy service"
            )
    return problems


#: The port every EMS container serves its metrics and probes on, which Prometheus
#: scrapes as ``<service>:9100``.
METRICS_PORT = "9100"


def readiness_problems(compose: dict) -> list[str]:
    """Each of our long-running processes that serves metrics (its settings have
    ``METRICS``) listens on 9100 of every interface and is health-checked by its
    ``/readyz``."""
    problems = []
    for name, service in (compose.get("services") or {}).items():
        processes = processes_of(argv(service.get("command")))
        if not is_ours(service) or not any(
            "METRICS" in config.PROCESSES[process] for process in processes
        ):
            continue
        env = environment(service)
        if env.get("EMS_METRICS_PORT") != METRICS_PORT:
            problems.append(f"{name}: EMS_METRICS_PORT is not {METRICS_PORT}")
        if env.get("EMS_METRICS_HOST") != "0.0.0.0":
            problems.append(f"{name}: EMS_METRICS_HOST is not 0.0.0.0")
        test = " ".join(argv((service.get("healthcheck") or {}).get("test")))
        if f"127.0.0.1:{METRICS_PORT}/readyz" not in test:
            problems.append(f"{name}: its healthcheck does not ask /readyz")
    return problems


def dependency_problems(compose: dict) -> list[str]:
    services = compose.get("services") or {}
    problems = []
    for name, service in services.items():
        for target, condition in depends_on(service).items():
            if target not in services:
                problems.append(f"{name} depends on {target!r}, not a service")
                continue
            if condition not in CONDITIONS:
                problems.append(f"{name}: unknown condition {condition!r}")
            if condition == "service_healthy" and not has_healthcheck(services[target]):
                problems.append(f"{name} waits for {target} to be healthy: no check")
            if condition == "service_completed_successfully" and str(
                services[target].get("restart", "no")
            ) not in ("no", "False"):
                problems.append(f"{name} waits for {target} to end: it restarts")
        mode = str(service.get("network_mode", ""))
        if mode.startswith("service:") and mode[len("service:") :] not in services:
            problems.append(f"{name}: network_mode names no service ({mode})")
        command = argv(service.get("command"))
        if command[:2] == ["ems", "run"]:
            if depends_on(service).get(MIGRATE) != "service_completed_successfully":
                problems.append(f"{name} does not wait for {MIGRATE} to succeed")
    problems.extend(cycle_problems(services))
    return problems


def cycle_problems(services: dict) -> list[str]:
    """A ``depends_on`` cycle: compose could start none of its services."""
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> list[str]:
        if state.get(name) == "done" or name not in services:
            return []
        if state.get(name) == "visiting":
            return [f"depends_on cycle: {' -> '.join([*path, name])}"]
        state[name] = "visiting"
        found = []
        for target in depends_on(services[name]):
            found.extend(visit(target, [*path, name]))
        state[name] = "done"
        return found

    problems = []
    for name in services:
        problems.extend(visit(name, []))
    return problems


def mount_problems(compose: dict) -> list[str]:
    """Bind mounts name files of the repository; named volumes are declared."""
    declared = set(compose.get("volumes") or {})
    problems = []
    for name, service in (compose.get("services") or {}).items():
        for source, _target in short_mounts(service):
            if source.startswith((".", "/")):
                if not (ROOT / source).exists():
                    problems.append(f"{name} mounts {source}, which does not exist")
            elif source not in declared:
                problems.append(f"{name} mounts volume {source!r}, not declared")
        if is_ours(service) and not service.get("image"):
            problems.append(f"{name} builds the image without naming it")
    return problems


def traefik_env_problems(compose: dict, dynamic_text: str) -> list[str]:
    """Every ``env "NAME"`` of dynamic.yml is set on the traefik service."""
    wanted = sorted(set(ENV_TEMPLATE.findall(dynamic_text)))
    service = (compose.get("services") or {}).get("traefik", {})
    env = environment(service)
    return [f"traefik does not set {name}" for name in wanted if not env.get(name)]


def traefik_flag_problems(compose: dict, static_text: str) -> list[str]:
    """The traefik service's flags say what traefik/traefik.yml says."""
    service = (compose.get("services") or {}).get("traefik", {})
    flags = traefik_flags(service)
    problems = []
    for key, value in flatten(load_yaml(static_text)).items():
        if key.lower() not in flags:
            problems.append(f"traefik has no --{key} (traefik.yml sets it)")
            continue
        if key.lower() in TRAEFIK_FROM_SETTINGS:
            continue  # `ems traefik` sets it; the container has a flag of its own
        expected = str(value).lower() if isinstance(value, bool) else str(value)
        if flags[key.lower()] != expected:
            problems.append(f"traefik --{key}={flags[key.lower()]}, not {expected}")
    routes = flags.get("providers.file.filename")
    sources = {target: source for source, target in short_mounts(service)}
    if routes not in sources:
        problems.append(f"traefik's routes file {routes} is not mounted")
    elif (ROOT / sources[routes]).resolve() != TRAEFIK_DYNAMIC.resolve():
        problems.append(
            f"traefik's routes come from {sources[routes]}, not dynamic.yml"
        )
    return problems


def bootstrap_problems(compose: dict) -> list[str]:
    """bootstrap reaches Traefik at 127.0.0.1:$EMS_HTTP_PORT, as its code expects."""
    services = compose.get("services") or {}
    service = services.get("bootstrap", {})
    problems = []
    if service.get("network_mode") != "service:traefik":
        problems.append("bootstrap is not in Traefik's network namespace")
    address = traefik_flags(services.get("traefik", {})).get("entrypoints.web.address")
    port = environment(service).get("EMS_HTTP_PORT")
    if not address or address.rpartition(":")[2] != port:
        problems.append(
            f"bootstrap's EMS_HTTP_PORT={port}, Traefik listens on {address}"
        )
    if str(service.get("restart", "")) not in ("no", "False"):
        problems.append("bootstrap exits when done, it must not be restarted")
    return problems


def loopback_problems(compose: dict) -> list[str]:
    """Settings whose default is this host's loopback are set for a container."""
    problems = []
    for name, service in (compose.get("services") or {}).items():
        if not is_ours(service):
            continue
        env = environment(service)
        for process in processes_of(argv(service.get("command"))):
            for variable in config.variables_of(process):
                default = str(variable.default)
                if LOOPBACK.search(default) and not env.get(variable.name):
                    problems.append(
                        f"{name}: {variable.name} is not set, {process} uses {default}"
                    )
    return problems


# -- fixtures -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose():
    return load_compose()


@pytest.fixture(scope="module")
def procfile():
    return parse_procfile(PROCFILE.read_text())


# -- the real file --------------------------------------------------------------------


def test_procfile_is_parsed():
    text = "# a comment\n\nweb: python -m web.server --port 1\nrpc:  nameko run a:B\n"
    assert parse_procfile(text) == {
        "web": "python -m web.server --port 1",
        "rpc": "nameko run a:B",
    }
    with pytest.raises(ValueError):
        parse_procfile("no separator here")


def test_compose_parses_and_shares_one_service_definition(compose):
    assert isinstance(compose["services"], dict)
    assert "x-ems-service" in compose
    ours = [name for name, service in compose["services"].items() if is_ours(service)]
    assert {MIGRATE, "auth", "users", "devices", "gateway", "web"} <= set(ours)
    assert len({compose["services"][name]["image"] for name in ours}) == 1


def test_every_procfile_process_is_a_service(compose, procfile):
    assert procfile, "the Procfile names no process"
    assert missing_services(compose, procfile) == []


def test_services_run_the_procfile_commands(compose, procfile):
    assert command_problems(compose, procfile) == []


def test_programs_of_our_image_exist(compose):
    assert program_problems(compose) == []


def test_long_running_services_are_health_checked(compose):
    assert health_problems(compose) == []


def test_dependencies_exist_and_wait_for_the_right_state(compose):
    assert dependency_problems(compose) == []


def test_mounts_exist(compose):
    assert mount_problems(compose) == []


def test_traefik_gets_every_backend_address(compose):
    assert traefik_env_problems(compose, TRAEFIK_DYNAMIC.read_text()) == []


def test_traefik_flags_match_the_static_configuration(compose):
    assert traefik_flag_problems(compose, TRAEFIK_STATIC.read_text()) == []


def test_bootstrap_reaches_traefik_on_loopback(compose):
    assert bootstrap_problems(compose) == []


def test_no_service_talks_to_its_own_loopback(compose):
    assert loopback_problems(compose) == []


def test_every_process_serves_its_probes_to_prometheus_and_its_healthcheck(compose):
    assert readiness_problems(compose) == []


# -- copies broken on purpose: the checks notice ------------------------------------


def _without(mapping: dict, key: str) -> dict:
    """A copy of ``mapping`` without ``key`` (anchored mappings are shared)."""
    return {name: value for name, value in mapping.items() if name != key}


def _drop_service(compose):
    del compose["services"]["devices"]


def _change_command(compose):
    compose["services"]["users"]["command"] = "nameko run services.users.service"


def _unknown_service(compose):
    compose["services"]["devices"]["command"] = "ems run no_such_service"


def _unknown_subcommand(compose):
    compose["services"][MIGRATE]["command"] = "ems no-such-command"


def _no_rabbit_healthcheck(compose):
    del compose["services"]["rabbitmq"]["healthcheck"]


def _unknown_dependency(compose):
    users = compose["services"]["users"]
    users["depends_on"] = {
        **users["depends_on"],
        "rabbit": {"condition": "service_started"},
    }


def _no_migrate_wait(compose):
    auth = compose["services"]["auth"]
    auth["depends_on"] = _without(auth["depends_on"], MIGRATE)


def _cycle(compose):
    rabbitmq = compose["services"]["rabbitmq"]
    rabbitmq["depends_on"] = {"gateway": {"condition": "service_started"}}


def _no_web_url(compose):
    traefik = compose["services"]["traefik"]
    traefik["environment"] = _without(traefik["environment"], "EMS_WEB_URL")


def _no_ping_entrypoint(compose):
    traefik = compose["services"]["traefik"]
    traefik["command"] = [
        flag for flag in traefik["command"] if not flag.startswith("--ping.")
    ]


def _bootstrap_on_its_own_network(compose):
    del compose["services"]["bootstrap"]["network_mode"]


def _loopback_broker(compose):
    gateway = compose["services"]["gateway"]
    gateway["environment"] = _without(gateway["environment"], "EMS_AMQP_URI_GATEWAY")


def _healthcheck_not_on_readyz(compose):
    compose["services"]["balancer"]["healthcheck"] = {"test": ["CMD", "true"]}


def _missing_mount(compose):
    compose["services"]["rabbitmq"]["volumes"] = [
        "./docker/no-such.conf:/etc/rabbitmq/conf.d/50-ems.conf:ro"
    ]


BREAKAGES = [
    (_drop_service, lambda c, p: missing_services(c, p), "devices"),
    (_change_command, lambda c, p: command_problems(c, p), "users"),
    (_unknown_service, lambda c, p: program_problems(c), "no_such_service"),
    (_unknown_subcommand, lambda c, p: program_problems(c), "no-such-command"),
    (_no_rabbit_healthcheck, lambda c, p: health_problems(c), "rabbitmq"),
    (_unknown_dependency, lambda c, p: dependency_problems(c), "'rabbit'"),
    (_no_migrate_wait, lambda c, p: dependency_problems(c), "auth does not wait"),
    (_cycle, lambda c, p: dependency_problems(c), "rabbitmq -> gateway -> rabbitmq"),
    (
        _no_web_url,
        lambda c, p: traefik_env_problems(c, TRAEFIK_DYNAMIC.read_text()),
        "EMS_WEB_URL",
    ),
    (
        _no_ping_entrypoint,
        lambda c, p: traefik_flag_problems(c, TRAEFIK_STATIC.read_text()),
        "ping.entryPoint",
    ),
    (_bootstrap_on_its_own_network, lambda c, p: bootstrap_problems(c), "namespace"),
    (_loopback_broker, lambda c, p: loopback_problems(c), "EMS_AMQP_URI"),
    (_missing_mount, lambda c, p: mount_problems(c), "no-such.conf"),
    (_healthcheck_not_on_readyz, lambda c, p: readiness_problems(c), "balancer"),
]


@pytest.mark.parametrize(
    ("breakage", "check", "expected"),
    BREAKAGES,
    ids=[breakage.__name__.strip("_") for breakage, _, _ in BREAKAGES],
)
def test_checks_notice_a_broken_copy(compose, procfile, breakage, check, expected):
    assert check(compose, procfile) == []
    broken = copy.deepcopy(compose)
    breakage(broken)
    problems = check(broken, procfile)
    assert any(expected in problem for problem in problems), problems


# -- the broker's settings: the same for make up, the tests and compose ------------


def broker_settings(path: Path) -> dict[str, str]:
    """``key = value`` lines of a rabbitmq.conf, comments left out."""
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def test_compose_gives_rabbitmq_the_platform_s_settings():
    local = broker_settings(ROOT / "config" / "rabbitmq" / "ems.conf")
    containers = broker_settings(ROOT / "docker" / "rabbitmq.conf")
    listener = "mqtt.listeners.tcp.default"
    # Only where the MQTT listener binds differs: the loopback on a machine, every
    # interface of the container; the port is the same.
    assert local.pop(listener).rsplit(":", 1)[-1] == containers.pop(listener)
    assert local == containers
    assert containers["mqtt.allow_anonymous"] == "false"
    plugins = (ROOT / "docker" / "rabbitmq-plugins").read_text()
    assert "rabbitmq_mqtt" in plugins and "rabbitmq_management" in plugins
    rabbitmq = load_compose()["services"]["rabbitmq"]
    assert ("./docker/rabbitmq.conf", "/etc/rabbitmq/conf.d/50-ems.conf") in [
        mount for mount in short_mounts(rabbitmq)
    ]
