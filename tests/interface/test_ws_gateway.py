"""ws_gateway as its own process (``python -m ws_gateway``) on a real broker, in the
test's virtual host, with a stand-in for auth's ``/internal/verify`` and
``/internal/sessions``.

The stand-in answers 200 with the identity headers for the tokens the test signed
and 401 for those it revoked, and names the revoked ones' sessions as ended; the
real auth is covered by the integration tests.
"""

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import jwt
import pytest
import requests
import websocket
from kombu import Connection

import config
from config import variables as v
from config.environment import environment as config_environment
from harness.ports import free_port
from services.common.topology import (
    DEAD,
    REASON_HEADER,
    SERVICE_HEADER,
    WS,
    role_message_key,
    user_message_key,
)

SERVING = "serving /ws on"
CONSUMING = "consuming ems.ws through"
ALLOWED_ORIGIN = "http://localhost:8080"
#: Bound of every wait for one message.
WAIT = 10.0


def eventually(condition, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"never: {what}")
        time.sleep(interval)


class FakeAuth:
    """``/internal/verify`` on a free port, in a thread of the test process."""

    def __init__(self):
        self.identities: dict[str, tuple[str, str]] = {}
        self.revoked: set[str] = set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                scheme, _, token = self.headers.get("Authorization", "").partition(" ")
                identity = fake.identities.get(token) if scheme == "Bearer" else None
                if self.path != "/internal/verify" or identity is None:
                    self.send_response(401)
                elif token in fake.revoked:
                    self.send_response(401)
                else:
                    self.send_response(200)
                    self.send_header("X-User-Id", identity[0])
                    self.send_header("X-User-Role", identity[1])
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                sessions = json.loads(self.rfile.read(length))["sessions"]
                fake.session_checks.append(len(sessions))
                revoked = {Tokens.jti(token) for token in fake.revoked}
                ended = [
                    {"jti": s["jti"], "reason": "access token revoked"}
                    for s in sessions
                    if s["jti"] in revoked
                ]
                body = json.dumps({"ended": ended}).encode()
                self.send_response(200 if self.path == "/internal/sessions" else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.session_checks: list[int] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{base}/internal/verify"
        self.sessions_url = f"{base}/internal/sessions"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}
        )
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


class Tokens:
    """Signs tokens as auth does, and tells the fake auth which are usable."""

    def __init__(self, private_key: Path, auth: FakeAuth):
        self.private_key = private_key.read_text()
        self.auth = auth

    def sign(self, user_id: str, role: str = "USER", expires_in: int = 600) -> str:
        now = int(time.time())
        claims = {
            "sub": user_id,
            "role": role,
            "iat": now,
            "exp": now + expires_in,
            "iss": "ems-auth",
            "aud": "ems",
            "jti": uuid.uuid4().hex,
            "cv": 1,
        }
        token = jwt.encode(claims, self.private_key, algorithm="EdDSA")
        self.auth.identities[token] = (user_id, role)
        return token

    def revoke(self, token: str) -> None:
        self.auth.revoked.add(token)

    @staticmethod
    def jti(token: str) -> str:
        return jwt.decode(token, options={"verify_signature": False})["jti"]


class GatewayProcess:
    """``python -m ws_gateway`` as the Procfile runs it, on a port of its own."""

    def __init__(self, log_path: Path, environment: dict[str, str]):
        self.port = free_port()
        self.log_path = log_path
        self.env = dict(os.environ, PYTHONWARNINGS="ignore", **environment)
        self.env[v.WS_PORT.name] = str(self.port)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self, timeout: float = 90.0) -> "GatewayProcess":
        with open(self.log_path, "ab") as stream:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ws_gateway"],
                cwd=config.ROOT_DIR,
                env=self.env,
                stdout=stream,
                stderr=subprocess.STDOUT,
            )
        self.wait_for_consumers(1, timeout)
        eventually(lambda: SERVING in self.log(), timeout, "serving")
        return self

    def wait_for_consumers(self, count: int, timeout: float = 90.0) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"ws_gateway exited:\n{self.log()}")
            return self.log().count(CONSUMING) >= count

        eventually(ready, timeout, f"consuming #{count}:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def connect(self, token: str | None, origin: str | None = None, **options):
        url = self.url if token is None else f"{self.url}?token={token}"
        if origin is None:
            options["suppress_origin"] = True
        return websocket.create_connection(url, timeout=WAIT, origin=origin, **options)

    def stop(self, timeout: float = 15.0) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def cleanup(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=15)


def next_frame(ws, timeout: float = WAIT):
    """``("text", message)`` or ``("close", code)``, skipping pings and pongs."""
    ws.settimeout(timeout)
    while True:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_TEXT:
            return "text", json.loads(data)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return "close", struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None


def receive(ws, timeout: float = WAIT) -> dict:
    kind, value = next_frame(ws, timeout)
    assert kind == "text", f"expected a message, got close {value}"
    return value


def refusal(gateway: GatewayProcess, token, origin=None) -> int:
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        gateway.connect(token, origin=origin)
    return refused.value.status_code


class Publisher:
    def __init__(self, amqp_uri: str):
        self.connection = Connection(amqp_uri)
        self.producer = self.connection.Producer()

    def publish(self, routing_key: str, message_type: str, **data) -> dict:
        message = {"type": message_type, "data": data, "ts": "2026-11-22T10:15:00Z"}
        self.producer.publish(
            message,
            exchange=WS,
            routing_key=routing_key,
            serializer="json",
            declare=[WS],
        )
        return message

    def publish_raw(self, routing_key: str, body: bytes) -> None:
        self.producer.publish(
            body,
            exchange=WS,
            routing_key=routing_key,
            content_type="application/json",
            content_encoding="binary",
            declare=[WS],
        )

    def dead_letters(self) -> list:
        """What is in ``ems.dead`` now, taken off it."""
        messages, channel = [], self.connection.default_channel
        while (message := channel.basic_get(queue=DEAD.name, no_ack=True)) is not None:
            messages.append(message)
        return messages

    def close(self):
        self.connection.release()


@pytest.fixture
def auth():
    fake = FakeAuth()
    yield fake
    fake.close()


@pytest.fixture
def tokens(resources, auth):
    return Tokens(resources.private_key, auth)


@pytest.fixture
def publisher(rabbit_config):
    publisher = Publisher(rabbit_config["AMQP_URI"])
    yield publisher
    publisher.close()


@pytest.fixture
def gateways(rabbit_config, resources, auth, tmp_path):
    """Makes gateway processes of the test's vhost; kills what is left at the end."""
    processes, sockets = [], []

    def make(**environment: str) -> GatewayProcess:
        number = len(processes) + 1
        process = GatewayProcess(
            tmp_path / f"ws_gateway_{number}.log",
            {
                **config_environment(
                    {
                        v.BROKER_LOGINS["ws_gateway"]: rabbit_config["AMQP_URI"],
                        v.JWT_PUBLIC_KEY: resources.public_key,
                        v.AUTH_VERIFY_URL: auth.url,
                        v.AUTH_SESSIONS_URL: auth.sessions_url,
                        v.WS_ALLOWED_ORIGINS: ALLOWED_ORIGIN,
                        v.LOG_LEVEL: "DEBUG",
                    }
                ),
                **environment,
            },
        )
        processes.append(process)
        original = process.connect

        def connect(*args, **kwargs):
            ws = original(*args, **kwargs)
            sockets.append(ws)
            return ws

        process.connect = connect
        return process.start()

    yield make
    for ws in sockets:
        ws.close(timeout=1)
    for process in processes:
        process.cleanup()
        # Tokens travel in URLs: none may reach the log.
        assert "token=" not in process.log()


def assert_nothing_before(ws, marker: dict) -> None:
    """The next message ``ws`` receives is ``marker``: nothing else came before."""
    assert receive(ws) == marker


def test_a_user_receives_their_messages_and_no_one_elses(gateways, tokens, publisher):
    gateway = gateways()
    alice = gateway.connect(tokens.sign("alice"))
    bob = gateway.connect(tokens.sign("bob"))
    sent = publisher.publish(
        user_message_key("alice", "overconsumption"),
        "overconsumption",
        device_id="d1",
        kwh=0.7,
    )
    assert receive(alice) == sent
    marker = publisher.publish(user_message_key("bob", "marker"), "marker")
    assert_nothing_before(bob, marker)


def test_a_role_message_reaches_that_role_only(gateways, tokens, publisher):
    gateway = gateways()
    admins = [gateway.connect(tokens.sign(f"admin{n}", "ADMIN")) for n in (1, 2)]
    operator = gateway.connect(tokens.sign("op", "OPERATOR"))
    user = gateway.connect(tokens.sign("u", "USER"))
    sent = publisher.publish(
        role_message_key("ADMIN", "chat.message"), "chat.message", text="help"
    )
    for admin in admins:
        assert receive(admin) == sent
    for ws, user_id in ((operator, "op"), (user, "u")):
        marker = publisher.publish(user_message_key(user_id, "marker"), "marker")
        assert_nothing_before(ws, marker)


def test_undeliverable_messages_are_dead_lettered(gateways, tokens, publisher):
    gateway = gateways()
    alice = gateway.connect(tokens.sign("alice"))
    publisher.publish("role.admin.x", "x")
    publisher.publish("user.alice", "x")
    publisher.publish_raw(user_message_key("alice", "x"), b"not json")
    good = publisher.publish(user_message_key("alice", "x"), "x")
    # Delivered in order: the bad ones before it have been handled.
    assert_nothing_before(alice, good)
    dead = []

    def all_dead() -> bool:
        dead.extend(publisher.dead_letters())
        return len(dead) >= 3

    eventually(all_dead, 10, "three dead letters")
    reasons = {
        m.delivery_info["routing_key"]: m.properties["application_headers"]
        for m in dead
    }
    assert set(reasons) == {"role.admin.x", "user.alice", "user.alice.x"}
    assert all(h[SERVICE_HEADER] == "ws_gateway" for h in reasons.values())
    assert "unknown role" in reasons["role.admin.x"][REASON_HEADER]
    assert "not UTF-8 JSON" in reasons["user.alice.x"][REASON_HEADER]


def test_unusable_tokens_get_no_socket(gateways, tokens):
    gateway = gateways()
    revoked = tokens.sign("alice")
    tokens.revoke(revoked)
    expired = tokens.sign("alice", expires_in=-10)
    unknown_to_auth = tokens.sign("carol")
    del tokens.auth.identities[unknown_to_auth]
    for token in (None, "", "garbage", expired, revoked, unknown_to_auth):
        assert refusal(gateway, token) == 401, token
    # The one that auth still vouches for gets through.
    gateway.connect(tokens.sign("alice")).close()


def test_an_origin_not_allowed_is_refused(gateways, tokens):
    gateway = gateways()
    token = tokens.sign("alice")
    assert refusal(gateway, token, origin="http://evil.example") == 403
    assert refusal(gateway, token, origin=f"http://127.0.0.1:{gateway.port}") == 403
    gateway.connect(token, origin=ALLOWED_ORIGIN).close()


def test_a_token_expiring_mid_session_ends_it(gateways, tokens):
    gateway = gateways()
    ws = gateway.connect(tokens.sign("alice", expires_in=3))
    started = time.monotonic()
    kind, message = next_frame(ws, timeout=8)
    assert kind == "text"
    assert (message["type"], message["data"]) == (
        "session.ended",
        {"reason": "expired"},
    )
    assert message["ts"].endswith("Z")
    assert next_frame(ws, timeout=5) == ("close", 4001)
    assert 1.0 < time.monotonic() - started < 6.0


def test_a_logout_ends_that_session_and_a_deletion_all(gateways, tokens, publisher):
    gateway = gateways()
    laptop_token, phone_token = tokens.sign("alice"), tokens.sign("alice")
    laptop, phone = gateway.connect(laptop_token), gateway.connect(phone_token)
    bob = gateway.connect(tokens.sign("bob"))

    logout = publisher.publish(
        user_message_key("alice", "session.ended"),
        "session.ended",
        reason="logout",
        jti=tokens.jti(phone_token),
    )
    assert receive(phone) == logout
    assert next_frame(phone) == ("close", 4001)
    still = publisher.publish(user_message_key("alice", "still"), "still")
    assert_nothing_before(laptop, still)

    deleted = publisher.publish(
        user_message_key("alice", "session.ended"),
        "session.ended",
        reason="user_deleted",
    )
    assert receive(laptop) == deleted
    assert next_frame(laptop) == ("close", 4001)
    marker = publisher.publish(user_message_key("bob", "marker"), "marker")
    assert_nothing_before(bob, marker)


def test_two_gateways_each_deliver_to_their_own_clients(gateways, tokens, publisher):
    first, second = gateways(), gateways()
    alice = first.connect(tokens.sign("alice"))
    bob = second.connect(tokens.sign("bob"))
    carol_token = tokens.sign("carol")
    carols = [first.connect(carol_token), second.connect(carol_token)]

    for_alice = publisher.publish(user_message_key("alice", "x"), "x", n=1)
    for_bob = publisher.publish(user_message_key("bob", "x"), "x", n=2)
    for_carol = publisher.publish(user_message_key("carol", "x"), "x", n=3)
    for_users = publisher.publish(role_message_key("USER", "y"), "y", n=4)
    assert [receive(alice), receive(alice)] == [for_alice, for_users]
    assert [receive(bob), receive(bob)] == [for_bob, for_users]
    for carol in carols:
        assert [receive(carol), receive(carol)] == [for_carol, for_users]


def test_a_client_that_never_reads_delays_no_one(gateways, tokens, publisher):
    max_pending, count, size = 16, 300, 64 * 1024
    gateway = gateways(EMS_WS_MAX_PENDING=str(max_pending))
    token = tokens.sign("alice")
    # Never read from, with a receive buffer as small as the kernel allows.
    gateway.connect(token, sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)])
    reader = gateway.connect(token)
    received, failures = [], []

    def read_all():
        try:
            while len(received) < count:
                received.append(receive(reader)["data"]["n"])
        except Exception as exc:  # reported by the test thread below
            failures.append(exc)

    thread = threading.Thread(target=read_all)
    thread.start()
    started = time.monotonic()
    padding = "x" * size
    for number in range(count):
        publisher.publish(
            user_message_key("alice", "big"), "big", n=number, pad=padding
        )
        time.sleep(0.002)  # lets the reader's thread run between publishes
    thread.join(timeout=60)
    assert not thread.is_alive(), f"reader got {len(received)} of {count}"
    assert failures == []
    assert received == list(range(count))
    assert time.monotonic() - started < 45
    eventually(lambda: "dropping user alice" in gateway.log(), 10, "a drop")
    assert gateway.log().count("dropping user alice") == 1


def test_the_gateway_reconnects_to_rabbitmq_and_keeps_its_clients(
    gateways, tokens, publisher, rabbit_config
):
    gateway = gateways()
    alice = gateway.connect(tokens.sign("alice"))
    before = publisher.publish(user_message_key("alice", "x"), "x", n=1)
    assert receive(alice) == before

    api = config.settings("common")["RABBIT_MANAGEMENT_URI"].rstrip("/") + "/api"
    auth = ("guest", "guest")
    vhost = quote(rabbit_config["vhost"], safe="")

    def gateway_connections() -> list[str]:
        response = requests.get(
            f"{api}/vhosts/{vhost}/connections", auth=auth, timeout=5
        )
        response.raise_for_status()
        return [
            c["name"]
            for c in response.json()
            if (c.get("client_properties") or {}).get("connection_name") == "ws_gateway"
        ]

    # The management API lists a connection after its next statistics round.
    eventually(gateway_connections, 30, "the gateway's connection listed", 0.5)
    for name in gateway_connections():
        requests.delete(
            f"{api}/connections/{quote(name, safe='')}", auth=auth, timeout=5
        ).raise_for_status()

    eventually(lambda: "AMQP connection lost" in gateway.log(), 10, "the loss seen")
    gateway.wait_for_consumers(2, timeout=20)
    after = publisher.publish(user_message_key("alice", "x"), "x", n=2)
    assert receive(alice) == after


def test_a_stop_closes_every_socket_going_away(gateways, tokens):
    gateway = gateways()
    sockets = [gateway.connect(tokens.sign(user)) for user in ("alice", "bob")]
    frames = {}

    def read(ws):
        frames[ws] = next_frame(ws)  # answers the close frame, as browsers do

    readers = [threading.Thread(target=read, args=(ws,)) for ws in sockets]
    for reader in readers:
        reader.start()
    assert gateway.stop() == 0
    for reader in readers:
        reader.join(timeout=WAIT)
    assert list(frames.values()) == [("close", 1001)] * 2
    log = gateway.log()
    # Both sockets were closed at both ends before the process let go.
    assert log.count("disconnected") == 2
    assert log.rindex("disconnected") < log.index("stopped")


def test_a_revoked_session_is_ended_by_the_re_check_without_a_message(
    gateways, tokens, auth, publisher
):
    gateway = gateways(EMS_WS_SESSION_RECHECK_INTERVAL="0.5")
    demoted_token = tokens.sign("op", "OPERATOR")
    demoted = gateway.connect(demoted_token)
    other = gateway.connect(tokens.sign("admin", "ADMIN"))
    # No session.ended is published: only the re-check can notice.
    tokens.revoke(demoted_token)
    message = receive(demoted)
    assert message["type"] == "session.ended"
    assert message["data"] == {"reason": "revoked"}
    assert next_frame(demoted) == ("close", 4001)
    eventually(lambda: "re-check ended 1 of 2 sockets" in gateway.log(), WAIT, "log")
    # Nothing of the role reaches it any more; the other socket stays.
    sent = publisher.publish(role_message_key("ADMIN", "marker"), "marker")
    assert receive(other) == sent
    assert max(auth.session_checks) == 2
