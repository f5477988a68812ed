"""The ``ems`` subcommands."""

import os
import secrets
import shutil
import signal
import sys
import time
from pathlib import Path

import requests
import yaml
from kombu import Connection
from nameko.exceptions import RpcTimeout, UnknownService
from nameko.standalone.rpc import ClusterRpcProxy

import config as settings
from ems import database
from ems.keys import ensure_keys
from services.common.topology import declare_all


def var_dir(common: dict) -> Path:
    return settings.ROOT_DIR / common["VAR_DIR"]


def prepare(args) -> None:
    common = settings.load("common")
    jwt = common["JWT"]
    if ensure_keys(
        settings.ROOT_DIR / jwt["private_key_file"],
        settings.ROOT_DIR / jwt["public_key_file"],
    ):
        print(
            "generated the token signing keys in", Path(jwt["private_key_file"]).parent
        )
    for name in database.create_databases(common["PG_URL"], database.database_names()):
        print("created database", name)
    database.migrate_all()
    with Connection(common["AMQP_URI"]) as connection:
        declare_all(connection.default_channel)


def migrate(args) -> None:
    database.migrate_all()


def admin_password(common: dict) -> tuple[str, bool]:
    """The ADMIN's password: EMS_ADMIN_PASSWORD, else one generated once and kept."""
    if common["ADMIN"]["password"]:
        return str(common["ADMIN"]["password"]), False
    path = var_dir(common) / "admin_password"
    if path.exists():
        return path.read_text().strip(), True
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as stream:
        stream.write(password + "\n")
    return password, True


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


def bootstrap(args) -> None:
    common = settings.load("common")
    deadline = time.monotonic() + args.timeout
    admin = common["ADMIN"]
    password, generated = admin_password(common)
    port = common["HTTP_PORT"]
    # Health answers 200 through Traefik once every service does.
    wait_for_http(f"http://127.0.0.1:{port}/api/health", deadline)
    with ClusterRpcProxy({"AMQP_URI": common["AMQP_URI"]}, timeout=30) as cluster:
        call_when_up(
            cluster,
            "users",
            "ensure_admin",
            deadline,
            admin["email"],
            password,
            admin["name"],
        )
    source = (
        f"kept in {var_dir(common) / 'admin_password'}"
        if generated
        else "from EMS_ADMIN_PASSWORD"
    )
    print(
        f"""
EMS is up.
  web app      http://app.localhost:{port}/
  API          http://localhost:{port}/api/   (OpenAPI: /api/openapi.json)
  ADMIN login  {admin["email"]} / {password}   ({source})
Stop with Ctrl-C.
""",
        flush=True,
    )
    if not args.exit:
        # A process list (honcho) stops every process when one exits, so this one
        # stays until it is told to stop.
        signal.pause()


def traefik(args) -> None:
    common = settings.load("common")
    static = settings.load_text(
        (settings.ROOT_DIR / "traefik" / "traefik.yml").read_text()
    )
    rendered = var_dir(common) / "traefik.yml"
    rendered.parent.mkdir(parents=True, exist_ok=True)
    rendered.write_text(yaml.safe_dump(static))
    binary = Path(sys.executable).with_name("traefik")
    if not binary.exists():
        binary = Path(shutil.which("traefik") or "traefik")
    os.execv(binary, [str(binary), f"--configFile={rendered}"])
