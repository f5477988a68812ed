"""Throw-away installations of the platform, for tests and benchmarks.

A ``Stack`` gets its own RabbitMQ virtual host, its own PostgreSQL databases (migrated
with Alembic), its own signing keys and free ports, and starts the processes of the
``Procfile`` exactly as ``make up`` does, Traefik included. Nothing of a running
``make up`` installation is touched.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import config as settings
from ems import broker as broker_users
from ems import database
from ems.keys import ensure_keys
from services.common.amqp import with_login
from services.devices.broker import USER_PREFIX as DEVICE_USER_PREFIX

PROCFILE = settings.ROOT_DIR / "Procfile"
READY_LINE = "EMS is up."


def read_procfile(path: Path = PROCFILE) -> dict[str, str]:
    """``{process name: command}`` of a Procfile."""
    processes = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            processes[name.strip()] = command.strip()
    return processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Vhost:
    """A RabbitMQ virtual host that exists for the life of this object."""

    def __init__(self, management_uri: str, name: str):
        self.api = management_uri.rstrip("/") + "/api"
        self.name = name

    def create(self) -> None:
        vhost = quote(self.name, safe="")
        requests.put(
            f"{self.api}/vhosts/{vhost}", auth=("guest", "guest"), timeout=10
        ).raise_for_status()
        requests.put(
            f"{self.api}/permissions/{vhost}/guest",
            json={"configure": ".*", "write": ".*", "read": ".*"},
            auth=("guest", "guest"),
            timeout=10,
        ).raise_for_status()

    def delete(self) -> None:
        """Delete the virtual host and the devices' broker users made in it (users
        are the broker's, not the virtual host's)."""
        vhost = quote(self.name, safe="")
        granted = requests.get(
            f"{self.api}/vhosts/{vhost}/permissions",
            auth=("guest", "guest"),
            timeout=10,
        )
        users = [p["user"] for p in granted.json()] if granted.ok else []
        for user in users:
            if user.startswith(DEVICE_USER_PREFIX):
                requests.delete(
                    f"{self.api}/users/{quote(user, safe='')}",
                    auth=("guest", "guest"),
                    timeout=10,
                )
        requests.delete(
            f"{self.api}/vhosts/{vhost}", auth=("guest", "guest"), timeout=10
        )


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class PrivateBroker:
    """A RabbitMQ node of its own, for tests that kill the broker: its own name,
    ports and data folder, the platform's settings (``config/rabbitmq/ems.conf``)
    with its own MQTT port, started as ``rabbitmq-server`` starts any node."""

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.node = f"ems-{os.getpid()}-{secrets.token_hex(3)}@localhost"
        self.ports = {
            name: free_port() for name in ("amqp", "management", "mqtt", "dist")
        }
        self.process = None

    @property
    def amqp_uri(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.ports['amqp']}/"

    @property
    def management_uri(self) -> str:
        return f"http://guest:guest@127.0.0.1:{self.ports['management']}/"

    def _configure(self) -> dict[str, str]:
        ports = self.ports
        settings_lines = [
            line
            for line in (settings.ROOT_DIR / "config/rabbitmq/ems.conf")
            .read_text()
            .splitlines()
            if not line.startswith("mqtt.listeners.")
        ]
        settings_lines += [
            f"listeners.tcp.default = 127.0.0.1:{ports['amqp']}",
            f"mqtt.listeners.tcp.default = 127.0.0.1:{ports['mqtt']}",
            f"management.tcp.port = {ports['management']}",
            "management.tcp.ip = 127.0.0.1",
        ]
        (self.workdir / "conf.d").mkdir(parents=True, exist_ok=True)
        (self.workdir / "rabbitmq.conf").write_text("\n".join(settings_lines) + "\n")
        (self.workdir / "enabled_plugins").write_text(
            "[rabbitmq_management,rabbitmq_mqtt].\n"
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


class Resources:
    """A virtual host, migrated databases and signing keys, under one name."""

    def __init__(
        self,
        workdir: Path,
        name: str | None = None,
        broker: PrivateBroker | None = None,
    ):
        self.common = settings.load("common")
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
        """``{database: URL}`` of each of this installation's databases."""
        return {
            name: f"{self.pg_url}/{self.db_prefix}{name}"
            for name in self.common["DATABASES"]
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
        broker = {}
        if self.broker is not None:
            broker = {
                "EMS_RABBIT_MANAGEMENT_URI": self.management_uri,
                "EMS_MQTT_PORT": str(self.broker.ports["mqtt"]),
            }
        return {
            **broker,
            **self.broker_uris,
            "EMS_AMQP_URI": self.amqp_uri,
            "EMS_PG_URL": self.pg_url,
            "EMS_DB_PREFIX": self.db_prefix,
            "EMS_JWT_PRIVATE_KEY": str(self.private_key),
            "EMS_JWT_PUBLIC_KEY": str(self.public_key),
            "EMS_VAR_DIR": str(self.workdir / "var"),
        }


class Stack:
    """The whole platform on free ports; ``start()``, use, ``stop()``."""

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
            name: free_port() for name in ("http", "gateway", "auth", "ws", "web")
        }
        self.admin_email = "admin@ems.test"
        self.admin_password = secrets.token_urlsafe(12)
        self.env = self._environment(environment or {})
        self.processes: dict[str, subprocess.Popen] = {}
        self.extra_env: dict[str, dict[str, str]] = {}

    def _environment(self, overrides: dict[str, str]) -> dict[str, str]:
        bin_dir = str(Path(sys.executable).parent)
        env = dict(os.environ)
        env.update(self.resources.environment())
        env.update(
            {
                "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
                "PYTHONWARNINGS": "ignore",
                "EMS_HTTP_PORT": str(self.ports["http"]),
                "EMS_GATEWAY_ADDRESS": f"127.0.0.1:{self.ports['gateway']}",
                "EMS_AUTH_ADDRESS": f"127.0.0.1:{self.ports['auth']}",
                "EMS_WEB_PORT": str(self.ports["web"]),
                "EMS_WS_PORT": str(self.ports["ws"]),
                "EMS_WS_ALLOWED_ORIGINS": f"http://app.localhost:{self.ports['http']}",
                "EMS_GATEWAY_URL": f"http://127.0.0.1:{self.ports['gateway']}",
                "EMS_AUTH_VERIFY_URL": f"http://127.0.0.1:{self.ports['auth']}/internal/verify",
                "EMS_AUTH_SESSIONS_URL": f"http://127.0.0.1:{self.ports['auth']}/internal/sessions",
                "EMS_WS_GATEWAY_URL": f"http://127.0.0.1:{self.ports['ws']}",
                "EMS_WEB_URL": f"http://127.0.0.1:{self.ports['web']}",
                "EMS_ADMIN_EMAIL": self.admin_email,
                "EMS_ADMIN_PASSWORD": self.admin_password,
            }
        )
        env.update(overrides)
        return env

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['http']}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def log_path(self, name: str) -> Path:
        return self.workdir / f"{name}.log"

    def log(self, name: str) -> str:
        path = self.log_path(name)
        return path.read_text(errors="replace") if path.exists() else ""

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
        ``command`` (a second gateway, say) with ``environment`` on top."""
        if command is not None:
            self.commands[name] = command
            self.extra_env[name] = environment or {}
        stream = open(self.log_path(name), "ab")  # noqa: SIM115 - closed by the child
        self.processes[name] = subprocess.Popen(
            ["bash", "-c", self.commands[name]],
            cwd=settings.ROOT_DIR,
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

    def restart(self, name: str) -> None:
        self.kill(name, signal.SIGTERM)
        self.start_process(name)

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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(value: dict) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def tampered_tokens(valid_token: str, public_key_pem: str, claims: dict) -> dict:
    """Tokens an attacker could make from a valid one and the public key, by name.

    ``claims`` are the valid token's claims; each forgery must be refused.
    """
    header, payload, signature = valid_token.split(".")
    now = int(time.time())
    edited = dict(claims, role="ADMIN")
    hs256_header = _segment({"alg": "HS256", "typ": "JWT"})
    hs256_input = f"{hs256_header}.{payload}".encode()
    hs256_signature = _b64(
        hmac.new(public_key_pem.encode(), hs256_input, hashlib.sha256).digest()
    )
    other_key = Ed25519PrivateKey.generate()

    def signed(**changes) -> str:
        # Signed with a key of the right kind that is not the platform's.
        return jwt.encode(dict(claims, **changes), other_key, algorithm="EdDSA")

    return {
        "alg_none": f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "hs256_with_public_key": f"{hs256_header}.{payload}.{hs256_signature}",
        "edited_payload": f"{header}.{_segment(edited)}.{signature}",
        "other_key": signed(),
        "truncated_signature": f"{header}.{payload}.{signature[:-4]}",
        "garbage": "not-a-token",
        "expired_other_key": signed(exp=now - 10, iat=now - 100),
    }


class ModelServer:
    """A local OpenAI-compatible chat API, for tests of the AI fallback. It answers
    every completion with ``answer`` — a text, or a function of the last user
    message giving a text, or None for no answer at all — and keeps the requests
    it got; the first ``hang`` requests get no answer either."""

    def __init__(self, answer, hang: int = 0, port: int = 0):
        self.answer = answer
        self.hang = hang
        self.requests = []
        self.released = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "body": body})
                content = server.content(body)
                if len(server.requests) <= server.hang or content is None:
                    server.released.wait()
                    return
                if self.path != "/v1/chat/completions":
                    self.send_error(404)
                    return
                payload = json.dumps(
                    {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "message": {
                                    "role": "assistant",
                                    "content": content,
                                },
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {
                            "prompt_tokens": 10,
                            "completion_tokens": 5,
                            "total_tokens": 15,
                        },
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def content(self, body: dict) -> str | None:
        if not callable(self.answer):
            return self.answer
        questions = [m["content"] for m in body["messages"] if m["role"] == "user"]
        return self.answer(questions[-1] if questions else "")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.released.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def scripted_answer(question: str) -> str | None:
    """A test model's script: it knows about solar panels, hangs when asked to, and
    hands everything else over to staff."""
    if re.search(r"\bhang\b", question, re.IGNORECASE):
        return None
    if "solar" in question.lower():
        return "Solar panels lower what your meter counts while the sun shines."
    return "HANDOFF"


class ModelServerProcess:
    """``ModelServer(scripted_answer)`` in a process of its own, for a test process
    whose own threads are green (eventlet) and would not serve a whole platform."""

    def __enter__(self):
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys, time\n"
                "from ems.testing import ModelServer, scripted_answer\n"
                "server = ModelServer(scripted_answer, port=int(sys.argv[1]))\n"
                "with server:\n    time.sleep(10**9)",
                str(self.port),
            ],
            cwd=settings.ROOT_DIR,
        )
        deadline = time.monotonic() + 20
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the model server did not start")
            time.sleep(0.1)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __exit__(self, *exc):
        self.process.kill()
        self.process.wait()


# -- talking to a running Stack, for the integration tests --------------------------


class MqttDevice:
    """A device on RabbitMQ's MQTT listener, logged in with the credentials that
    ``POST /api/devices/{id}/credentials`` (``answer``) gave it, or others."""

    def __init__(self, answer: dict, password: str | None = None, **changes):
        import paho.mqtt.client as mqtt

        mqtt_login = answer["mqtt"]
        self.client_id = changes.get("client_id", mqtt_login["client_id"])
        self.port = int(changes.get("port", mqtt_login["port"]))
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=changes.get("clean_session", True),
        )
        username = changes.get("username", mqtt_login["username"])
        if username is not None:
            self.client.username_pw_set(username, password or answer["password"])
        self.client.max_inflight_messages_set(changes.get("inflight", 1000))
        self.connack = None
        self.connected = threading.Event()
        self.disconnected = threading.Event()
        self.suback: list = []
        self.subscribed = threading.Event()
        self.received: list = []
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *args: self.disconnected.set()
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = lambda c, u, message: self.received.append(message)

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        self.connack = reason_code
        if reason_code.is_failure:
            self.disconnected.set()
        else:
            self.connected.set()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        self.suback = list(reason_codes)
        self.subscribed.set()

    def connect(self, timeout: float = 10.0) -> bool:
        """True if the broker accepted the login within ``timeout`` seconds."""
        self.client.connect("127.0.0.1", self.port, keepalive=30)
        self.client.loop_start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.connected.is_set():
                return True
            if self.disconnected.is_set():
                return False
            time.sleep(0.02)
        return False

    def publish(self, topic: str, body: dict | bytes, timeout: float = 10.0):
        """The publish's ``MQTTMessageInfo``, waited for up to ``timeout``."""
        payload = body if isinstance(body, bytes) else json.dumps(body)
        info = self.client.publish(topic, payload, qos=1)
        try:
            info.wait_for_publish(timeout)
        except (RuntimeError, ValueError):
            pass  # not connected (any more): is_published() says False
        return info

    def subscribe(self, topic: str, timeout: float = 10.0) -> list:
        """The SUBACK's reason codes, or [] if none came."""
        self.subscribed.clear()
        self.client.subscribe(topic, qos=1)
        self.subscribed.wait(timeout)
        return self.suback

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def can_connect(answer: dict, **changes) -> bool:
    """Whether a device may connect with these credentials (then it leaves)."""
    device = MqttDevice(answer, **changes)
    try:
        return device.connect()
    finally:
        device.close()


def assert_locked_out_when_replaced_and_deleted(issue, delete, wait: float = 15.0):
    """A device's login stops working when new credentials replace it (``issue()``)
    and when the device is deleted (``delete()``): its open connection is closed
    within ``wait`` seconds, and it cannot connect again."""
    first = issue()
    online = MqttDevice(first)
    assert online.connect()
    second = issue()
    assert second["password"] != first["password"]
    try:
        assert online.disconnected.wait(wait), "the replaced login stayed connected"
    finally:
        online.close()
    assert not can_connect(first)
    current = MqttDevice(second)
    assert current.connect()
    delete()
    try:
        assert current.disconnected.wait(wait), "a deleted device stayed connected"
    finally:
        current.close()
    assert not can_connect(second)


def recent_day(offset: int = 0) -> str:
    """``YYYY-MM-DD`` of a day ``offset`` days from one three days ago: readings
    stamped on it are inside the back-fill window whenever the tests run, and on the
    days around it still in the past."""
    day = datetime.now(UTC).date() - timedelta(days=3 - offset)
    return day.isoformat()


def eventually(check, timeout: float = 30.0, interval: float = 0.25):
    """``check()``'s first truthy value, polled until ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(interval)


def stored(stack: "Stack", *device_ids: str) -> tuple[int, int, float]:
    """Of these devices' readings in monitoringdb: how many rows, how many distinct
    ``reading_id``s, and the sum of their hourly totals in kWh."""
    from sqlalchemy import create_engine, text

    engine = create_engine(stack.resources.databases["monitoringdb"])
    try:
        with engine.connect() as connection:
            count = connection.execute(
                text(
                    "SELECT count(*), count(DISTINCT reading_id) FROM readings "
                    "WHERE device_id = ANY(:d)"
                ),
                {"d": list(device_ids)},
            ).one()
            total = connection.execute(
                text(
                    "SELECT coalesce(sum(kwh), 0) FROM hourly_totals "
                    "WHERE device_id = ANY(:d)"
                ),
                {"d": list(device_ids)},
            ).scalar()
    finally:
        engine.dispose()
    return count[0], count[1], float(total)


def publish_readings(stack: "Stack", *bodies, raw=()):
    """Readings into ``ems.data`` as meters send them; ``raw`` adds
    ``(routing_key, bytes)`` messages published as they are."""
    from kombu import Connection

    from services.common.topology import DATA, reading_key

    with Connection(stack.resources.amqp_uri) as connection:
        producer = connection.Producer()
        for body in bodies:
            producer.publish(
                body,
                exchange=DATA,
                routing_key=reading_key(body["device_id"]),
                serializer="json",
                delivery_mode=2,
                declare=[DATA],
                retry=True,
            )
        for key, payload in raw:
            producer.publish(
                payload,
                exchange=DATA,
                routing_key=key,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
            )


def ws_connect(stack: "Stack", token: str, port: int | None = None):
    """A WebSocket to ``/ws``, through Traefik unless a gateway ``port`` is named."""
    import websocket

    return websocket.create_connection(
        f"ws://127.0.0.1:{port or stack.ports['http']}/ws?token={token}",
        origin=f"http://app.localhost:{stack.ports['http']}",
        timeout=10,
    )


def ws_closed_with(socket, wait: float = 10.0) -> int:
    """The close code the server ended the socket with."""
    import websocket

    socket.settimeout(wait)
    while True:
        opcode, data = socket.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return int.from_bytes(data[:2], "big")


def ws_receive(socket, type_: str | None = None, wait: float = 10.0):
    """The next message (of ``type_``, if given) within ``wait`` seconds, or None."""
    import websocket

    deadline = time.monotonic() + wait
    while (left := deadline - time.monotonic()) > 0:
        socket.settimeout(left)
        try:
            message = json.loads(socket.recv())
        except websocket.WebSocketTimeoutException:
            return None
        if type_ is None or message["type"] == type_:
            return message
    return None
