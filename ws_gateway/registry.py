"""The open sockets of this process, by user id and by role, and the fan-out to them.

A message is framed once (``frames.text_frame``) and the same bytes are handed to
each socket's stream; the fan-out never waits for a client. A client that does not
read makes its writes pile up unflushed; past ``max_pending`` of them it is dropped,
so one slow or dead client costs the others nothing and the process no unbounded
memory.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Protocol

from tornado.concurrent import Future
from tornado.websocket import WebSocketClosedError

from services.common.metrics import WS_DELIVERIES, WS_SLOW_CLIENTS_DROPPED
from services.common.pushes import SESSION_ENDED
from services.common.tokens import Identity
from ws_gateway.frames import text_frame
from ws_gateway.routing import ROLE, Destination, session_jti

log = logging.getLogger(__name__)

#: Close codes: the session is over (the client logs out), the client was too slow
#: to keep up (it may reconnect), the server is going away, the server failed.
SESSION_ENDED_CODE = 4001
TOO_SLOW_CODE = 1013
GOING_AWAY_CODE = 1001
INTERNAL_ERROR_CODE = 1011


class Client(Protocol):
    """What the registry needs of a socket (``app.SocketHandler`` is one)."""

    identity: Identity

    def write_frames(self, frames: bytes) -> Future:
        """Queue ``frames``, one or more encoded frames; return a future that
        completes once they are flushed, or raise ``WebSocketClosedError``."""

    def close(self, code: int | None = None, reason: str | None = None) -> None: ...


class Registry:
    """Every open socket of the process, with its writes not flushed yet."""

    def __init__(self, max_pending: int):
        self.max_pending = max_pending
        self._by_user: dict[str, set[Client]] = defaultdict(set)
        self._by_role: dict[str, set[Client]] = defaultdict(set)
        #: Each socket's unflushed writes, oldest first; empty while it keeps up (a
        #: list: an empty one is 56 bytes, an empty deque more than 600).
        self._unflushed: dict[Client, list[Future]] = {}

    def __len__(self) -> int:
        return len(self._unflushed)

    def __contains__(self, client: Client) -> bool:
        return client in self._unflushed

    def pending(self, client: Client) -> int:
        """Writes to ``client`` not flushed yet."""
        unflushed = self._unflushed.get(client)
        if not unflushed:
            return 0
        self._forget_flushed(client, unflushed)
        return len(unflushed)

    def add(self, client: Client) -> None:
        identity = client.identity
        self._by_user[identity.user_id].add(client)
        self._by_role[identity.role].add(client)
        self._unflushed[client] = []

    def remove(self, client: Client) -> bool:
        """Forget ``client``; False if it was not here (removal is idempotent)."""
        if self._unflushed.pop(client, None) is None:
            return False
        identity = client.identity
        for index, key in (
            (self._by_user, identity.user_id),
            (self._by_role, identity.role),
        ):
            index[key].discard(client)
            if not index[key]:
                del index[key]
        return True

    def count_of_user(self, user_id: str) -> int:
        """How many sockets ``user_id`` has open here."""
        return len(self._by_user.get(user_id, ()))

    def clients(self) -> list[Client]:
        """Every open socket, in the order they joined."""
        return list(self._unflushed)

    def of_user(self, user_id: str) -> list[Client]:
        return list(self._by_user.get(user_id, ()))

    def of_role(self, role: str) -> list[Client]:
        return list(self._by_role.get(role, ()))

    def deliver(self, destination: Destination, text: str, message: dict) -> int:
        """Send a message of ``ems.ws`` to the sockets it is for; how many took it.

        ``session.ended`` also closes the sessions it reaches: only the one of the
        token it names (``data.jti``, a logout), else all of them.
        """
        clients = self.audience(destination)
        if destination.message_type != SESSION_ENDED.name:
            return self.send(clients, text)
        jti = session_jti(message)
        if jti is not None:
            clients = [client for client in clients if client.identity.jti == jti]
        return self.end(clients, text)

    def deliver_run(self, destination: Destination, texts: list[str]) -> int:
        """Messages of ``ems.ws`` for one destination, none a ``session.ended``, in
        one write to each socket; how many sockets took them."""
        frames = b"".join([text_frame(text) for text in texts])
        return self._send(self.audience(destination), frames, len(texts))

    def audience(self, destination: Destination) -> list[Client]:
        """The sockets a destination names."""
        if destination.audience == ROLE:
            return self.of_role(destination.name)
        return self.of_user(destination.name)

    def send(self, clients: Iterable[Client], text: str) -> int:
        """Write ``text`` to each client, waiting for none; how many took it."""
        return self._send(clients, text_frame(text), 1)

    def _send(self, clients: Iterable[Client], frames: bytes, count: int) -> int:
        write = self._write
        sent = 0
        for client in list(clients):
            if write(client, frames, count):
                sent += 1
        if sent:
            WS_DELIVERIES.inc(sent * count)
        return sent

    def end(self, clients: Iterable[Client], text: str) -> int:
        """Send the ``session.ended`` message ``text`` and close with 4001."""
        frame = text_frame(text)
        ended = 0
        for client in list(clients):
            ended += self._write(client, frame)
            # Forgotten as it closes, so that nothing more is sent after it.
            self.drop(client, SESSION_ENDED_CODE, "session ended")
        if ended:
            WS_DELIVERIES.inc(ended)
        return ended

    def close_all(self, code: int, reason: str) -> list[Client]:
        """Close every socket (the server stops); the sockets closed."""
        clients = list(self._unflushed)
        for client in clients:
            self.drop(client, code, reason)
        return clients

    def drop(self, client: Client, code: int, reason: str) -> None:
        """Forget ``client`` and close it."""
        self.remove(client)
        client.close(code, reason)

    def _write(self, client: Client, frames: bytes, count: int = 1) -> bool:
        # The path of every delivery: no callback, task or counter per write. A
        # write the stream flushed at once (the usual case) leaves nothing behind.
        unflushed = self._unflushed.get(client)
        if unflushed is None:
            return False
        if unflushed:
            if not self._forget_flushed(client, unflushed):
                return False
            if len(unflushed) >= self.max_pending:
                # Its close frame queues behind what it never read; Tornado aborts
                # the connection if the client does not answer it in a few seconds.
                log.warning(
                    "dropping user %s: %d messages unflushed",
                    client.identity.user_id,
                    len(unflushed),
                )
                self.drop(client, TOO_SLOW_CODE, "too slow")
                WS_SLOW_CLIENTS_DROPPED.inc()
                return False
        try:
            written = client.write_frames(frames)
        except WebSocketClosedError:
            self.remove(client)
            return False
        except Exception:
            log.exception("write to user %s failed", client.identity.user_id)
            self.drop(client, INTERNAL_ERROR_CODE, "internal error")
            return False
        if written.done():
            # A stream flushes its writes in order: this one done, all are.
            unflushed.clear()
        else:
            # Once per message it holds: MAX_PENDING counts messages.
            unflushed.extend([written] * count)
        return True

    def _forget_flushed(self, client: Client, unflushed: list[Future]) -> bool:
        """Drop the writes flushed since the last look, oldest first; False (and
        ``client`` forgotten) if one failed: the stream closed under it, and
        ``on_close`` comes too."""
        flushed = 0
        for future in unflushed:
            if not future.done():
                break
            if future.cancelled() or future.exception() is not None:
                self.remove(client)
                return False
            flushed += 1
        del unflushed[:flushed]
        return True
