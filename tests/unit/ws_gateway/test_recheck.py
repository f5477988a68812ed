"""The periodic re-check: batches of open sessions put to auth, the ended closed."""

import asyncio
import io
import json
from concurrent.futures import Future

import pytest
from tornado.httpclient import HTTPRequest, HTTPResponse
from tornado.simple_httpclient import HTTPTimeoutError

from services.common.tokens import Identity
from ws_gateway.recheck import SessionRecheck
from ws_gateway.registry import SESSION_ENDED_CODE, Registry

SESSIONS_URL = "http://auth.test/internal/sessions"


class FakeClient:
    """A socket whose writes complete at once."""

    def __init__(self, user_id, role="USER"):
        self.identity = Identity(user_id, role, f"jti-{user_id}", 2**31, 0)
        self.received: list[str] = []
        self.close_code = None

    def write_frames(self, frame: bytes) -> Future:
        # Short messages only: a 7-bit length, no extended one.
        assert frame[0] == 0x81 and frame[1] < 126
        self.received.append(frame[2:].decode())
        future = Future()
        future.set_result(None)
        return future

    def close(self, code=None, reason=None):
        self.close_code = code

    def messages(self) -> list[dict]:
        return [json.loads(text) for text in self.received]


class FakeAuth:
    """``/internal/sessions``: ends the jtis in ``ended``; or fails with ``code``
    or ``error``."""

    def __init__(self, ended=(), code=200, error=None, body=None):
        self.ended, self.code, self.error, self.body = set(ended), code, error, body
        self.batches: list[list[dict]] = []

    async def fetch(self, url, **options):
        assert url == SESSIONS_URL and options["method"] == "POST"
        sessions = json.loads(options["body"])["sessions"]
        self.batches.append(sessions)
        if self.error is not None:
            raise self.error
        body = self.body
        if body is None:
            ended = [
                {"jti": s["jti"], "reason": "revoked"}
                for s in sessions
                if s["jti"] in self.ended
            ]
            body = json.dumps({"ended": ended}).encode()
        return HTTPResponse(HTTPRequest(url), self.code, buffer=io.BytesIO(body))


def registry_of(*clients) -> Registry:
    registry = Registry(max_pending=4)
    for client in clients:
        registry.add(client)
    return registry


def recheck(registry, auth, batch_size=500) -> int:
    checker = SessionRecheck(registry, SESSIONS_URL, 60, auth, batch_size=batch_size)
    return asyncio.run(checker.check_all())


def test_the_ended_sessions_are_told_and_closed_with_4001():
    alice, bob = FakeClient("alice"), FakeClient("bob", "OPERATOR")
    registry = registry_of(alice, bob)
    auth = FakeAuth(ended={"jti-bob"})
    assert recheck(registry, auth) == 1
    assert bob.close_code == SESSION_ENDED_CODE
    assert bob.messages()[0]["type"] == "session.ended"
    assert bob.messages()[0]["data"] == {"reason": "revoked"}
    assert bob not in registry
    assert alice in registry and alice.close_code is None and alice.received == []
    assert auth.batches == [
        [
            {"user_id": "alice", "role": "USER", "jti": "jti-alice",
             "credential_version": 0},
            {"user_id": "bob", "role": "OPERATOR", "jti": "jti-bob",
             "credential_version": 0},
        ]
    ]  # fmt: skip


def test_many_sockets_are_asked_about_in_a_few_requests():
    clients = [FakeClient(f"u{n}") for n in range(1200)]
    registry = registry_of(*clients)
    auth = FakeAuth(ended={"jti-u0", "jti-u1199"})
    assert recheck(registry, auth, batch_size=500) == 2
    assert [len(batch) for batch in auth.batches] == [500, 500, 200]
    assert len(registry) == 1198


def test_nothing_open_asks_nothing():
    auth = FakeAuth()
    assert recheck(registry_of(), auth) == 0
    assert auth.batches == []


@pytest.mark.parametrize(
    "auth",
    [
        FakeAuth(ended={"jti-alice"}, code=500),
        FakeAuth(ended={"jti-alice"}, code=401),
        FakeAuth(error=ConnectionRefusedError()),
        FakeAuth(error=HTTPTimeoutError("Timeout")),
        FakeAuth(body=b"not json"),
        FakeAuth(body=b'{"ended": [1]}'),
    ],
    ids=["500", "401", "refused", "timeout", "not-json", "bad-shape"],
)
def test_when_auth_does_not_say_the_sockets_stay_open(auth):
    alice = FakeClient("alice")
    registry = registry_of(alice)
    assert recheck(registry, auth) == 0
    assert alice in registry and alice.close_code is None


def test_a_socket_closed_while_auth_answered_is_left_alone():
    alice = FakeClient("alice")
    registry = registry_of(alice)

    class ClosingAuth(FakeAuth):
        async def fetch(self, url, **options):
            registry.remove(alice)
            return await super().fetch(url, **options)

    assert recheck(registry, ClosingAuth(ended={"jti-alice"})) == 0
    assert alice.received == []


def test_the_loop_goes_on_after_a_failed_round():
    alice = FakeClient("alice")
    registry = registry_of(alice)
    rounds = []

    class Flaky(SessionRecheck):
        async def check_all(self):
            rounds.append(1)
            if len(rounds) == 1:
                raise RuntimeError("boom")
            return 0

    async def run_briefly():
        task = asyncio.create_task(
            Flaky(registry, SESSIONS_URL, 0.01, FakeAuth()).run()
        )
        await asyncio.sleep(0.1)
        task.cancel()

    asyncio.run(run_briefly())
    assert len(rounds) >= 2
