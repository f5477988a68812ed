"""The open sockets of this process, by user id and by role, and the fan-out to them.

The fan-out never waits for a client: each write is handed to the socket's stream
and the loop moves on. A client that does not read makes its writes pile up
unflushed; past ``max_pending`` of them it is dropped, so one slow or dead client
costs the others nothing and the process no unbounded memory.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Protocol

from tornado.websocket import WebSocketClosedError

from services.common.metrics import WS_DELIVERIES, WS_SLOW_CLIENTS_DROPPED
from services.common.pushes import SESSION_ENDED
from services.common.tokens import Identity
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

    def write_message(self, message: str):
        """Queue ``message``; return a future that completes once it is flushed."""

    def close(self, code: int | None = None, reason: str | None = None) -> None: ...


class Registry:
    """Every open socket of the process, with its count of unflushed writes."""

    def __init__(self, max_pending: int):
        self.max_pending = max_pending
        self._by_user: dict[str, set[Client]] = defaultdict(set)
        self._by_role: dict[str, set[Client]] = defaultdict(set)
        self._pending: dict[Client, int] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, client: Client) -> bool:
        return client in self._pending

    def pending(self, client: Client) -> int:
        """Writes to ``client`` not flushed yet."""
        return self._pending.get(client, 0)

    def add(self, client: Client) -> None:
        identity = client.identity
        self._by_user[identity.user_id].add(client)
        self._by_role[identity.role].add(client)
        self._pending[client] = 0

    def remove(self, client: Client) -> bool:
        """Forget ``client``; False if it was not here (removal is idempotent)."""
        if self._pending.pop(client, None) is None:
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
        return list(self._pending)

    def of_user(self, user_id: str) -> list[Client]:
        return list(self._by_user.get(user_id, ()))

    def of_role(self, role: str) -> list[Client]:
        return list(self._by_role.get(role, ()))

    def deliver(self, destination: Destination, text: str, message: dict) -> int:
        """Send a message of ``ems.ws`` to the sockets it is for; how many took it.

        ``session.ended`` also closes the sessions it reaches: only the one of the
        token it names (``data.jti``, a logout), else all of them.
        """
        if destination.audience == ROLE:
            clients = self.of_role(destination.name)
        else:
            clients = self.of_user(destination.name)
        if destination.message_type != SESSION_ENDED.name:
            return self.send(clients, text)
        jti = session_jti(message)
        if jti is not None:
            clients = [client for client in clients if client.identity.jti == jti]
        return self.end(clients, text)

    def send(self, clients: Iterable[Client], text: str) -> int:
        """Write ``text`` to each client, waiting for none; how many took it."""
        return sum(self._write(client, text) for client in list(clients))

    def end(self, clients: Iterable[Client], text: str) -> int:
        """Send the ``session.ended`` message ``text`` and close with 4001."""
        ended = 0
        for client in list(clients):
            ended += self._write(client, text)
            # Forgotten as it closes, so that nothing more is sent after it.
            self.drop(client, SESSION_ENDED_CODE, "session ended")
        return ended

    def close_all(self, code: int, reason: str) -> list[Client]:
        """Close every socket (the server stops); the sockets closed."""
        clients = list(self._pending)
        for client in clients:
            self.drop(client, code, reason)
        return clients

    def drop(self, client: Client, code: int, reason: str) -> None:
        """Forget ``client`` and close it."""
        self.remove(client)
        client.close(code, reason)

    def _write(self, client: Client, text: str) -> bool:
        pending = self._pending.get(client)
        if pending is None:
            return False
        if pending >= self.max_pending:
            # Its close frame queues behind what it never read; Tornado aborts the
            # connection if the client does not answer it in a few seconds.
            log.warning(
                "dropping user %s: %d messages unflushed",
                client.identity.user_id,
                pending,
            )
            self.drop(client, TOO_SLOW_CODE, "too slow")
            WS_SLOW_CLIENTS_DROPPED.inc()
            return False
        try:
            written = client.write_message(text)
        except WebSocketClosedError:
            self.remove(client)
            return False
        except Exception:
            log.exception("write to user %s failed", client.identity.user_id)
            self.drop(client, INTERNAL_ERROR_CODE, "internal error")
            return False
        self._pending[client] = pending + 1
        WS_DELIVERIES.inc()
        written.add_done_callback(lambda future: self._flushed(client, future))
        return True

    def _flushed(self, client: Client, future) -> None:
        failed = future.cancelled() or future.exception() is not None
        if client not in self._pending:
            return
        self._pending[client] -= 1
        if failed:
            # The stream closed under the write; on_close will come too.
            self.remove(client)
