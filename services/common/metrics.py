"""Every process's Prometheus metrics and its probes: the metrics of the platform
(each counted where it happens), and the small HTTP server that answers
``/metrics``, ``/livez``, ``/readyz`` and ``/errors`` beside the process's own work.

The server listens on ``METRICS.host``:``METRICS.port`` (0: a free port) and the
process writes a Prometheus file_sd target file, ``<targets_dir>/<process>.json``,
so that Prometheus finds it whatever port it got. ``/readyz`` answers 503 with the
checks that fail (``{"status": "unavailable", "failing": {"database": "..."}}``);
``/livez`` 503 only when the process's loop has stopped turning. Nameko services
get all of it from ``ServiceMetrics`` (``with_metrics``, which ``ems run`` applies);
the balancer, ws_gateway and web call ``serve_in_thread``.
"""

import atexit
import contextlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    make_wsgi_app,
)

from services.common.tracing import RecentErrors

log = logging.getLogger(__name__)


def version() -> str:
    """The platform's version, as installed (``unknown`` when run from a tree that
    is not)."""
    try:
        return metadata.version("ems")
    except metadata.PackageNotFoundError:
        return "unknown"


#: The process's metrics: the platform's and the process's own
#: (``ems_process_start_time_seconds``, memory, CPU; Python's GC and version).
REGISTRY = CollectorRegistry()
ProcessCollector(namespace="ems", registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

#: Seconds, from a fast RPC to a slow HTTP request.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
#: Seconds from a reading's timestamp to its commit: its history may be days old.
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400)
#: Seconds from the balancer's receipt to the commit.
PUBLISH_LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)

# -- the platform's metrics --------------------------------------------------------

READINGS_RECEIVED = Counter(
    "ems_readings_received_total",
    "Readings the balancer took from balancer.raw, by how they came (amqp, mqtt)",
    ["path"],
    registry=REGISTRY,
)
READINGS_COMMITTED = Counter(
    "ems_readings_committed_total",
    "Readings an ingest worker stored for the first time, by how they came",
    ["path"],
    registry=REGISTRY,
)
READINGS_REJECTED = Counter(
    "ems_readings_rejected_total",
    "Readings an ingest worker dead-lettered, by why",
    ["reason"],
    registry=REGISTRY,
)
INGEST_LAG = Histogram(
    "ems_ingest_lag_seconds",
    "From a reading's timestamp to the commit that stored it",
    buckets=LAG_BUCKETS,
    registry=REGISTRY,
)
INGEST_PUBLISH_LAG = Histogram(
    "ems_ingest_publish_lag_seconds",
    "From the balancer's receipt of a reading (x-ems-received-at) to its commit",
    buckets=PUBLISH_LAG_BUCKETS,
    registry=REGISTRY,
)
INGEST_BATCH_SIZE = Histogram(
    "ems_ingest_batch_size",
    "Messages an ingest worker handled together",
    buckets=BATCH_BUCKETS,
    registry=REGISTRY,
)
DEAD_LETTERS = Counter(
    "ems_dead_letters_total",
    "Dead letters monitoring stored, by why and which service rejected them",
    ["reason", "service"],
    registry=REGISTRY,
)
RPC_DURATION = Histogram(
    "ems_rpc_duration_seconds",
    "How long a Nameko entrypoint's worker took, by its outcome "
    "(ok, expected: an EmsError, error)",
    ["service", "method", "outcome"],
    buckets=DURATION_BUCKETS,
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "ems_http_request_duration_seconds",
    "How long an HTTP request took, by its route's path template and status",
    ["route", "method", "status"],
    buckets=DURATION_BUCKETS,
    registry=REGISTRY,
)
WS_SOCKETS_OPEN = Gauge(
    "ems_ws_sockets_open", "WebSockets open in this process", registry=REGISTRY
)
WS_DELIVERIES = Counter(
    "ems_ws_deliveries_total",
    "Messages handed to a WebSocket",
    registry=REGISTRY,
)
WS_SLOW_CLIENTS_DROPPED = Counter(
    "ems_ws_slow_clients_dropped_total",
    "WebSockets closed because their client did not read its messages",
    registry=REGISTRY,
)
COMMANDS = Counter(
    "ems_commands_total",
    "Device commands reaching each status (pending, delivered, acked, ...)",
    ["status"],
    registry=REGISTRY,
)
ALARMS_RAISED = Counter(
    "ems_alarms_raised_total",
    "Alarms raised, by type and severity",
    ["type", "severity"],
    registry=REGISTRY,
)
ALARMS_ENDED = Counter(
    "ems_alarms_ended_total",
    "Alarms ended (their condition over, or cleared by hand), by type",
    ["type"],
    registry=REGISTRY,
)
ERRORS_LOGGED = Counter(
    "ems_errors_logged_total",
    "Log records of level ERROR and above, by logger",
    ["logger"],
    registry=REGISTRY,
)
BUILD = Info("ems_build", "The platform's version this process runs", registry=REGISTRY)
BUILD.info({"version": version()})
ALARMS_ACTIVE = Gauge(
    "ems_alarms_active",
    "Alarms active, by severity, as of the last round",
    ["severity"],
    registry=REGISTRY,
)

#: The longest reason label: reasons are sentences, never values.
MAX_REASON_LABEL = 80
_QUOTED = re.compile(r"""'[^']*'|"[^"]*\"""")
_NUMBER = re.compile(r"[-+]?\d[\w.:+-]*")


def reason_label(reason: str) -> str:
    """A rejection's reason as a label: the quoted values and numbers a reason may
    carry (``kwh 1e30 is absurd ... (over 100)``) become ``…`` and ``N``, and what
    follows a colon (an exception's text) is left out, so the reasons stay few."""
    text = _QUOTED.sub("…", str(reason)).split(":", 1)[0]
    return _NUMBER.sub("N", text).strip()[:MAX_REASON_LABEL] or "unknown"


# -- probes ------------------------------------------------------------------------

#: A check answers None when all is well, else what is wrong; raising counts as
#: the latter, with the exception as the reason.
Check = Callable[[], str | None]


class Probes:
    """What ``/livez`` and ``/readyz`` ask: named checks, each run on every call."""

    def __init__(self):
        self.liveness: dict[str, Check] = {}
        self.readiness: dict[str, Check] = {}

    def live(self, name: str, check: Check) -> None:
        self.liveness[name] = check

    def ready(self, name: str, check: Check) -> None:
        self.readiness[name] = check

    @staticmethod
    def failing(checks: dict[str, Check]) -> dict[str, str]:
        """``{name: what is wrong}`` of the checks that fail."""
        failures = {}
        for name, check in checks.items():
            try:
                problem = check()
            except Exception as exc:
                problem = f"{type(exc).__name__}: {exc}"[:500]
            if problem:
                failures[name] = problem
        return failures


class Heartbeat:
    """Liveness of a loop that is not the metrics server's: the loop calls
    ``beat()`` every ``interval`` seconds; silent for ``max_silence``, it is not
    alive."""

    def __init__(self, interval: float = 1.0, max_silence: float = 15.0):
        self.interval = interval
        self.max_silence = max_silence
        self.last = time.monotonic()

    def beat(self) -> None:
        self.last = time.monotonic()

    def check(self) -> str | None:
        silent = time.monotonic() - self.last
        if silent > self.max_silence:
            return f"the loop has not turned for {silent:.0f} s"
        return None


def probe_app(probes: Probes, registry: CollectorRegistry = REGISTRY):
    """The WSGI app of ``/metrics``, ``/livez``, ``/readyz`` and ``/errors`` (the
    process's latest error records, newest first: ``RecentErrors``)."""
    metrics = make_wsgi_app(registry)
    checks = {"/livez": probes.liveness, "/readyz": probes.readiness}

    def answer(start_response, status: str, document) -> list[bytes]:
        body = json.dumps(document).encode()
        start_response(
            status,
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return metrics(environ, start_response)
        if path == "/errors":
            return answer(start_response, "200 OK", RecentErrors.latest())
        if path not in checks:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found: /metrics, /livez, /readyz or /errors\n"]
        failing = Probes.failing(checks[path])
        return answer(
            start_response,
            "503 Service Unavailable" if failing else "200 OK",
            {"status": "unavailable" if failing else "ok", "failing": failing},
        )

    return app


# -- the target file ---------------------------------------------------------------


def target_address(host: str, port: int) -> str:
    """Where Prometheus on this machine reaches a server bound to ``host``."""
    return f"{'127.0.0.1' if host in ('', '0.0.0.0', '::') else host}:{port}"


def write_target(settings: dict, port: int, root: Path | None = None) -> Path:
    """Write ``<targets_dir>/<process>.json`` (a relative dir is taken from
    ``root``), atomically: a temporary file, then renamed over the old one, so
    Prometheus never reads half of it."""
    directory = Path(settings["targets_dir"])
    if not directory.is_absolute() and root is not None:
        directory = root / directory
    directory.mkdir(parents=True, exist_ok=True)
    process = settings["process"]
    path = directory / f"{process}.json"
    # Not *.json: Prometheus reads only the finished file.
    temporary = directory / f".{process}.{os.getpid()}.tmp"
    text = (
        json.dumps(
            [
                {
                    "targets": [target_address(settings["host"], port)],
                    "labels": {"process": process, "program": settings["program"]},
                }
            ]
        )
        + "\n"
    )
    temporary.write_text(text)
    os.replace(temporary, path)
    # A process that ends cleanly (scaled down, stopped) takes its target away, so
    # Prometheus stops asking for it; one that dies keeps it, and is seen down.
    atexit.register(remove_target, path, text)
    return path


def remove_target(path: Path, text: str) -> None:
    """Remove the target file ``path`` if it still says ``text``: a process of the
    same name started since has written its own."""
    with contextlib.suppress(OSError):
        if path.read_text() == text:
            path.unlink()


# -- the server, for processes that are not Nameko services --------------------------


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        """Scrapes and probes every few seconds are no news."""


def serve_in_thread(settings: dict, probes: Probes, root: Path | None = None):
    """Serve the probes from threads of their own (the process's loop goes on
    undisturbed) and write the target file; the server (``shutdown()`` ends it)."""
    server = make_server(
        settings["host"],
        int(settings["port"]),
        probe_app(probes),
        server_class=_ThreadingServer,
        handler_class=_QuietHandler,
    )
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    port = server.server_address[1]
    write_target(settings, port, root)
    log.info("metrics and probes on %s", target_address(settings["host"], port))
    return server
