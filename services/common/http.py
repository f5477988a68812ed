"""JSON over HTTP for Nameko services, and the one mapping from errors to responses.

Every error leaves as ``{"error": CODE, "message": ..., "details": {...},
"request_id": ...}`` with the status of its type (see ``services.common.errors``);
unknown routes and methods too. Anything unexpected is logged and answered 500
without internals. Request bodies over ``MAX_BODY_BYTES`` are refused with 413
before anything reads them.

Every request has an id (``services/common/tracing.py``): the client's
``X-Request-Id`` if it is sane, else a new one. The worker that serves it carries
it on (``correlation_id``), and every response answers it as ``X-Request-Id``.
``GET /livez`` and ``GET /readyz`` answer on the same port for Traefik's health
checks (never routed to from outside).
"""

import json
import logging
import threading
import time

import eventlet
from kombu import Connection, Exchange
from marshmallow import ValidationError
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.exceptions import BadRequest, RemoteError, RpcTimeout, UnknownService
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from services.common import tracing
from services.common.db import Database
from services.common.errors import EmsError, PayloadTooLarge
from services.common.metrics import HTTP_DURATION

log = logging.getLogger(__name__)

JSON_TYPE = "application/json"

#: The largest request body a service reads, unless ``MAX_BODY_BYTES`` says otherwise.
DEFAULT_MAX_BODY_BYTES = 1 << 20
#: Where Traefik's ``errors`` middleware fetches the body of a 413 it answers itself
#: (``traefik/dynamic.yml``), so that one is the contract's body too. Not routed
#: publicly: Traefik sends only ``/api`` to the gateway.
ERROR_PAGE = "/internal/errors/{status}"
#: Alive: the process answers. Ready: it can serve (``Readiness``). Traefik's
#: health checks ask ``/readyz`` (``traefik/dynamic.yml``); it routes neither.
LIVEZ = "/livez"
READYZ = "/readyz"
#: Seconds a readiness check may take (Traefik waits 2 s for the answer).
READY_TIMEOUT = 1.5
#: A check that only ran out of time, this soon after one that passed, does not
#: make the process unready: a busy process is slow, not down, and Traefik would
#: otherwise take away the only server there is.
READY_GRACE = 30.0

#: HTTP errors raised by routing or request parsing, by status.
HTTP_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}

#: The ``route`` of a request no route matched (404, 405) or refused before routing.
UNMATCHED_ROUTE = "unmatched"

#: The ``method`` label of a request's method, where it is one of these; else OTHER.
HTTP_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))

#: Error details that are whole numbers: seconds to wait, a quota's limit.
INTEGER_DETAILS = ("retry_after", "limit")


def json_response(status: int, payload, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(payload), status=status, headers=headers, mimetype=JSON_TYPE
    )


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    """The contract's error body, with the id of the request it answers if there
    is one (``request_id``)."""
    body = {"error": code, "message": message, "details": details or {}}
    correlation_id = tracing.current()
    if correlation_id is not None:
        body["request_id"] = correlation_id
    return body


def error_response(exc: BaseException) -> Response:
    """The contract's response for ``exc``."""
    if isinstance(exc, ValidationError):
        return json_response(
            400,
            error_body(
                "VALIDATION_ERROR", "invalid request", exc.normalized_messages()
            ),
        )
    if isinstance(exc, EmsError):
        headers = {}
        for field in INTEGER_DETAILS:
            value = exc.details.get(field)
            # RPC carries numbers inside error details as strings. A request
            # field of the same name keeps its validation messages (a list).
            if isinstance(value, str) and value.isdigit():
                exc.details[field] = int(value)
        if isinstance(exc.details.get("retry_after"), int):
            headers["Retry-After"] = str(exc.details["retry_after"])
        return json_response(
            exc.status, error_body(exc.code, exc.message, exc.details), headers
        )
    if isinstance(exc, HTTPException) and exc.code in HTTP_CODES:
        return json_response(
            exc.code, error_body(HTTP_CODES[exc.code], exc.description)
        )
    if isinstance(exc, BadRequest):
        return json_response(400, error_body("BAD_REQUEST", str(exc)))
    unavailable = (RpcTimeout, UnknownService)
    if isinstance(exc, unavailable) or (
        # A service that could not reach another one in turn.
        isinstance(exc, RemoteError)
        and exc.exc_type in {kind.__name__ for kind in unavailable}
    ):
        log.warning("service unavailable: %r", exc)
        return json_response(503, error_body("UNAVAILABLE", "a service is unavailable"))
    if isinstance(exc, RemoteError):
        log.error("remote failure: %s", exc)
    else:
        log.error("unexpected failure", exc_info=exc)
    return json_response(500, error_body("INTERNAL", "internal error"))


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the body may be at most {limit} bytes", {"max_bytes": limit}
    )


class CappedInput:
    """``wsgi.input`` that yields at most ``limit`` bytes and raises 413 past them.

    A declared ``Content-Length`` over the limit is refused before this is read; this
    catches chunked bodies, whose length is only known once they are read.
    """

    def __init__(self, stream, limit: int):
        self.stream = stream
        self.limit = limit
        self.position = 0

    def read(self, size: int | None = -1) -> bytes:
        allowed = self.limit + 1 - self.position
        if size is None or size < 0 or size > allowed:
            size = allowed
        data = self.stream.read(size)
        self.position += len(data)
        if self.position > self.limit:
            raise too_large(self.limit)
        return data


class Readiness:
    """Whether a service can serve: its databases answer (``SELECT 1``), or, for
    a service without one (the gateway), the broker does (the RPC exchange is
    there, asked on one connection kept for it)."""

    def __init__(self, container):
        self.container = container
        self.databases = [
            provider
            for provider in container.dependencies
            if isinstance(provider, Database)
        ]
        self._connection = None
        self._lock = threading.Lock()
        self._passed_at: float | None = None

    def failing(self) -> dict:
        """What cannot be reached, by name (``{"broker": "..."}``); empty if
        ready. A check that runs out of time within ``READY_GRACE`` of the last
        one that passed counts as slow, not failing; an error always fails."""
        checks = {"database": self._database} if self.databases else {}
        if not checks:
            checks["broker"] = self._broker
        failing = {}
        now = time.monotonic()
        recent = self._passed_at is not None and now - self._passed_at < READY_GRACE
        for name, check in checks.items():
            try:
                with eventlet.Timeout(READY_TIMEOUT):
                    check()
            except eventlet.Timeout as exc:
                if not recent:
                    failing[name] = f"Timeout: {exc}"[:200]
            except Exception as exc:
                failing[name] = f"{type(exc).__name__}: {exc}"[:200]
        if not failing:
            self._passed_at = now
        return failing

    def _database(self) -> None:
        for provider in self.databases:
            with provider.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")

    def _broker(self) -> None:
        config = self.container.config
        with self._lock:
            try:
                if self._connection is None:
                    self._connection = Connection(
                        config[AMQP_URI_CONFIG_KEY], connect_timeout=READY_TIMEOUT
                    )
                exchange = Exchange(config.get("rpc_exchange", "nameko-rpc"))
                exchange(self._connection.default_channel).declare(passive=True)
            except BaseException:
                connection, self._connection = self._connection, None
                if connection is not None:
                    connection.release()
                raise


class JsonWsgiApp(WsgiApp):
    """Nameko's WSGI app, with routing errors (404, 405) answered in JSON and bodies
    over the limit answered 413 before they are read; every request with its id,
    and ``/livez`` and ``/readyz`` answered here."""

    def __init__(self, server):
        super().__init__(server)
        config = server.container.config
        self.max_body_bytes = int(config.get("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES))
        self.readiness = Readiness(server.container)

    def __call__(self, environ, start_response):
        # eventlet's server ends both Content-Length and chunked bodies itself;
        # saying so lets werkzeug read chunked bodies (through the cap) instead of
        # treating them as empty.
        environ["wsgi.input_terminated"] = True
        environ["wsgi.input"] = CappedInput(environ["wsgi.input"], self.max_body_bytes)
        started = time.perf_counter()
        request = Request(environ, shallow=True)
        correlation_id = tracing.request_id(request.headers.get(tracing.HEADER))
        token = tracing.begin(correlation_id)
        try:
            response = self.respond(request, environ, started)
            response.headers[tracing.HEADER] = correlation_id
            return response(environ, start_response)
        finally:
            tracing.end(token)

    def respond(self, request, environ, started: float):
        if request.method == "GET" and request.path in (LIVEZ, READYZ):
            return self.health(request.path)
        adapter = self.url_map.bind_to_environ(environ)
        route = UNMATCHED_ROUTE
        try:
            if request.path == ERROR_PAGE.format(status=413):
                raise too_large(self.max_body_bytes)
            if (request.content_length or 0) > self.max_body_bytes:
                raise too_large(self.max_body_bytes)
            rule, values = adapter.match(return_rule=True)
            # The path template, not the path: one series per route, not per id.
            route = rule.rule
            request.path_values = values
            response = rule.endpoint.handle_request(request)
        except (HTTPException, PayloadTooLarge) as exc:
            response = error_response(exc)
        HTTP_DURATION.labels(
            route=route,
            method=request.method if request.method in HTTP_METHODS else "OTHER",
            status=str(response.status_code),
        ).observe(time.perf_counter() - started)
        return response

    def health(self, path: str):
        if path == LIVEZ:
            return json_response(200, {"status": "ok"})
        failing = self.readiness.failing()
        if failing:
            log.warning("not ready: %s", failing)
            return json_response(503, {"status": "unavailable", "failing": failing})
        return json_response(200, {"status": "ok"})


class JsonWebServer(WebServer):
    def get_wsgi_app(self):
        return JsonWsgiApp(self)

    def context_data_from_headers(self, request):
        """The worker serving a request carries its id (``JsonWsgiApp`` made it)."""
        return {tracing.CONTEXT_KEY: tracing.current()}


class JsonRequestHandler(HttpRequestHandler):
    """Nameko's ``http`` entrypoint answering errors as the contract says."""

    server = JsonWebServer()

    def response_from_exception(self, exc):
        return error_response(exc)


http = JsonRequestHandler.decorator
