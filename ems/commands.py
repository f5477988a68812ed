"""The ``ems`` subcommands."""

import os
import shutil
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import requests
import yaml
from kombu import Connection
from nameko.exceptions import RpcTimeout, UnknownService
from nameko.standalone.rpc import ClusterRpcProxy

import config
from ems import accounts, broker, database, demo
from ems import prometheus as monitoring_config
from ems.keys import ensure_keys
from services.common.topology import declare_all
from simulator.cli import simulator_location


def prepare(args) -> None:
    common = config.settings("common")
    jwt = common["JWT"]
    if ensure_keys(
        config.ROOT_DIR / jwt["private_key_file"],
        config.ROOT_DIR / jwt["public_key_file"],
    ):
        print(
            "generated the token signing keys in", Path(jwt["private_key_file"]).parent
        )
    for name in database.create_databases(common["PG_URL"], database.database_names()):
        print("created database", name)
    database.migrate_all()
    # The generated passwords exist before any process starts, so the simulator
    # and bootstrap read the same ones.
    accounts.login(common, "ADMIN")
    accounts.login(common, "DEMO")
    accounts.login(common, "NEIGHBOUR")
    uris = prepare_broker(common)
    with Connection(uris[broker.variable("prepare")]) as connection:
        declare_all(connection.default_channel)
    bound = common["DEAD_LETTERS"]
    broker.apply_dead_letter_policy(
        common["RABBIT_MANAGEMENT_URI"],
        uris[broker.variable("prepare")],
        int(bound["queue_max_length"]),
        int(bound["queue_max_bytes"]),
    )


def prepare_broker(common) -> dict[str, str]:
    """The platform's virtual host and each process's broker user, with the
    passwords the environment or ``var/broker.env`` already gives (a container's,
    or a previous run's), new ones otherwise; written to ``var/broker.env``."""
    env_file = accounts.var_dir(common) / "broker.env"
    known = {**broker.read_env(env_file), **os.environ}
    passwords = {
        name: password
        for name in broker.PERMISSIONS
        if (password := broker.password_of(name, known))
    }
    uris = broker.ensure_users(
        broker.Management(common["RABBIT_MANAGEMENT_URI"]),
        common["VHOST"],
        common["AMQP_URI"],
        passwords,
    )
    broker.write_env(env_file, uris)
    return uris


def migrate(args) -> None:
    database.migrate_all()


def call_when_up(cluster, service: str, method: str, deadline: float, *args):
    """Call ``service.method`` as soon as the service answers."""
    while True:
        try:
            return getattr(getattr(cluster, service), method)(*args)
        except (UnknownService, RpcTimeout):
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def wait_for_http(url: str, deadline: float) -> None:
    while True:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer 200")
        time.sleep(1)


def health_url(simulator: dict) -> str:
    """``/api/health`` through Traefik, as the ``simulator`` settings reach the API:
    ``EMS_API_URL`` where Traefik is elsewhere (a cluster's Service), else this
    machine's ``EMS_HTTP_PORT``."""
    api = simulator["API_URL"] or f"http://127.0.0.1:{simulator['HTTP_PORT']}"
    return f"{api.rstrip('/')}/api/health"


def bootstrap(args) -> None:
    common = config.settings("common")
    deadline = time.monotonic() + args.timeout
    port = common["HTTP_PORT"]
    # Health answers 200 through Traefik once every service does.
    wait_for_http(health_url(config.settings("simulator")), deadline)
    admin = accounts.login(common, "ADMIN")
    lines = [
        "",
        "EMS is up.",
        f"  web app      http://app.localhost:{port}/",
        f"  API          http://localhost:{port}/api/   (reference: /api/docs, "
        "OpenAPI: /api/openapi.json)",
        f"  mail inbox   http://localhost:{config.settings('maildev')['INBOX_PORT']}/"
        "   (maildev: every e-mail the platform sends)",
        f"  Prometheus   http://localhost:{config.settings('prometheus')['PORT']}/"
        "   (the platform's metrics; its alerts: /alerts)",
        f"  Alertmanager http://localhost:{config.settings('alertmanager')['PORT']}/"
        "   (alerts that fire, e-mailed to the ADMIN)",
    ]
    amqp_uri = common["AMQP_URI_COMMAND"] or common["AMQP_URI"]
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=30) as cluster:
        call_when_up(
            cluster,
            "users",
            "ensure_account",
            deadline,
            admin.email,
            admin.password,
            admin.name,
            "ADMIN",
        )
        lines.append(
            f"  ADMIN login  {admin.email} / {admin.password}{described(admin)}"
        )
        if accounts.demo_enabled(common):
            home = accounts.login(common, "DEMO")
            neighbour = accounts.login(common, "NEIGHBOUR")
            seed_demo(cluster, home, neighbour, deadline)
            lines += [
                f"  demo login   {home.email} / {home.password}{described(home)}",
                f"  neighbour    {neighbour.email} / {neighbour.password}"
                f"{described(neighbour)}",
            ]
    lines += ["Stop with Ctrl-C.", ""]
    print("\n".join(lines), flush=True)
    if not args.exit:
        # A process list (honcho) stops every process when one exits, so this one
        # stays until it is told to stop.
        signal.pause()


def described(login: accounts.Login) -> str:
    return f"   (kept in {login.kept_in})" if login.kept_in else ""


def seed_demo(
    cluster, home: accounts.Login, neighbour: accounts.Login, deadline: float
) -> None:
    """The demo household and its neighbour, two USERs (``ems/demo.py``): the
    household's devices, its battery in auto mode, and the coming day's market
    between them."""
    # pvlib takes a second or more to import: only bootstrap pays for it.
    from services.common.solar import ClearSkyPv

    # The household last, right before its devices: the simulator logs in as it
    # and lists its devices as soon as it exists.
    next_door, household = (
        demo.Household(
            call_when_up(
                cluster,
                "users",
                "ensure_account",
                deadline,
                login.email,
                login.password,
                login.name,
                "USER",
            )["id"]
        )
        for login in (neighbour, home)
    )
    location = simulator_location(config.settings("simulator"))
    demo.seed(
        cluster,
        household,
        next_door,
        lambda device: ClearSkyPv(*location, device["max_hourly_kwh"]).watts,
        datetime.now(UTC),
        location,
    )


#: Where ``ems traefik`` puts each of its settings in traefik/traefik.yml.
TRAEFIK_SETTINGS = {
    "ADDRESS": ("entryPoints", "web", "address"),
    "METRICS_ADDRESS": ("entryPoints", "metrics", "address"),
    "ROUTES": ("providers", "file", "filename"),
    "LOG_LEVEL": ("log", "level"),
}


def traefik_static(conf: dict) -> dict:
    """traefik/traefik.yml with ``conf`` (the ``traefik`` settings) in place."""
    static = yaml.safe_load((config.ROOT_DIR / "traefik" / "traefik.yml").read_text())
    for key, path in TRAEFIK_SETTINGS.items():
        *parents, last = path
        section = static
        for name in parents:
            section = section[name]
        section[last] = conf[key]
    return static


#: maildev, as tools/maildev/package.json pins it (scripts/setup.sh installs it).
MAILDEV = config.ROOT_DIR / "tools" / "maildev" / "node_modules" / ".bin" / "maildev"


def maildev(args) -> None:
    """The development SMTP server: it takes every e-mail on ``EMS_SMTP_PORT`` and
    shows them at ``EMS_MAIL_INBOX_PORT`` (web inbox; REST API ``/api/email``), on
    the loopback interface only."""
    conf = config.settings("maildev")
    os.execv(
        MAILDEV,
        [
            str(MAILDEV),
            "--smtp",
            str(conf["SMTP_PORT"]),
            "--ip",
            "127.0.0.1",
            "--web",
            str(conf["INBOX_PORT"]),
            "--web-ip",
            "127.0.0.1",
            "--max-emails",
            "500",
        ],
    )


def traefik(args) -> None:
    rendered = accounts.var_dir(config.settings("common")) / "traefik.yml"
    rendered.parent.mkdir(parents=True, exist_ok=True)
    rendered.write_text(yaml.safe_dump(traefik_static(config.settings("traefik"))))
    binary = Path(sys.executable).with_name("traefik")
    if not binary.exists():
        binary = Path(shutil.which("traefik") or "traefik")
    os.execv(binary, [str(binary), f"--configFile={rendered}"])


def _installed(*names: str) -> str:
    """The first of ``names`` on the PATH (scripts/setup.sh installs Debian's)."""
    for name in names:
        if found := shutil.which(name):
            return found
    sys.exit(f"{names[0]} is not installed: run `make setup` (scripts/setup.sh)")


def prometheus(args) -> None:
    """Prometheus on ``EMS_PROMETHEUS_PORT`` (loopback only), its configuration and
    rules rendered into var/prometheus/, its data kept in var/prometheus/data."""
    conf = config.settings("prometheus")
    folder = config.ROOT_DIR / conf["VAR_DIR"] / "prometheus"
    rendered = monitoring_config.write_prometheus(conf, folder)
    (config.ROOT_DIR / conf["TARGETS_DIR"]).mkdir(parents=True, exist_ok=True)
    binary = _installed("prometheus")
    os.execv(
        binary,
        [
            binary,
            f"--config.file={rendered}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{conf['PORT']}",
            "--log.level=warn",
        ],
    )


def alertmanager(args) -> None:
    """Alertmanager on ``EMS_ALERTMANAGER_PORT`` (loopback only, no cluster), its
    configuration rendered into var/alertmanager/, which keeps its silences."""
    conf = config.settings("alertmanager")
    folder = config.ROOT_DIR / conf["VAR_DIR"] / "alertmanager"
    folder.mkdir(parents=True, exist_ok=True)
    rendered = folder / "alertmanager.yml"
    rendered.write_text(
        yaml.safe_dump(monitoring_config.alertmanager_config(conf), sort_keys=False)
    )
    binary = _installed("prometheus-alertmanager", "alertmanager")
    os.execv(
        binary,
        [
            binary,
            f"--config.file={rendered}",
            f"--storage.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{conf['PORT']}",
            # One Alertmanager: no gossip port to take.
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
    )


def postgres_exporter(args) -> None:
    """prometheus-postgres-exporter on ``EMS_POSTGRES_EXPORTER_PORT`` (loopback
    only), reading the server's statistics as the platform's database role."""
    conf = config.settings("postgres_exporter")
    binary = _installed("prometheus-postgres-exporter")
    os.execve(
        binary,
        [
            binary,
            f"--web.listen-address=127.0.0.1:{conf['PORT']}",
            "--log.level=warn",
        ],
        {
            **os.environ,
            "DATA_SOURCE_NAME": monitoring_config.postgres_dsn(conf["PG_URL"]),
        },
    )
