"""The correlation id of a request, and the log lines that carry it.

A request gets its id at the edge (``X-Request-Id`` if the client sent a sane one,
else a fresh uuid4 hex): the gateway and auth for HTTP, ws_gateway for a command a
socket sends. Nameko carries it from there in each worker's context data under
``correlation_id``, which travels in every RPC request, event and push the worker
publishes as the AMQP header ``nameko.correlation_id``. ``current()`` is the id of
what the process is doing now: a Nameko worker's (``services.common.container``),
a request's (``services.common.http``), a socket command's; each greenthread and
asyncio task has its own. ``CorrelationFilter`` puts it on every log record,
``JsonFormatter`` writes a record as one JSON object per line
(``EMS_LOG_FORMAT=json``).
"""

import contextvars
import json
import logging
import re
import uuid
from collections import deque
from datetime import UTC, datetime

#: The HTTP header that carries a request's id, in and out.
HEADER = "X-Request-Id"
#: The key of Nameko's context data, and so of the AMQP header ``nameko.<key>``.
CONTEXT_KEY = "correlation_id"
#: The AMQP header a published message carries it in.
AMQP_HEADER = f"nameko.{CONTEXT_KEY}"
#: A client's id is kept if it is 1 to 128 of these characters: enough for a
#: uuid, a trace id or a tool's own scheme, and nothing that could forge a log line.
SANE = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
#: What a log line shows when there is no id.
NONE = "-"

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    CONTEXT_KEY, default=None
)


def sane(value) -> str | None:
    """``value`` if it may be used as an id as it is, else None."""
    if isinstance(value, str) and SANE.fullmatch(value):
        return value
    return None


def new_id() -> str:
    return uuid.uuid4().hex


def request_id(value) -> str:
    """The id of a request whose client sent ``value`` (the header, or None)."""
    return sane(value) or new_id()


def current() -> str | None:
    """The id of the request this greenthread or task is working for, if any."""
    return _current.get()


def begin(value: str | None) -> contextvars.Token:
    """Work for ``value`` from now on (in this greenthread or task); ``end`` it with
    the token returned."""
    return _current.set(value)


def end(token: contextvars.Token) -> None:
    _current.reset(token)


def access_level(status: int) -> int:
    """The level of an access log line: errors of the server as errors, the
    client's as warnings, the rest as information."""
    if status < 400:
        return logging.INFO
    return logging.WARNING if status < 500 else logging.ERROR


#: An access line of a probe that succeeded, as eventlet's server (the Nameko
#: services) and Tornado's (ws_gateway, web) write it.
PROBE_ANSWERED = re.compile(
    r'^200 GET /(?:livez|readyz)\b|"GET /(?:livez|readyz) HTTP/[0-9.]+" 200 '
)


class QuietProbes(logging.Filter):
    """Leaves out the access lines of probes answered 200: Traefik and the
    container runtime ask every few seconds, and a failing probe is still logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not PROBE_ANSWERED.search(record.getMessage())


class BriefExpectedErrors(logging.Filter):
    """An error a service expects (a 404, a 400, a wrong password: an
    ``EmsError``) is logged by Nameko with its traceback; this keeps its one line
    and drops the traceback, which says nothing about a request that was simply
    refused. Unexpected errors keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "nameko.containers" and str(record.msg).startswith(
            "(expected)"
        ):
            record.exc_info, record.exc_text = None, None
        return True


class CorrelationFilter(logging.Filter):
    """Gives every record ``correlation_id`` (``-`` if none) and ``process_name``
    (the process's name, as the logging settings give it)."""

    def __init__(self, process: str = ""):
        super().__init__()
        self.process = process

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = current() or NONE
        record.process_name = self.process
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (ISO 8601, UTC), ``level``, ``logger``,
    ``message`` (with the traceback, if any), ``process``, ``correlation_id``
    (null if none)."""

    def fields(self, record: logging.LogRecord) -> dict:
        message = record.getMessage()
        if record.exc_info:
            message = f"{message}\n{self.formatException(record.exc_info)}"
        elif record.exc_text:
            message = f"{message}\n{record.exc_text}"
        correlation_id = getattr(record, "correlation_id", NONE)
        return {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
            "process": getattr(record, "process_name", ""),
            "correlation_id": None if correlation_id == NONE else correlation_id,
        }

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(self.fields(record))


#: How many of its latest errors a process keeps for ``/errors``.
RECENT_ERRORS_KEPT = 50
#: The longest message kept of one (its traceback's end is what says most).
RECENT_ERROR_CHARS = 4000


class RecentErrors(logging.Handler):
    """Keeps the process's latest records of level ERROR and above (the logging
    settings give it that level), as ``JsonFormatter``'s objects, in ``RECENT``:
    the metrics server answers them at ``/errors`` for the operations page, and
    counts them in ``ems_errors_logged_total``."""

    #: The process's, newest last; a deque appends and drops under the GIL alone.
    RECENT: deque = deque(maxlen=RECENT_ERRORS_KEPT)

    def __init__(self, level: int = logging.ERROR):
        super().__init__(level)
        self.formatter = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        # Imported here: the tracing of a process that serves no metrics (the
        # simulator) does not need prometheus_client.
        from services.common.metrics import ERRORS_LOGGED

        try:
            fields = self.formatter.fields(record)
        except Exception:
            self.handleError(record)
            return
        message = fields["message"]
        if len(message) > RECENT_ERROR_CHARS:
            half = RECENT_ERROR_CHARS // 2
            fields["message"] = f"{message[:half]}\n…\n{message[-half:]}"
        self.RECENT.append(fields)
        ERRORS_LOGGED.labels(logger=record.name).inc()

    @classmethod
    def latest(cls) -> list[dict]:
        """The kept records, newest first."""
        return list(reversed(cls.RECENT))
