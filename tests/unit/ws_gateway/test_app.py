"""The handshake and the socket's life, on a real Tornado server in this process with
a stand-in for the session check: origins, refusals, expiry, and what is logged."""

import asyncio
import json
import logging
import re
import time

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.httpserver import HTTPServer
from tornado.testing import bind_unused_port
from tornado.websocket import WebSocketClosedError, websocket_connect

from services.common import tracing
from services.common.tokens import Identity, InvalidToken
from ws_gateway import commands
from ws_gateway.app import GatewayApplication, SocketHandler, log_request
from ws_gateway.frames import text_frame
from ws_gateway.registry import SESSION_ENDED_CODE, Registry
from ws_gateway.sessions import AuthUnavailable

ORIGINS = ["http://app.localhost:8080", "http://localhost:8080"]
SECRET = "s3cr3t-token-value"


class FakeSessions:
    """Accepts ``tokens`` (token: Identity); ``down`` plays auth unreachable."""

    def __init__(self, tokens: dict[str, Identity], down: bool = False):
        self.tokens = tokens
        self.down = down
        self.checked: list[str | None] = []

    async def check(self, token):
        self.checked.append(token)
        if self.down:
            raise AuthUnavailable()
        if token not in self.tokens:
            raise InvalidToken("invalid access token")
        return self.tokens[token]


def identity(user_id="u1", role="USER", expires_in=3600.0) -> Identity:
    now = time.time()
    return Identity(user_id, role, f"jti-{user_id}", int(now + expires_in), int(now))


def run(scenario, sessions, **app_options):
    """Run ``scenario(url, registry)`` against a gateway app on a free port."""

    async def main():
        registry = Registry(max_pending=16)
        app = GatewayApplication(
            registry,
            sessions,
            ORIGINS,
            ping_interval=app_options.pop("ping_interval", 0),
            ping_timeout=app_options.pop("ping_timeout", 0),
            **app_options,
        )
        listening, port = bind_unused_port()
        server = HTTPServer(app)
        server.add_sockets([listening])
        try:
            return await asyncio.wait_for(
                scenario(f"ws://127.0.0.1:{port}/ws", registry), timeout=10
            )
        finally:
            server.stop()

    return asyncio.run(main())


async def connect(url, token=SECRET, origin=None):
    headers = {"Origin": origin} if origin else {}
    target = f"{url}?token={token}" if token is not None else url
    return await websocket_connect(HTTPRequest(target, headers=headers))


async def refusal(url, **options) -> int:
    with pytest.raises(HTTPClientError) as refused:
        await connect(url, **options)
    return refused.value.code


def test_a_usable_token_opens_a_socket_of_its_user():
    sessions = FakeSessions({SECRET: identity("alice", "ADMIN")})

    async def scenario(url, registry):
        socket = await connect(url, origin="http://app.localhost:8080")
        await asyncio.sleep(0.05)
        assert [c.identity.user_id for c in registry.of_user("alice")] == ["alice"]
        assert len(registry.of_role("ADMIN")) == 1
        socket.close()
        for _ in range(100):
            if not len(registry):
                break
            await asyncio.sleep(0.02)
        assert len(registry) == 0

    run(scenario, sessions)
    assert sessions.checked == [SECRET]


def test_frames_encoded_once_reach_a_real_client_whole():
    """Every length form of a frame (7-bit, 16-bit and 64-bit lengths), non-ASCII
    text included, as Tornado's own client reads it."""
    texts = [
        json.dumps({"type": "x", "data": "é" * size})
        for size in (0, 100, 126, 40_000, 70_000)
    ]

    async def scenario(url, registry):
        socket = await connect(url)
        await asyncio.sleep(0.05)
        for text in texts:
            assert registry.send(registry.of_user("alice"), text) == 1
        received = [await socket.read_message() for _ in texts]
        socket.close()
        return received

    assert run(scenario, FakeSessions({SECRET: identity("alice")})) == texts


def test_a_closed_socket_takes_no_frame():
    async def scenario(url, registry):
        socket = await connect(url)
        await asyncio.sleep(0.05)
        (handler,) = registry.of_user("alice")
        handler.close()
        with pytest.raises(WebSocketClosedError):
            handler.write_frames(text_frame("{}"))
        socket.close()

    run(scenario, FakeSessions({SECRET: identity("alice")}))


def test_a_client_without_origin_is_let_through():
    async def scenario(url, registry):
        socket = await connect(url)
        socket.close()

    run(scenario, FakeSessions({SECRET: identity()}))


@pytest.mark.parametrize("token", [None, "", "forged"])
def test_an_unusable_token_gets_401_and_no_socket(token):
    async def scenario(url, registry):
        assert await refusal(url, token=token) == 401
        assert len(registry) == 0

    run(scenario, FakeSessions({SECRET: identity()}))


def test_auth_unreachable_gets_503():
    async def scenario(url, registry):
        assert await refusal(url) == 503

    run(scenario, FakeSessions({SECRET: identity()}, down=True))


@pytest.mark.parametrize(
    "origin",
    ["http://evil.example", "http://app.localhost:8081", "https://app.localhost:8080"],
)
def test_an_origin_not_listed_gets_403_before_the_token_is_looked_at(origin):
    sessions = FakeSessions({SECRET: identity()})

    async def scenario(url, registry):
        assert await refusal(url, origin=origin) == 403

    run(scenario, sessions)
    assert sessions.checked == []


def test_the_gateways_own_host_is_not_an_allowed_origin_by_itself():
    """Tornado lets an Origin matching Host through; the allow-list does not."""

    async def scenario(url, registry):
        host = url.removeprefix("ws://").split("/")[0]
        assert await refusal(url, origin=f"http://{host}") == 403

    run(scenario, FakeSessions({SECRET: identity()}))


def test_a_token_that_expires_ends_the_session_with_4001():
    soon = identity(expires_in=60)
    sessions = FakeSessions({SECRET: soon})

    async def scenario(url, registry):
        socket = await connect(url)
        started = time.monotonic()
        text = await socket.read_message()
        assert json.loads(text)["type"] == "session.ended"
        assert json.loads(text)["data"] == {"reason": "expired"}
        assert json.loads(text)["ts"].endswith("Z")
        assert await socket.read_message() is None
        assert socket.close_code == SESSION_ENDED_CODE
        assert 0.2 < time.monotonic() - started < 3
        assert len(registry) == 0

    # The clock says the token has half a second left.
    run(scenario, sessions, clock=lambda: soon.expires_at - 0.5)


def test_the_access_log_never_shows_the_token(caplog):
    sessions = FakeSessions({SECRET: identity()})

    async def scenario(url, registry):
        (await connect(url)).close()
        assert await refusal(url, token="bad-" + SECRET) == 401
        assert await refusal(url, origin="http://evil.example") == 403
        await asyncio.sleep(0.05)

    with caplog.at_level(logging.DEBUG):
        run(scenario, sessions)
    access = [r for r in caplog.records if r.name == "tornado.access"]
    assert [r.getMessage().split()[0] for r in access] == ["101", "401", "403"]
    assert all(" GET /ws (" in r.getMessage() for r in access)
    for record in caplog.records:
        assert "token=" not in record.getMessage()
        assert SECRET not in record.getMessage()


class FakeRequest:
    method = "GET"
    path = "/ws"
    uri = f"/ws?token={SECRET}"
    remote_ip = "203.0.113.9"

    def request_time(self):
        return 0.0015


class FakeHandler:
    request = FakeRequest()

    def __init__(self, status):
        self.status = status

    def get_status(self):
        return self.status


@pytest.mark.parametrize("status", [101, 401, 403, 500])
def test_log_request_logs_the_path_without_the_query(caplog, status):
    with caplog.at_level(logging.INFO, logger="tornado.access"):
        log_request(FakeHandler(status))
    (record,) = caplog.records
    assert record.getMessage() == f"{status} GET /ws (203.0.113.9) 1.50ms"


def test_tornados_own_log_lines_use_the_path_only():
    handler = SocketHandler.__new__(SocketHandler)
    handler.request = FakeRequest()
    assert handler._request_summary() == "GET /ws (203.0.113.9)"


class SlowSessions(FakeSessions):
    """Takes a moment to check, as auth does, so that handshakes interleave."""

    async def check(self, token):
        await asyncio.sleep(0.01)
        return await super().check(token)


def test_a_user_over_the_socket_quota_gets_429_before_the_upgrade():
    other = "other-token"
    sessions = FakeSessions({SECRET: identity("alice"), other: identity("bob")})

    async def scenario(url, registry):
        sockets = [await connect(url) for _ in range(3)]
        with pytest.raises(HTTPClientError) as refused:
            await connect(url)
        assert refused.value.code == 429
        body = json.loads(refused.value.response.body)
        assert body["error"] == "RATE_LIMITED"
        assert body["details"] == {"limit": 3}
        assert "at most 3 open sockets" in body["message"]
        assert registry.count_of_user("alice") == 3
        # Another user has their own quota; a closed socket frees a place.
        bob = await connect(url, token=other)
        sockets[0].close()
        for _ in range(100):
            if registry.count_of_user("alice") < 3:
                break
            await asyncio.sleep(0.02)
        sockets[0] = await connect(url)
        for socket in [*sockets, bob]:
            socket.close()

    run(scenario, sessions, max_sockets_per_user=3)


def test_concurrent_handshakes_at_the_quota_leave_exactly_the_quota():
    async def scenario(url, registry):
        results = await asyncio.gather(
            *(connect(url) for _ in range(10)), return_exceptions=True
        )
        opened = [result for result in results if not isinstance(result, Exception)]
        refused = [result for result in results if isinstance(result, Exception)]
        assert len(opened) == 3
        assert {error.code for error in refused} == {429}
        await asyncio.sleep(0.05)
        assert registry.count_of_user("u1") == 3
        for socket in opened:
            socket.close()

    run(scenario, SlowSessions({SECRET: identity()}), max_sockets_per_user=3)


class FakeDevices:
    """devices' ``send_command``: answers each call with a pending command."""

    def __init__(self):
        self.calls: list[tuple] = []

    async def send_command(self, caller, device_id, body, client=None):
        self.calls.append((caller, device_id, body, client))
        await asyncio.sleep(0.01)
        return {
            "id": f"c{len(self.calls)}",
            "device_id": device_id,
            "status": "pending",
        }


def test_a_socket_sends_commands_as_its_user_and_hears_the_answers():
    devices = FakeDevices()

    async def scenario(url, registry):
        socket = await connect(url)
        socket.write_message("not for the gateway")
        for ref in ("a", "b"):
            send = {"type": "command.send", "ref": ref, "data": {"device_id": "d1"}}
            socket.write_message(json.dumps(send))
        answers = [json.loads(await socket.read_message()) for _ in range(2)]
        assert [(a["type"], a["ref"], a["data"]["id"]) for a in answers] == [
            ("command.accepted", "a", "c1"),
            ("command.accepted", "b", "c2"),
        ]
        socket.close()

    run(
        scenario, FakeSessions({SECRET: identity("alice", "OPERATOR")}), devices=devices
    )
    # Each with the socket's address, which devices records in the audit log.
    assert devices.calls == [
        ({"user_id": "alice", "role": "OPERATOR"}, "d1", {}, "127.0.0.1"),
        ({"user_id": "alice", "role": "OPERATOR"}, "d1", {}, "127.0.0.1"),
    ]


class TracedDevices(FakeDevices):
    """Records the correlation id each call was made under, as its RPC headers
    carry it (``commands.traced_headers``)."""

    def __init__(self):
        super().__init__()
        self.headers: list[dict] = []

    async def send_command(self, caller, device_id, body, client=None):
        self.headers.append(commands.traced_headers())
        return await super().send_command(caller, device_id, body, client)


def test_each_command_a_socket_sends_has_an_id_its_answer_and_its_call_carry():
    devices = TracedDevices()

    async def scenario(url, registry):
        socket = await connect(url)
        answers = []
        for ref in ("a", "b"):
            send = {"type": "command.send", "ref": ref, "data": {"device_id": "d1"}}
            socket.write_message(json.dumps(send))
            answers.append(json.loads(await socket.read_message()))
        socket.close()
        return answers

    answers = run(scenario, FakeSessions({SECRET: identity("alice")}), devices=devices)
    ids = [answer["request_id"] for answer in answers]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids) and ids[0] != ids[1]
    assert devices.headers == [{"nameko.correlation_id": i} for i in ids]
    assert tracing.current() is None


def test_a_refused_handshake_names_its_request_id():
    async def scenario(url, registry):
        with pytest.raises(HTTPClientError) as refused:
            await websocket_connect(
                HTTPRequest(f"{url}?token=bad", headers={"X-Request-Id": "hs-1"})
            )
        return refused.value.response

    response = run(scenario, FakeSessions({}))
    assert response.headers["X-Request-Id"] == "hs-1"
    assert json.loads(response.body)["request_id"] == "hs-1"


@pytest.mark.parametrize(
    "failing, path, status",
    [
        ({}, "/readyz", 200),
        ({"broker": "not consuming ems.ws"}, "/readyz", 503),
        ({"broker": "not consuming ems.ws"}, "/livez", 200),
    ],
)
def test_health_answers_for_traefik(failing, path, status):
    async def scenario(url, registry):
        health = url.replace("ws://", "http://").replace("/ws", path)
        try:
            response = await AsyncHTTPClient().fetch(health)
        except HTTPClientError as exc:
            response = exc.response
        return response.code, json.loads(response.body)

    code, body = run(scenario, FakeSessions({}), ready=lambda: failing)
    assert code == status
    assert body.get("failing", {}) == (failing if path == "/readyz" else {})
