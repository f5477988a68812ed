"""Throw-away installations of the platform, for tests and benchmarks.

A ``Stack`` gets its own RabbitMQ virtual host, its own PostgreSQL databases (migrated
with Alembic), its own signing keys and free ports, and starts the processes of the
``Procfile`` exactly as ``make up`` does, Traefik included. Nothing of a running
``make up`` installation is touched. ``Resources`` is the installation alone, for
tests that start their own processes. Both hand their processes an environment
built from ``config``'s declarations, which every process reads its settings from.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import config
from config import variables as v
from config.environment import environment
from config.processes import database_url
from ems import broker as broker_users
from ems import database
from ems.keys import ensure_keys
from harness.broker import PrivateBroker, Vhost
from harness.ports import free_port
from services.common.amqp import with_login

PROCFILE = config.ROOT_DIR / "Procfile"
READY_LINE = "EMS is up."


def read_procfile(path: Path = PROCFILE) -> dict[str, str]:
    """``{process name: command}`` of a Procfile."""
    processes = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            processes[name.strip()] = command.strip()
    return processes


#: Procfile processes that are not the platform's Python: they serve their own
#: metrics (Traefik, Prometheus, Alertmanager, the exporter) or none.
WITHOUT_METRICS = frozenset(
    {
        "maildev",
        "traefik",
        "bootstrap",
        "simulator",
        "prometheus",
        "alertmanager",
        "postgres_exporter",
    }
)


def metrics_processes() -> set[str]:
    """The Procfile's processes that serve the platform's metrics and probes."""
    return set(read_procfile()) - WITHOUT_METRICS


class Resources:
    """A virtual host, migrated databases and signing keys, under one name."""

    def __init__(
        self,
        workdir: Path,
        name: str | None = None,
        broker: PrivateBroker | None = None,
    ):
        self.common = config.settings("common")
        self.name = name or f"ems_t{os.getpid()}_{secrets.token_hex(3)}"
        self.workdir = workdir
        self.broker = broker
        self.management_uri = (
            broker.management_uri if broker else self.common["RABBIT_MANAGEMENT_URI"]
        )
        self.vhost = Vhost(self.management_uri, self.name)
        self.pg_url = self.common["PG_URL"]
        self.db_prefix = f"{self.name}_"
        amqp = (broker.amqp_uri if broker else self.common["AMQP_URI"]).rstrip("/")
        self.amqp_uri = f"{amqp}/{quote(self.name, safe='')}"
        # Each process's own broker user, named after this installation.
        self.user_prefix = f"{self.name}-"
        self.broker_passwords = {
            name: secrets.token_urlsafe(16) for name in broker_users.PERMISSIONS
        }
        self.broker_uris = {
            broker_users.variable(name): with_login(
                amqp, f"{self.user_prefix}{name}", password, self.name
            )
            for name, password in self.broker_passwords.items()
        }
        self.private_key = workdir / "keys" / "jwt_private.pem"
        self.public_key = workdir / "keys" / "jwt_public.pem"

    @property
    def databases(self) -> dict[str, str]:
        """``{database: URL}`` of each of this installation's databases, as its
        services reach them."""
        environ = self.environment()
        return {
            name: database_url(name).read(environ) for name in self.common["DATABASES"]
        }

    def create(self) -> None:
        self.vhost.create()
        broker_users.ensure_users(
            broker_users.Management(self.management_uri),
            self.name,
            self.amqp_uri,
            self.broker_passwords,
            prefix=self.user_prefix,
            admin_access=True,
        )
        bound = self.common["DEAD_LETTERS"]
        broker_users.apply_dead_letter_policy(
            self.management_uri,
            self.amqp_uri,
            int(bound["queue_max_length"]),
            int(bound["queue_max_bytes"]),
        )
        ensure_keys(self.private_key, self.public_key)
        names = [f"{self.db_prefix}{name}" for name in self.common["DATABASES"]]
        database.create_databases(self.pg_url, names)
        for name, url in self.databases.items():
            database.migrate(name, url)

    def destroy(self) -> None:
        self.vhost.delete()
        broker_users.Management(self.management_uri).delete_users(self.user_prefix)
        database.drop_databases(
            self.pg_url, [f"{self.db_prefix}{n}" for n in self.common["DATABASES"]]
        )

    def environment(self) -> dict[str, str]:
        """What makes a process's settings (``config.settings``) this
        installation's."""
        values = {
            v.AMQP_ADMIN: self.amqp_uri,
            v.PG_URL: self.pg_url,
            v.DB_PREFIX: self.db_prefix,
            v.JWT_PRIVATE_KEY: self.private_key,
            v.JWT_PUBLIC_KEY: self.public_key,
            v.VAR_DIR: self.workdir / "var",
            # Each installation's own target files, and every process on a free
            # port: stacks side by side (and `make up`) never mix.
            v.METRICS_TARGETS_DIR: self.metrics_dir,
            v.METRICS_PORT: 0,
        }
        if self.broker is not None:
            values[v.RABBIT_MANAGEMENT_URI] = self.management_uri
            values[v.MQTT_PORT] = self.broker.ports["mqtt"]
            values[v.RABBIT_METRICS_URL] = self.broker.metrics_url
        return {**environment(values), **self.broker_uris}

    @property
    def metrics_dir(self) -> Path:
        """Where its processes write their Prometheus target files."""
        return self.workdir / "metrics"

    def settings(self, process: str) -> dict:
        """``process``'s settings in this installation."""
        return config.settings(process, {**os.environ, **self.environment()})


class Stack:
    """The whole platform on free ports: ``with Stack(folder) as stack:`` starts it
    and stops it at the end, as ``start()`` and ``stop()`` do."""

    def __init__(
        self,
        workdir: Path,
        environment: dict[str, str] | None = None,
        processes: list[str] | None = None,
        broker: PrivateBroker | None = None,
    ):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.resources = Resources(self.workdir, broker=broker)
        self.commands = read_procfile()
        if processes is not None:
            self.commands = {n: c for n, c in self.commands.items() if n in processes}
        self.ports = {
            name: free_port()
            for name in (
                "http",
                "gateway",
                "auth",
                "ws",
                "web",
                "smtp",
                "inbox",
                "traefik_metrics",
                "prometheus",
                "alertmanager",
                "postgres_exporter",
            )
        }
        self.admin_email = "admin@ems.test"
        self.admin_password = secrets.token_urlsafe(12)
        self.env = self._environment(environment or {})
        self.processes: dict[str, subprocess.Popen] = {}
        # Prometheus reads the queues of this installation's virtual host only.
        # (EMS_VHOST is given to it alone: to devices it is the broker's MQTT
        # default, which stays the machine's.)
        self.extra_env: dict[str, dict[str, str]] = {
            "prometheus": {v.VHOST.name: self.resources.name}
        }

    def _environment(self, overrides: dict[str, str]) -> dict[str, str]:
        bin_dir = str(Path(sys.executable).parent)
        env = dict(os.environ)
        env.update(self.resources.environment())
        ports = self.ports
        env.update(
            environment(
                {
                    v.HTTP_PORT: ports["http"],
                    v.GATEWAY_ADDRESS: f"127.0.0.1:{ports['gateway']}",
                    v.AUTH_ADDRESS: f"127.0.0.1:{ports['auth']}",
                    v.WEB_PORT: ports["web"],
                    v.WS_PORT: ports["ws"],
                    v.WS_ALLOWED_ORIGINS: f"http://app.localhost:{ports['http']}",
                    v.GATEWAY_URL: f"http://127.0.0.1:{ports['gateway']}",
                    v.AUTH_VERIFY_URL: f"http://127.0.0.1:{ports['auth']}/internal/verify",
                    v.AUTH_SESSIONS_URL: (
                        f"http://127.0.0.1:{ports['auth']}/internal/sessions"
                    ),
                    v.WS_GATEWAY_URL: f"http://127.0.0.1:{ports['ws']}",
                    v.WEB_URL: f"http://127.0.0.1:{ports['web']}",
                    v.SMTP_HOST: "127.0.0.1",
                    v.SMTP_PORT: ports["smtp"],
                    v.MAIL_INBOX_PORT: ports["inbox"],
                    v.TRAEFIK_METRICS_PORT: ports["traefik_metrics"],
                    v.PROMETHEUS_PORT: ports["prometheus"],
                    v.ALERTMANAGER_PORT: ports["alertmanager"],
                    v.POSTGRES_EXPORTER_PORT: ports["postgres_exporter"],
                    v.ADMIN_EMAIL: self.admin_email,
                    v.ADMIN_PASSWORD: self.admin_password,
                }
            )
        )
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
        env["PYTHONWARNINGS"] = "ignore"
        env.update(overrides)
        return env

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['http']}"

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def inbox_url(self) -> str:
        """maildev's REST API, where every e-mail the stack sent arrives
        (``GET /api/email``)."""
        return f"http://127.0.0.1:{self.ports['inbox']}"

    @property
    def prometheus_url(self) -> str:
        """Prometheus's HTTP API (``/api/v1/alerts``, ``/api/v1/query``)."""
        return f"http://127.0.0.1:{self.ports['prometheus']}"

    def metrics_targets(self) -> dict[str, dict]:
        """``{process: its target file's one group}``: the address its metrics and
        probes answer on (``targets[0]``) and its labels."""
        return {
            path.stem: json.loads(path.read_text())[0]
            for path in sorted(self.resources.metrics_dir.glob("*.json"))
        }

    def metrics_url(self, process: str, path: str = "/metrics") -> str:
        """``path`` of ``process``'s metrics server, as its target file says."""
        return f"http://{self.metrics_targets()[process]['targets'][0]}{path}"

    def log_path(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def log(self, name: str) -> str:
        path = self.log_path(name)
        return path.read_text(errors="replace") if path.exists() else ""

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, timeout: float = 120.0) -> "Stack":
        self.resources.create()
        try:
            for name in self.commands:
                self.start_process(name)
            if "bootstrap" in self.commands:
                self.wait_for_log("bootstrap", READY_LINE, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def start_process(
        self,
        name: str,
        command: str | None = None,
        environment: dict[str, str] | None = None,
    ) -> None:
        """Start process ``name`` of the Procfile, or an extra one running
        ``command`` (a second gateway, say) with ``environment`` on top. The
        process is known by ``name`` (its metrics' target file, its probes): a
        second gateway never takes the first one's target file, nor removes it as
        it ends."""
        if command is not None:
            self.commands[name] = command
            self.extra_env[name] = {v.PROCESS_NAME.name: name, **(environment or {})}
        stream = open(self.log_path(name), "ab")  # noqa: SIM115 - closed by the child
        self.processes[name] = subprocess.Popen(
            ["bash", "-c", self.commands[name]],
            cwd=config.ROOT_DIR,
            env={**self.env, **self.extra_env.get(name, {})},
            stdout=stream,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        stream.close()

    def wait_for_log(self, name: str, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log(name):
            for process_name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{process_name} exited ({process.returncode}):\n"
                        + self.log(process_name)[-3000:]
                    )
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} never said {text!r}:\n{self.report()}")
            time.sleep(0.2)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes[name]
        os.killpg(process.pid, sig)
        process.wait(timeout=30)

    def retire(self, name: str) -> None:
        """Stop an extra process a test started (a second gateway, say) and
        forget it: the stack's checks that every process still runs do not count
        it any more."""
        self.kill(name, signal.SIGTERM)
        del self.processes[name]
        self.commands.pop(name, None)
        self.extra_env.pop(name, None)

    def restart(self, name: str) -> None:
        self.kill(name, signal.SIGTERM)
        self.start_process(name)

    @contextmanager
    def reconfigured(self, name: str, environment: dict[str, str]):
        """Process ``name`` restarted with ``environment`` on top of the stack's,
        then, at the end of the block, restarted as it was. The block begins
        once the process has started; what it needs to be ready for, it waits
        for itself."""
        self.kill(name, signal.SIGTERM)
        self.start_process(name, self.commands[name], environment)
        try:
            yield self
        finally:
            self.kill(name, signal.SIGTERM)
            self.start_process(name, self.commands[name], {})

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.resources.destroy()

    def report(self, lines: int = 30) -> str:
        """The last lines of every process's log, for a failure message."""
        parts = []
        for name in self.commands:
            tail = "\n".join(self.log(name).splitlines()[-lines:])
            parts.append(f"--- {name}\n{tail}")
        return "\n".join(parts)
