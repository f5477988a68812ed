"""What a Nameko service's metrics make of its workers and its queue consumers."""

from types import SimpleNamespace

from nameko.messaging import QueueConsumer

from services.common.db import Database
from services.common.errors import NotFound
from services.common.metrics import Probes
from services.common.service_metrics import (
    ServiceMetrics,
    consumers_problem,
    outcome,
)


def test_outcomes():
    assert outcome(None) == "ok"
    assert outcome((NotFound, NotFound(), None)) == "expected"
    error = KeyError("x")
    assert outcome((KeyError, error, None)) == "error"


class Ready:
    def __init__(self, ready: bool):
        self._ready = ready

    def ready(self):
        return self._ready


def queue_consumer(ready=True, connected=(True,)):
    consumers = {
        index: SimpleNamespace(
            channel=SimpleNamespace(
                connection=None if up is None else SimpleNamespace(connected=up)
            )
        )
        for index, up in enumerate(connected)
    }
    return SimpleNamespace(_consumers_ready=Ready(ready), _consumers=consumers)


def test_consumers_on_a_live_connection_are_ready():
    assert consumers_problem(queue_consumer()) is None


def test_what_keeps_consumers_from_receiving_is_named():
    assert consumers_problem(queue_consumer(ready=False)) == "not consuming yet"
    assert consumers_problem(queue_consumer(connected=())) == "no consumers"
    down = "the broker connection is down"
    assert consumers_problem(queue_consumer(connected=(True, None))) == down
    assert consumers_problem(queue_consumer(connected=(False,))) == down


class FailingStore:
    def __init__(self, session):
        self.session = session

    def ping(self):
        raise OSError("connection refused")


class Session:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_readyz_names_the_broker_and_a_database_that_fails_its_ping():
    database = Database(FailingStore)
    database.sessionmaker = Session
    metrics = ServiceMetrics()
    metrics.container = SimpleNamespace(
        config={}, extensions={QueueConsumer(), database}, dependencies={database}
    )
    metrics.setup()
    assert set(metrics.probes.readiness) == {"broker", "database"}
    assert Probes.failing(metrics.probes.readiness) == {
        "broker": "not consuming yet",
        "database": "OSError: connection refused",
    }
