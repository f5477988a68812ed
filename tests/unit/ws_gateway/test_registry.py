"""The registry's fan-out: by user and by role, session ends, slow and dead clients."""

import json
from concurrent.futures import Future

import pytest
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError

from services.common.metrics import REGISTRY
from services.common.tokens import Identity
from ws_gateway.__main__ import delivery
from ws_gateway.outbox import Outbox
from ws_gateway.registry import (
    GOING_AWAY_CODE,
    SESSION_ENDED_CODE,
    TOO_SLOW_CODE,
    Registry,
)
from ws_gateway.routing import destination

MAX_PENDING = 4


def payloads(frames: bytes) -> list[str]:
    """The texts of final, unmasked text frames with 7-bit or 16-bit lengths."""
    texts = []
    while frames:
        assert frames[0] == 0x81 and not frames[1] & 0x80
        length, offset = frames[1], 2
        if length == 126:
            length, offset = int.from_bytes(frames[2:4], "big"), 4
        texts.append(frames[offset : offset + length].decode())
        frames = frames[offset + length :]
    return texts


class FakeClient:
    """A socket whose writes complete at once, or never (``stalled``)."""

    def __init__(self, user_id, role="USER", jti=None, stalled=False, closed=False):
        self.identity = Identity(user_id, role, jti or f"jti-{user_id}", 2**31, 0)
        self.stalled = stalled
        self.is_closed = closed
        self.frames: list[bytes] = []
        self.received: list[str] = []
        self.futures: list[Future] = []
        self.close_code = None

    def write_frames(self, frames: bytes) -> Future:
        if self.is_closed:
            raise WebSocketClosedError()
        self.frames.append(frames)
        self.received.extend(payloads(frames))
        future = Future()
        self.futures.append(future)
        if not self.stalled:
            future.set_result(None)
        return future

    def close(self, code=None, reason=None):
        if not self.is_closed:
            self.is_closed, self.close_code = True, code

    def messages(self) -> list[dict]:
        return [json.loads(text) for text in self.received]


def message(message_type: str, **data) -> tuple[str, dict]:
    body = {"type": message_type, "data": data, "ts": "2026-11-22T10:15:00Z"}
    return json.dumps(body), body


def deliver(registry, routing_key, message_type, **data) -> int:
    return registry.deliver(destination(routing_key), *message(message_type, **data))


@pytest.fixture
def registry():
    return Registry(max_pending=MAX_PENDING)


def register(registry, *clients):
    for client in clients:
        registry.add(client)
    return clients


def test_a_user_message_reaches_every_socket_of_that_user_only(registry):
    alice_tab, alice_phone, bob = register(
        registry,
        FakeClient("alice", jti="a1"),
        FakeClient("alice", jti="a2"),
        FakeClient("bob"),
    )
    assert (
        deliver(registry, "user.alice.overconsumption", "overconsumption", kwh=1) == 2
    )
    assert [m["type"] for m in alice_tab.messages()] == ["overconsumption"]
    assert alice_phone.messages() == alice_tab.messages()
    assert bob.received == []


def test_a_role_message_reaches_every_socket_of_that_role_only(registry):
    admin1, admin2, operator, user = register(
        registry,
        FakeClient("a1", "ADMIN"),
        FakeClient("a2", "ADMIN"),
        FakeClient("o1", "OPERATOR"),
        FakeClient("u1", "USER"),
    )
    assert deliver(registry, "role.ADMIN.chat.message", "chat.message", text="hi") == 2
    assert [len(c.received) for c in (admin1, admin2, operator, user)] == [1, 1, 0, 0]


def test_the_body_is_forwarded_as_it_is(registry):
    (client,) = register(registry, FakeClient("alice"))
    text = '{"type":"x","data":{"b":2,"a":1},"ts":"2026-11-22T10:15:00Z"}'
    registry.deliver(destination("user.alice.x"), text, json.loads(text))
    assert client.received == [text]


def test_nobody_connected_is_no_error(registry):
    assert deliver(registry, "user.ghost.x", "x") == 0
    assert deliver(registry, "role.OPERATOR.x", "x") == 0


def test_session_ended_with_jti_ends_that_session_only(registry):
    tab, phone, bob = register(
        registry,
        FakeClient("alice", jti="a1"),
        FakeClient("alice", jti="a2"),
        FakeClient("bob"),
    )
    deliver(
        registry, "user.alice.session.ended", "session.ended", reason="logout", jti="a2"
    )
    assert phone.messages()[0]["data"] == {"reason": "logout", "jti": "a2"}
    assert phone.close_code == SESSION_ENDED_CODE
    assert phone not in registry
    assert tab.received == [] and tab.close_code is None and tab in registry
    assert bob.received == [] and bob in registry


def test_session_ended_without_jti_ends_all_of_the_users_sessions(registry):
    tab, phone, bob = register(
        registry,
        FakeClient("alice", jti="a1"),
        FakeClient("alice", jti="a2"),
        FakeClient("bob"),
    )
    deliver(
        registry, "user.alice.session.ended", "session.ended", reason="user_deleted"
    )
    for client in (tab, phone):
        assert [m["type"] for m in client.messages()] == ["session.ended"]
        assert client.close_code == SESSION_ENDED_CODE
        assert client not in registry
    assert bob.close_code is None and bob in registry
    # Nothing more reaches an ended session.
    assert deliver(registry, "user.alice.x", "x") == 0


def test_a_client_that_never_flushes_is_dropped_and_others_still_receive(registry):
    stalled, fine = register(
        registry, FakeClient("alice", stalled=True), FakeClient("alice")
    )
    for number in range(MAX_PENDING):
        deliver(registry, "user.alice.x", "x", n=number)
    assert registry.pending(stalled) == MAX_PENDING
    assert stalled in registry and stalled.close_code is None

    assert deliver(registry, "user.alice.x", "x", n=MAX_PENDING) == 1
    assert stalled.close_code == TOO_SLOW_CODE
    assert stalled not in registry
    assert len(stalled.received) == MAX_PENDING

    for number in range(MAX_PENDING + 1, 3 * MAX_PENDING):
        deliver(registry, "user.alice.x", "x", n=number)
    assert [m["data"]["n"] for m in fine.messages()] == list(range(3 * MAX_PENDING))
    assert registry.pending(fine) == 0


def test_a_client_that_catches_up_is_kept(registry):
    (slow,) = register(registry, FakeClient("alice", stalled=True))
    for _ in range(10):
        for _ in range(MAX_PENDING):
            deliver(registry, "user.alice.x", "x")
        for future in slow.futures:
            if not future.done():
                future.set_result(None)
        assert registry.pending(slow) == 0
    assert slow in registry and slow.close_code is None


def test_a_closed_socket_is_unregistered_on_write(registry):
    gone, fine = register(
        registry, FakeClient("alice", closed=True), FakeClient("alice")
    )
    assert deliver(registry, "user.alice.x", "x") == 1
    assert gone not in registry
    assert len(fine.received) == 1


def test_a_write_that_fails_later_unregisters(registry):
    (client,) = register(registry, FakeClient("alice", stalled=True))
    deliver(registry, "user.alice.x", "x")
    client.futures[0].set_exception(StreamClosedError())
    # The socket's on_close forgets it too; the registry does not write after it.
    assert deliver(registry, "user.alice.x", "x") == 0
    assert client not in registry and len(client.received) == 1
    assert registry.of_user("alice") == [] and registry.of_role("USER") == []


def test_a_message_is_framed_once_for_every_socket(registry):
    clients = register(registry, *(FakeClient(f"u{n}") for n in range(3)))
    deliver(registry, "role.USER.x", "x", n=1)
    frames = [client.frames[0] for client in clients]
    assert all(frame is frames[0] for frame in frames)


def test_writes_flushed_late_stop_counting_as_pending(registry):
    (client,) = register(registry, FakeClient("alice", stalled=True))
    for _ in range(3):
        deliver(registry, "user.alice.x", "x")
    assert registry.pending(client) == 3
    # Writes flush in order: the first two are out, the last one is not.
    client.futures[0].set_result(None)
    client.futures[1].set_result(None)
    assert registry.pending(client) == 1
    client.stalled = False
    deliver(registry, "user.alice.x", "x")
    assert registry.pending(client) == 0


def test_a_failing_client_does_not_stop_the_loop(registry):
    class Broken(FakeClient):
        def write_frames(self, frame):
            raise RuntimeError("boom")

    broken, fine = register(registry, Broken("alice"), FakeClient("alice"))
    assert deliver(registry, "user.alice.x", "x") == 1
    assert broken not in registry and broken.close_code == 1011
    assert len(fine.received) == 1


def test_remove_is_idempotent_and_cleans_the_indexes(registry):
    (client,) = register(registry, FakeClient("alice", "ADMIN"))
    assert registry.remove(client) is True
    assert registry.remove(client) is False
    assert len(registry) == 0
    assert registry.of_user("alice") == [] and registry.of_role("ADMIN") == []


def test_close_all_closes_every_socket_going_away(registry):
    clients = register(registry, FakeClient("a"), FakeClient("b", "ADMIN"))
    assert set(registry.close_all(GOING_AWAY_CODE, "server stopping")) == set(clients)
    assert [c.close_code for c in clients] == [GOING_AWAY_CODE] * 2
    assert len(registry) == 0


def test_delivery_parses_the_key_and_sends_the_body_as_it_is(registry):
    (alice,) = register(registry, FakeClient("alice"))
    body = json.dumps({"type": "chat.message", "data": {}, "ts": "t"}).encode()
    later = []
    delivery(Outbox(registry, later.append))("user.alice.chat.message", body)
    assert alice.received == []
    for flush in later:
        flush()
    assert alice.received == [body.decode()]


def test_a_run_of_messages_is_one_write_per_socket_and_counts_each_message(registry):
    stalled, fine = register(
        registry, FakeClient("alice", stalled=True), FakeClient("bob")
    )
    texts = [message("x", n=n)[0] for n in range(3)]
    assert registry.deliver_run(destination("role.USER.x"), texts) == 2
    assert fine.received == texts and len(fine.frames) == 1
    # MAX_PENDING counts messages, not writes.
    assert registry.pending(stalled) == 3
    registry.deliver_run(destination("role.USER.x"), texts[:1])
    assert registry.pending(stalled) == MAX_PENDING
    assert registry.deliver_run(destination("role.USER.x"), texts[:1]) == 1
    assert stalled.close_code == TOO_SLOW_CODE


def test_deliveries_and_slow_clients_dropped_are_counted(registry):
    def count(name):
        return REGISTRY.get_sample_value(name) or 0

    before = (
        count("ems_ws_deliveries_total"),
        count("ems_ws_slow_clients_dropped_total"),
    )
    register(registry, FakeClient("alice", stalled=True), FakeClient("alice"))
    for number in range(MAX_PENDING + 1):
        deliver(registry, "user.alice.x", "x", n=number)
    # Every write but the one that found the stalled client full.
    assert count("ems_ws_deliveries_total") - before[0] == 2 * MAX_PENDING + 1
    assert count("ems_ws_slow_clients_dropped_total") - before[1] == 1
