"""The metrics and probes of a Nameko service, which every service gets from
``with_metrics`` (``ems run`` applies it): how long each entrypoint's workers take
(``ems_rpc_duration_seconds``), and ``/metrics``, ``/livez``, ``/readyz`` served by
eventlet beside the service's own workers.

``/readyz`` asks the container itself: are its consumers (RPC, events, queues, RPC
replies) attached over a live broker connection, and does each database it stores
in answer ``ping()``.
"""

import logging
import time
from weakref import WeakKeyDictionary

import eventlet
import eventlet.wsgi
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer

import config
from services.common.db import Database
from services.common.errors import EmsError
from services.common.metrics import (
    RPC_DURATION,
    Probes,
    probe_app,
    target_address,
    write_target,
)

log = logging.getLogger(__name__)

#: Seconds a database may take to answer the readiness check.
PING_TIMEOUT = 2.0


def outcome(exc_info) -> str:
    """``ok``, ``expected`` (an error of the platform's, answered as such) or
    ``error``."""
    if exc_info is None:
        return "ok"
    return "expected" if isinstance(exc_info[1], EmsError) else "error"


def consumers_problem(queue_consumer: QueueConsumer) -> str | None:
    """What keeps a queue consumer from receiving, if anything.

    Nameko's ``QueueConsumer`` keeps no connection one could ask: kombu's consumer
    loop reconnects on its own. Its consumers are remade on every (re)connection,
    each on a channel of the live connection, and a channel forgets its connection
    when that closes; so the consumers' channels say whether it is up.
    """
    if not queue_consumer._consumers_ready.ready():
        return "not consuming yet"
    consumers = list(queue_consumer._consumers.values())
    if not consumers:
        return "no consumers"
    for consumer in consumers:
        connection = getattr(consumer.channel, "connection", None)
        if connection is None or not connection.connected:
            return "the broker connection is down"
    return None


class ServiceMetrics(DependencyProvider):
    """Times every worker of the service and serves its probes; writes the
    Prometheus target file at start (settings: ``METRICS``). Without ``METRICS``
    it only times the workers."""

    def setup(self):
        self.settings = self.container.config.get("METRICS")
        self.started = WeakKeyDictionary()
        self.probes = Probes()
        self.server = self.socket = None
        queue_consumers = [
            extension
            for extension in self.container.extensions
            if isinstance(extension, QueueConsumer)
        ]
        for index, queue_consumer in enumerate(queue_consumers):
            name = "broker" if len(queue_consumers) == 1 else f"broker.{index + 1}"
            self.probes.ready(name, lambda qc=queue_consumer: consumers_problem(qc))
        for dependency in self.container.dependencies:
            if isinstance(dependency, Database):
                self.probes.ready("database", lambda db=dependency: self._ping(db))

    @staticmethod
    def _ping(database: Database) -> None:
        timeout = TimeoutError(f"no answer in {PING_TIMEOUT:g} s")
        with eventlet.Timeout(PING_TIMEOUT, timeout), database.sessionmaker() as s:
            database.store_class(s).ping()

    def start(self):
        if self.settings is None:
            return
        self.socket = eventlet.listen(
            (self.settings["host"], int(self.settings["port"]))
        )
        port = self.socket.getsockname()[1]
        # A green thread of the container: /livez answering means the hub turns.
        self.server = self.container.spawn_managed_thread(
            lambda: eventlet.wsgi.server(
                self.socket, probe_app(self.probes), log_output=False
            ),
            identifier="metrics",
        )
        write_target(self.settings, port, config.ROOT_DIR)
        log.info(
            "metrics and probes on %s", target_address(self.settings["host"], port)
        )

    def stop(self):
        self._close()

    def kill(self):
        self._close()

    def _close(self):
        if self.server is not None:
            self.server.kill()
            self.server = None
        if self.socket is not None:
            self.socket.close()
            self.socket = None

    def get_dependency(self, worker_ctx):
        return None

    def worker_setup(self, worker_ctx):
        self.started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self.started.pop(worker_ctx, None)
        if started is None:
            return
        RPC_DURATION.labels(
            service=self.container.service_name,
            method=worker_ctx.entrypoint.method_name,
            outcome=outcome(exc_info),
        ).observe(time.perf_counter() - started)


def with_metrics(service_cls: type) -> type:
    """``service_cls`` with ``ServiceMetrics``: a subclass, so the class itself
    stays as it was."""
    return type(
        service_cls.__name__,
        (service_cls,),
        {"process_metrics": ServiceMetrics(), "__module__": service_cls.__module__},
    )
