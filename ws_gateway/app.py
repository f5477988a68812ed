"""The Tornado application: ``GET /ws?token=<JWT>`` becomes a socket of its user.

The handshake is refused before any upgrade when the origin is not allowed (403),
the token is not usable (401), auth cannot tell (503) or the user already has as
many sockets open in this process as one user may (429). An accepted socket joins
the registry under its user and role and is ended with ``session.ended`` when its
token expires. What its client sends is answered by ``commands.answer``: a
``command.send`` goes to devices as the socket's user, under a correlation id of
its own (``services/common/tracing.py``) that its answer carries as ``request_id``.

``GET /livez`` and ``GET /readyz`` (the ``ems.ws`` consumer is attached) answer on
the same port for Traefik's health checks, which Traefik does not route to.
"""

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable

import tornado.web
import tornado.websocket
from tornado.concurrent import Future
from tornado.ioloop import IOLoop
from tornado.iostream import StreamClosedError

from services.common import tracing
from services.common.errors import EmsError, Forbidden, RateLimited
from services.common.pushes import SESSION_ENDED
from services.common.tokens import Identity
from ws_gateway import commands
from ws_gateway.registry import Registry
from ws_gateway.sessions import SessionChecker

log = logging.getLogger(__name__)
access_log = logging.getLogger("tornado.access")

#: Browsers send control frames and commands; anything big is not one of ours.
MAX_CLIENT_MESSAGE_BYTES = 64 * 1024
#: Sockets one user may have open in one process, unless configured otherwise.
DEFAULT_MAX_SOCKETS_PER_USER = 10


class OriginNotAllowed(Forbidden):
    """This origin may not open a socket."""


class TooManySockets(RateLimited):
    """Too many open sockets for this user; close one first."""


def normalize_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def log_request(handler: tornado.web.RequestHandler) -> None:
    """The access log line of a request, with its path only.

    The query string carries the access token (a browser cannot send headers on a
    WebSocket handshake), so it never reaches a log.
    """
    status = handler.get_status()
    level = tracing.access_level(status)
    # The line shows the request's id (the handshake's), as the API's lines do.
    token = tracing.begin(getattr(handler, "correlation_id", None))
    try:
        access_log.log(
            level,
            "%d %s %s (%s) %.2fms",
            status,
            handler.request.method,
            handler.request.path,
            handler.request.remote_ip,
            1000.0 * handler.request.request_time(),
        )
    finally:
        tracing.end(token)


class SocketHandler(tornado.websocket.WebSocketHandler):
    """One browser's socket, registered under its user and role while open."""

    def initialize(
        self,
        registry: Registry,
        sessions: SessionChecker,
        allowed_origins: frozenset[str],
        max_sockets_per_user: int = DEFAULT_MAX_SOCKETS_PER_USER,
        clock: Callable[[], float] = time.time,
        devices: commands.Devices | None = None,
    ) -> None:
        self.registry = registry
        self.sessions = sessions
        self.devices = devices
        self.allowed_origins = allowed_origins
        self.max_sockets_per_user = max_sockets_per_user
        self.clock = clock
        self.identity: Identity | None = None
        #: Set once the connection is closed at both ends (or aborted).
        self.gone = asyncio.Event()
        self._expiry = None

    def set_default_headers(self) -> None:
        # The handshake's id: Traefik passes on the one auth gave it. Made once,
        # though Tornado sets the default headers again before an error page.
        if not hasattr(self, "correlation_id"):
            self.correlation_id = tracing.request_id(
                self.request.headers.get(tracing.HEADER)
            )
        self.set_header(tracing.HEADER, self.correlation_id)

    async def prepare(self) -> None:
        try:
            origin = self.request.headers.get("Origin")
            if origin is not None and not self.check_origin(origin):
                raise OriginNotAllowed()
            token = self.get_query_argument("token", None)
            self.identity = await self.sessions.check(token)
            self.check_socket_quota()
        except EmsError as error:
            self.set_status(error.status)
            self.finish(
                {
                    "error": error.code,
                    "message": error.message,
                    "details": error.details,
                    "request_id": self.correlation_id,
                }
            )

    def check_socket_quota(self) -> None:
        """Refuse a socket over the user's quota, before the upgrade.

        Refusing the newcomer, rather than closing the user's oldest socket, keeps
        a leaked or stolen token from pushing the user's own tabs off. Nothing is
        awaited between this check and ``open`` adding the socket to the registry
        (Tornado accepts the upgrade without yielding), so two handshakes of one
        user cannot both pass it. The count is this process's: with several
        ws_gateway processes, a user may have this many sockets on each.
        """
        limit = self.max_sockets_per_user
        if self.registry.count_of_user(self.identity.user_id) >= limit:
            raise TooManySockets(
                f"at most {limit} open sockets per user; close one first",
                {"limit": limit},
            )

    def check_origin(self, origin: str) -> bool:
        """Only the configured origins; not even the gateway's own host.

        Tornado would also accept an origin that matches the Host header, which a
        DNS-rebinding page can arrange; ``prepare`` has refused those already.
        """
        return normalize_origin(origin) in self.allowed_origins

    def get_compression_options(self) -> None:
        """No compression: the registry writes one frame, encoded once, to every
        socket (``frames.text_frame``); a compressed socket would need its own."""
        return None

    def write_frames(self, frames: bytes) -> Future:
        """Queue frames encoded by ``frames.text_frame``, one or more; the future
        completes once they are flushed. ``write_message`` would encode the text
        again for each socket and wrap each write in a task of its own."""
        connection = self.ws_connection
        if connection is None or connection.is_closing():
            raise tornado.websocket.WebSocketClosedError()
        try:
            return connection.stream.write(frames)
        except StreamClosedError:
            raise tornado.websocket.WebSocketClosedError() from None

    def open(self) -> None:
        self.registry.add(self)
        delay = max(0.0, self.identity.expires_at - self.clock())
        self._expiry = IOLoop.current().call_later(delay, self.expire)
        log.info("user %s (%s) connected", self.identity.user_id, self.identity.role)

    async def on_message(self, message: str | bytes) -> None:
        """A command to send, answered on this socket; anything else is ignored.
        Tornado reads the socket's next message once this returns, so a socket
        has one command under way at most."""
        if self.devices is None or self.identity is None:
            return
        correlation_id = tracing.new_id()
        token = tracing.begin(correlation_id)
        try:
            reply = await commands.answer(
                self.devices, self.identity, message, client=self.request.remote_ip
            )
            if reply is not None:
                reply["request_id"] = correlation_id
                log.info("%s from user %s", reply["type"], self.identity.user_id)
                self.registry.send([self], json.dumps(reply))
        finally:
            tracing.end(token)

    def on_close(self) -> None:
        self.gone.set()
        if self._expiry is not None:
            IOLoop.current().remove_timeout(self._expiry)
            self._expiry = None
        if self.identity is not None:
            self.registry.remove(self)
            log.info(
                "user %s disconnected (%s)", self.identity.user_id, self.close_code
            )

    def expire(self) -> None:
        """The token's ``exp`` has come: tell the client and close with 4001."""
        self._expiry = None
        message = SESSION_ENDED.message({"reason": "expired"})
        self.registry.end([self], json.dumps(message))

    def _request_summary(self) -> str:
        # Tornado's own log lines (errors, warnings) use this; it would show the
        # whole URI, token included.
        return f"{self.request.method} {self.request.path} ({self.request.remote_ip})"

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, tornado.web.HTTPError):
            super().log_exception(typ, value, tb)
        else:
            # Tornado's default also prints the request, whose repr holds the URI.
            log.error(
                "uncaught exception %s",
                self._request_summary(),
                exc_info=(typ, value, tb),
            )


class HealthHandler(tornado.web.RequestHandler):
    """``/livez``: the loop runs. ``/readyz``: ``ready()`` names nothing that
    fails (else 503 with what does)."""

    def initialize(self, ready: Callable[[], dict] | None = None) -> None:
        self.ready = ready

    def get(self) -> None:
        failing = {}
        if self.request.path == "/readyz" and self.ready is not None:
            failing = self.ready()
        if failing:
            self.set_status(503)
            self.finish({"status": "unavailable", "failing": failing})
        else:
            self.finish({"status": "ok"})


class GatewayApplication(tornado.web.Application):
    """``/ws`` and its collaborators, with the gateway's WebSocket settings."""

    def __init__(
        self,
        registry: Registry,
        sessions: SessionChecker,
        allowed_origins: Iterable[str],
        ping_interval: float,
        ping_timeout: float,
        max_sockets_per_user: int = DEFAULT_MAX_SOCKETS_PER_USER,
        clock: Callable[[], float] = time.time,
        devices: commands.Devices | None = None,
        ready: Callable[[], dict] | None = None,
    ):
        self.registry = registry
        collaborators = {
            "registry": registry,
            "sessions": sessions,
            "allowed_origins": frozenset(map(normalize_origin, allowed_origins)),
            "max_sockets_per_user": max_sockets_per_user,
            "clock": clock,
            "devices": devices,
        }
        super().__init__(
            [
                (r"/ws", SocketHandler, collaborators),
                (r"/(?:livez|readyz)", HealthHandler, {"ready": ready}),
            ],
            websocket_ping_interval=ping_interval,
            websocket_ping_timeout=ping_timeout,
            websocket_max_message_size=MAX_CLIENT_MESSAGE_BYTES,
            log_function=log_request,
        )
