"""A request's id through a chain of services on a real broker, as the platform's
pieces carry it: an HTTP entrypoint (the gateway's), an RPC to a service, the event
that service publishes to ``ems.sync``, and the services that consume it."""

import logging
import socket

import pytest
import requests
from kombu import Queue
from nameko.rpc import RpcProxy, rpc
from nameko.standalone.rpc import ServiceRpcProxy

from harness.polling import eventually
from services.common import tracing
from services.common.errors import EXPECTED
from services.common.http import http, json_response
from services.common.messaging import Dispatcher, consume, consume_keyed
from services.common.topology import SYNC

CONTAINER = {"SERVICE_CONTAINER_CLS": "services.common.container.TracingContainer"}
EVENTS = Queue("trace-test.events", exchange=SYNC, routing_key="trace.#")
KEYED = Queue("trace-test.keyed", exchange=SYNC, routing_key="trace.#")
#: What each worker saw as its correlation id, by where it ran.
seen: dict[str, list] = {}


def saw(where: str) -> None:
    seen.setdefault(where, []).append(tracing.current())


class Front:
    """The gateway's part: an HTTP route that calls a service."""

    name = "trace_front"
    middle_rpc = RpcProxy("trace_middle")

    @http("GET", "/things", expected_exceptions=EXPECTED)
    def things(self, request):
        saw("front")
        return json_response(200, self.middle_rpc.make())


class Middle:
    """A service that does something and says so on ``ems.sync``."""

    name = "trace_middle"
    dispatch = Dispatcher(SYNC)

    @rpc
    def make(self):
        saw("middle")
        logging.getLogger("trace_middle").info("made a thing")
        self.dispatch("trace.made", {"thing": 1})
        return {"made": 1}


class Back:
    """Services that keep a copy: one consuming as most do, one keyed."""

    name = "trace_back"

    @consume(EVENTS)
    def handle_made(self, payload):
        saw("consumer")

    @consume_keyed(KEYED)
    def handle_made_keyed(self, payload, routing_key):
        saw("keyed consumer")


@pytest.fixture
def address():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


@pytest.fixture
def chain(container_factory, service_config, address):
    seen.clear()
    settings = service_config(**CONTAINER, WEB_SERVER_ADDRESS=address)
    for service in (Back, Middle, Front):
        container_factory(service, settings).start()
    return f"http://{address}"


def wait_for(where: str, count: int = 1, timeout: float = 10.0) -> list:
    assert eventually(lambda: len(seen.get(where, [])) >= count, timeout=timeout)
    return seen[where]


def test_a_requests_id_reaches_the_rpc_and_every_consumer_of_its_event(
    chain, listen, caplog
):
    events = listen(SYNC, "trace.#")
    caplog.set_level(logging.INFO)
    response = requests.get(
        f"{chain}/things", headers={"X-Request-Id": "chain-1"}, timeout=10
    )
    assert response.status_code == 200
    assert response.headers["X-Request-Id"] == "chain-1"
    for where in ("front", "middle", "consumer", "keyed consumer"):
        assert wait_for(where) == ["chain-1"], where
    # On the wire: the event's AMQP headers carry it.
    message = eventually(lambda: events.bound.get(no_ack=True), timeout=5)
    assert message
    assert message.headers["nameko.correlation_id"] == "chain-1"

    # And every worker that served it said so in the logs, as it ended.
    def ran():
        return {
            record.getMessage().split()[1]
            for record in caplog.records
            if record.name == "services.common.container"
        }

    wanted = {"trace_front.things", "trace_middle.make", "trace_back.handle_made"}
    assert eventually(lambda: wanted <= ran(), timeout=5), ran()


def test_a_request_without_an_id_is_traced_under_the_one_made(chain):
    response = requests.get(f"{chain}/things", timeout=10)
    made = response.headers["X-Request-Id"]
    assert tracing.sane(made) and len(made) == 32
    for where in ("front", "middle", "consumer", "keyed consumer"):
        assert wait_for(where) == [made], where


def test_a_callers_unusable_id_is_dropped_not_passed_on(chain, service_config):
    context = {"correlation_id": "not\nsane"}
    with ServiceRpcProxy("trace_middle", service_config(), context_data=context) as m:
        m.make()
    assert wait_for("middle") == [None]
    assert wait_for("consumer") == [None]
