"""RabbitMQ for tests: a throw-away virtual host on the machine's broker, and a node
of its own for tests that kill the broker."""

import os
import secrets
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import requests

import config
from harness.ports import free_port, listening
from services.devices.broker import USER_PREFIX as DEVICE_USER_PREFIX

#: Seconds a call to the management API may take: deleting a virtual host with its
#: queues takes a while on a busy machine.
MANAGEMENT_TIMEOUT = 60


class Vhost:
    """A RabbitMQ virtual host that exists for the life of this object."""

    def __init__(self, management_uri: str, name: str):
        self.api = management_uri.rstrip("/") + "/api"
        self.name = name

    def create(self) -> None:
        vhost = quote(self.name, safe="")
        requests.put(
            f"{self.api}/vhosts/{vhost}",
            auth=("guest", "guest"),
            timeout=MANAGEMENT_TIMEOUT,
        ).raise_for_status()
        requests.put(
            f"{self.api}/permissions/{vhost}/guest",
            json={"configure": ".*", "write": ".*", "read": ".*"},
            auth=("guest", "guest"),
            timeout=MANAGEMENT_TIMEOUT,
        ).raise_for_status()

    def delete(self) -> None:
        """Delete the virtual host and the devices' broker users made in it (users
        are the broker's, not the virtual host's)."""
        vhost = quote(self.name, safe="")
        granted = requests.get(
            f"{self.api}/vhosts/{vhost}/permissions",
            auth=("guest", "guest"),
            timeout=MANAGEMENT_TIMEOUT,
        )
        users = [p["user"] for p in granted.json()] if granted.ok else []
        for user in users:
            if user.startswith(DEVICE_USER_PREFIX):
                requests.delete(
                    f"{self.api}/users/{quote(user, safe='')}",
                    auth=("guest", "guest"),
                    timeout=MANAGEMENT_TIMEOUT,
                )
        requests.delete(
            f"{self.api}/vhosts/{vhost}",
            auth=("guest", "guest"),
            timeout=MANAGEMENT_TIMEOUT,
        )


class PrivateBroker:
    """A RabbitMQ node of its own, for tests that kill the broker: its own name,
    ports and data folder, the platform's settings (``config/rabbitmq/ems.conf``)
    with its own MQTT port, started as ``rabbitmq-server`` starts any node."""

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.node = f"ems-{os.getpid()}-{secrets.token_hex(3)}@localhost"
        self.ports = {
            name: free_port()
            for name in ("amqp", "management", "mqtt", "dist", "prometheus")
        }
        self.process = None

    @property
    def amqp_uri(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.ports['amqp']}/"

    @property
    def metrics_url(self) -> str:
        """Its own metrics (rabbitmq_prometheus), as Prometheus reads them."""
        return f"http://127.0.0.1:{self.ports['prometheus']}"

    @property
    def management_uri(self) -> str:
        return f"http://guest:guest@127.0.0.1:{self.ports['management']}/"

    def _configure(self) -> dict[str, str]:
        ports = self.ports
        settings_lines = [
            line
            for line in (config.ROOT_DIR / "config/rabbitmq/ems.conf")
            .read_text()
            .splitlines()
            if not line.startswith("mqtt.listeners.")
        ]
        settings_lines += [
            f"listeners.tcp.default = 127.0.0.1:{ports['amqp']}",
            f"mqtt.listeners.tcp.default = 127.0.0.1:{ports['mqtt']}",
            f"management.tcp.port = {ports['management']}",
            "management.tcp.ip = 127.0.0.1",
            f"prometheus.tcp.port = {ports['prometheus']}",
            "prometheus.tcp.ip = 127.0.0.1",
        ]
        (self.workdir / "conf.d").mkdir(parents=True, exist_ok=True)
        (self.workdir / "rabbitmq.conf").write_text("\n".join(settings_lines) + "\n")
        (self.workdir / "enabled_plugins").write_text(
            "[rabbitmq_management,rabbitmq_mqtt,rabbitmq_prometheus].\n"
        )
        return dict(
            os.environ,
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_DIST_PORT=str(ports["dist"]),
            RABBITMQ_CONFIG_FILE=str(self.workdir / "rabbitmq.conf"),
            # Not the machine's conf.d, whose MQTT listener is the machine's.
            RABBITMQ_CONFIG_FILES=str(self.workdir / "conf.d"),
            RABBITMQ_ADVANCED_CONFIG_FILE=str(self.workdir / "advanced.config"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.workdir / "enabled_plugins"),
            RABBITMQ_MNESIA_BASE=str(self.workdir / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.workdir / "log"),
            RABBITMQ_PID_FILE=str(self.workdir / "node.pid"),
        )

    def start(self, timeout: float = 90.0) -> "PrivateBroker":
        environment = self._configure()
        log = open(self.workdir / "rabbitmq-server.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [self.program()],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        api = f"http://127.0.0.1:{self.ports['management']}/api/overview"
        while True:
            try:
                if requests.get(api, auth=("guest", "guest"), timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the private RabbitMQ node did not start")
            time.sleep(0.5)
        while not listening(self.ports["mqtt"]):
            if time.monotonic() > deadline:
                raise RuntimeError("the private RabbitMQ node has no MQTT listener")
            time.sleep(0.2)
        return self

    @staticmethod
    def program() -> str:
        """The server itself: Debian's ``rabbitmq-server`` wrapper would run it as
        the rabbitmq user, who may not enter a test's folders."""
        direct = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
        return str(direct) if direct.exists() else "rabbitmq-server"

    def kill(self) -> None:
        """SIGKILL the node, as a crash or an out-of-memory kill would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
