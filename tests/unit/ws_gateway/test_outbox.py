"""The outbox: messages that arrive together go out together, in order, and a
session's end goes out at once."""

import json
from concurrent.futures import Future

from services.common.tokens import Identity
from ws_gateway.outbox import Outbox
from ws_gateway.registry import SESSION_ENDED_CODE, Registry
from ws_gateway.routing import destination


class Socket:
    """Takes every write at once; keeps the texts of the frames of each write."""

    def __init__(self, user_id, role="USER", jti=None):
        self.identity = Identity(user_id, role, jti or f"jti-{user_id}", 2**31, 0)
        self.writes: list[list[str]] = []
        self.close_code = None

    def write_frames(self, frames: bytes) -> Future:
        texts = []
        while frames:
            # Short test messages only: a 7-bit length.
            assert frames[0] == 0x81 and frames[1] < 126
            texts.append(frames[2 : 2 + frames[1]].decode())
            frames = frames[2 + frames[1] :]
        self.writes.append(texts)
        future = Future()
        future.set_result(None)
        return future

    def close(self, code=None, reason=None):
        self.close_code = code

    def types(self) -> list[str]:
        return [json.loads(text)["type"] for write in self.writes for text in write]


class Loop:
    """Stands in for ``IOLoop.add_callback``: runs what was scheduled on ``turn``."""

    def __init__(self):
        self.scheduled = []

    def __call__(self, callback):
        self.scheduled.append(callback)

    def turn(self):
        scheduled, self.scheduled = self.scheduled, []
        for callback in scheduled:
            callback()


def add(outbox, routing_key, message_type, **data):
    body = {"type": message_type, "data": data, "ts": "2026-12-02T16:00:00Z"}
    outbox.add(destination(routing_key), json.dumps(body), body)


def outbox_for(*sockets):
    registry, loop = Registry(max_pending=8), Loop()
    for socket in sockets:
        registry.add(socket)
    return registry, loop, Outbox(registry, loop)


def test_messages_that_arrive_together_go_out_in_one_write_once_the_loop_turns():
    alice, bob = Socket("alice"), Socket("bob")
    _, loop, outbox = outbox_for(alice, bob)
    for number in range(3):
        add(outbox, "role.USER.x", "x", n=number)
    assert alice.writes == [] and len(loop.scheduled) == 1
    loop.turn()
    for socket in (alice, bob):
        assert len(socket.writes) == 1
        assert [json.loads(t)["data"]["n"] for t in socket.writes[0]] == [0, 1, 2]
    loop.turn()
    assert len(alice.writes) == 1


def test_a_message_for_another_audience_ends_the_run_and_order_is_kept():
    alice, admin = Socket("alice"), Socket("root", "ADMIN")
    _, loop, outbox = outbox_for(alice, admin)
    add(outbox, "role.USER.x", "first")
    add(outbox, "user.alice.x", "second")
    add(outbox, "role.USER.x", "third")
    add(outbox, "role.ADMIN.x", "fourth")
    loop.turn()
    assert alice.types() == ["first", "second", "third"]
    assert len(alice.writes) == 3
    assert admin.types() == ["fourth"]


def test_a_session_end_goes_out_at_once_after_what_came_before_it():
    tab, phone = Socket("alice", jti="a1"), Socket("alice", jti="a2")
    registry, loop, outbox = outbox_for(tab, phone)
    add(outbox, "user.alice.x", "x")
    add(outbox, "user.alice.session.ended", "session.ended", reason="logout", jti="a2")
    assert phone.types() == ["x", "session.ended"]
    assert phone.close_code == SESSION_ENDED_CODE and phone not in registry
    assert tab.types() == ["x"] and tab in registry
    add(outbox, "user.alice.x", "y")
    loop.turn()
    assert tab.types() == ["x", "y"] and phone.types() == ["x", "session.ended"]
