"""docs/architecture.md lists the exchanges and queues that
``services.common.topology`` declares, no more and no fewer, with their bindings."""

import re

import pytest

import config
from services.common.topology import (
    EXCHANGES,
    QUEUES,
    RPC,
    SERVER_NAMED_PREFIX,
    SERVICE_QUEUES,
    WS_GATEWAY,
    device_command_queue,
    ingest_queue,
    rpc_queue,
    rpc_reply_queue,
)

ARCHITECTURE = config.ROOT_DIR / "docs" / "architecture.md"
#: How the docs write the default exchange, and a queue the broker names.
DEFAULT = "(default)"
SERVER_NAMED = f"{SERVER_NAMED_PREFIX}…"


def section(title: str) -> str:
    text = ARCHITECTURE.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def table(text: str, first_header: str) -> list[list[str]]:
    """The rows of the Markdown table whose first column is ``first_header``, as
    lists of cells."""
    lines = text.splitlines()
    start = next(
        n for n, line in enumerate(lines) if line.startswith(f"| {first_header} |")
    )
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def quoted(cell: str) -> list[str]:
    """The names a cell writes as code."""
    return re.findall(r"`([^`]+)`", cell)


def name_of(cell: str) -> str:
    return DEFAULT if cell == DEFAULT else quoted(cell)[0]


def declared_bindings(queue) -> tuple[str, set[str]]:
    """``(exchange, binding keys)`` of a queue as the topology declares it; a queue
    bound to no exchange is reached through the default one, under its name."""
    bindings = queue.bindings or (
        [queue] if queue.exchange and queue.exchange.name else []
    )
    exchanges = {binding.exchange.name for binding in bindings}
    assert len(exchanges) <= 1, f"{queue.name} is bound to {exchanges}"
    return (exchanges.pop() if exchanges else DEFAULT), {
        binding.routing_key for binding in bindings
    }


def test_the_exchanges_are_those_of_the_topology():
    rows = {name_of(row[0]): row for row in table(section("Messaging"), "exchange")}
    declared = {exchange.name: exchange for exchange in (RPC, *EXCHANGES)}
    assert set(rows) - {DEFAULT} == set(declared)
    assert rows[DEFAULT][1] == "direct"
    for name, exchange in declared.items():
        kind = rows[name][1]
        assert kind.split(",")[0] == exchange.type, name
        assert ("durable" in kind) == exchange.durable, name


def documented_queues() -> dict[str, tuple[str, set[str]]]:
    rows = table(section("Messaging"), "queue")
    queues = {name_of(row[0]): (name_of(row[1]), set(quoted(row[2]))) for row in rows}
    assert len(queues) == len(rows), "a queue is listed twice"
    return queues


def test_the_queues_and_their_bindings_are_those_of_the_topology():
    templates = (
        rpc_queue("<service>"),
        rpc_reply_queue("<service>", "<uuid>"),
        ingest_queue("<n>"),
        device_command_queue("<id>"),
    )
    declared = {
        queue.name or SERVER_NAMED: declared_bindings(queue)
        for queue in (*QUEUES, WS_GATEWAY, *templates)
    }
    assert documented_queues() == declared


@pytest.mark.parametrize("service", sorted(SERVICE_QUEUES))
def test_each_service_is_said_to_consume_its_queues(service):
    """The processes table names what each service consumes: its own queues, and
    perhaps the keys that bind them."""
    rows = {name_of(row[0]): row for row in table(section("Processes"), "process")}
    keys = {key for _, bound in documented_queues().values() for key in bound}
    named = set(quoted(rows[service][2])) - keys
    assert named == {queue.name for queue in SERVICE_QUEUES[service]}
