"""Dead letters: monitoring moves ``ems.dead`` into a table, where they are listed,
inspected, replayed and purged by id; on the real broker and DB."""

import gzip
import json
import time

import pytest
from kombu import Connection
from nameko.standalone.rpc import ServiceRpcProxy

from services.common.topology import DATA, DEAD, DLX, SYNC
from services.monitoring.exceptions import (
    DeadLettersForbidden,
    NoSuchDeadLetter,
    NotReplayable,
)
from services.monitoring.service import MonitoringService

pytestmark = pytest.mark.usefixtures("clean_databases")

KEY = "device.7a2e0000-0000-4000-8000-000000000001.reading"
READING = {"reading_id": "r-1", "device_id": KEY.split(".")[1], "kwh": 1e30}
ADMIN = {"user_id": "6f1c9d2e-0000-4000-8000-0000000000ad", "role": "ADMIN"}


@pytest.fixture
def monitoring(container_factory, service_config):
    config = service_config("monitoring", DEAD_LETTERS_KEPT=5)
    container_factory(MonitoringService, config).start()
    with ServiceRpcProxy("monitoring", config) as proxy:
        yield proxy


def reject(amqp_uri, body, routing_key=KEY, reason="kwh is absurd", **options):
    """Publish to ems.dlx as a consumer that rejected it would."""
    headers = {"x-ems-reason": reason, "x-ems-service": "monitoring_worker"}
    headers.update(options.pop("headers", {}))
    options.setdefault("content_type", "application/json")
    options.setdefault("content_encoding", "utf-8")
    with Connection(amqp_uri) as connection:
        connection.Producer().publish(
            body,
            exchange=DLX,
            routing_key=routing_key,
            headers=headers,
            declare=[DLX, DEAD],
            delivery_mode=2,
            **options,
        )


def kept(monitoring, count, reason=None):
    deadline = time.monotonic() + 10
    while (
        len(
            letters := monitoring.list_dead_letters(
                ADMIN, {"limit": 500, **({"reason": reason} if reason else {})}
            )
        )
        < count
    ):
        assert time.monotonic() < deadline, letters
        time.sleep(0.1)
    return letters


def test_dead_letters_are_kept_as_they_came_with_why(monitoring, rabbit_config):
    uri = rabbit_config["AMQP_URI"]
    bomb = gzip.compress(b"[" * 1_000_000)
    reject(uri, json.dumps(READING), content_type="application/json")
    reject(uri, b"{not json\x00", reason="undecodable body", content_type="text/x")
    reject(
        uri,
        bomb,
        reason="compressed body (application/x-gzip): refused unread",
        headers={"compression": "application/x-gzip", "x-nul": "a\x00b"},
        content_type="application/json",
    )
    letters = {letter["reason"]: letter for letter in kept(monitoring, 3)}
    assert letters.keys() == {
        "compressed body (application/x-gzip): refused unread",
        "undecodable body",
        "kwh is absurd",
    }
    reading = letters["kwh is absurd"]
    assert reading["service"] == "monitoring_worker"
    assert (reading["exchange"], reading["routing_key"]) == (DATA.name, KEY)
    assert reading["preview"] == json.dumps(READING)
    assert reading["size"] == len(json.dumps(READING)) and reading["replayable"]
    compressed = monitoring.get_dead_letter(
        ADMIN, letters["compressed body (application/x-gzip): refused unread"]["id"]
    )
    assert compressed["size"] == len(bomb)  # never inflated
    assert compressed["headers"]["x-nul"] == "a\x00b"
    assert compressed["truncated"] is False
    undecodable = monitoring.get_dead_letter(ADMIN, letters["undecodable body"]["id"])
    assert undecodable["body"] == "{not json\x00"


def test_an_oversized_body_is_kept_in_part_and_cannot_be_replayed(
    monitoring, rabbit_config
):
    reject(rabbit_config["AMQP_URI"], b"x" * 100_000, reason="body of 100000 bytes")
    [letter] = kept(monitoring, 1)
    detail = monitoring.get_dead_letter(ADMIN, letter["id"])
    assert (detail["size"], len(detail["body"]), detail["truncated"]) == (
        100_000,
        65536,
        True,
    )
    assert letter["replayable"] is False
    with pytest.raises(NotReplayable, match="only the start of its body"):
        monitoring.replay_dead_letter(ADMIN, letter["id"])


def test_a_replay_publishes_it_where_it_was_first_published(
    monitoring, rabbit_config, listen
):
    readings = listen(DATA, "device.#")
    events = listen(SYNC, "#")
    uri = rabbit_config["AMQP_URI"]
    reject(uri, json.dumps(READING), headers={"x-ems-routing-key": KEY})
    event = {"user": {"id": "u"}}
    reject(
        uri,
        json.dumps(event),
        routing_key="user.updated",
        reason="KeyError",
        headers={"x-ems-exchange": SYNC.name},
    )
    letters = kept(monitoring, 2)
    for letter in letters:
        assert monitoring.replay_dead_letter(ADMIN, letter["id"])["id"] == letter["id"]
    assert readings.messages(wait=5, until=1) == [(KEY, READING)]
    assert events.messages(wait=5, until=1) == [("user.updated", event)]
    assert monitoring.list_dead_letters(ADMIN, {}) == []
    with pytest.raises(NoSuchDeadLetter):
        monitoring.replay_dead_letter(ADMIN, letters[0]["id"])


def test_the_replayed_message_carries_its_first_headers_only(monitoring, rabbit_config):
    uri = rabbit_config["AMQP_URI"]
    reject(uri, json.dumps(READING), headers={"x-trace": "t-1"})
    [letter] = kept(monitoring, 1)
    with Connection(uri) as connection:
        from kombu import Queue

        queue = Queue("replayed", exchange=DATA, routing_key=KEY, exclusive=True)
        bound = queue(connection.default_channel)
        bound.declare()
        monitoring.replay_dead_letter(ADMIN, letter["id"])
        deadline = time.monotonic() + 5
        while (message := bound.get(no_ack=True)) is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert message.headers == {"x-trace": "t-1"}


def test_purge_by_reason_delete_by_id_and_the_bound(monitoring, rabbit_config):
    uri = rabbit_config["AMQP_URI"]
    for number in range(7):
        reason = "unknown device" if number % 2 else "kwh is absurd"
        reject(uri, json.dumps({"n": number}), reason=reason)
        time.sleep(0.05)  # received in order
    # DEAD_LETTERS_KEPT is 5: the two oldest are gone.
    letters = kept(monitoring, 5)
    time.sleep(0.5)
    letters = monitoring.list_dead_letters(ADMIN, {})
    assert [json.loads(letter["preview"])["n"] for letter in letters] == [6, 5, 4, 3, 2]
    assert len(monitoring.list_dead_letters(ADMIN, {"reason": "unknown"})) == 2
    assert monitoring.purge_dead_letters(ADMIN, {"reason": "unknown"}) == {"deleted": 2}
    monitoring.delete_dead_letter(ADMIN, letters[0]["id"])
    with pytest.raises(NoSuchDeadLetter):
        monitoring.get_dead_letter(ADMIN, letters[0]["id"])
    with pytest.raises(NoSuchDeadLetter):
        monitoring.get_dead_letter(ADMIN, "not-an-id\x00")
    assert monitoring.purge_dead_letters(ADMIN, {}) == {"deleted": 2}
    assert monitoring.list_dead_letters(ADMIN, {}) == []


def test_a_dead_letter_naming_another_exchange_is_not_replayed(
    monitoring, rabbit_config
):
    # Anyone who can publish to ems.dlx writes the headers: monitoring must not
    # publish an RPC request on their behalf.
    reject(
        rabbit_config["AMQP_URI"],
        json.dumps({"args": []}),
        routing_key="users.create_user",
        headers={"x-ems-exchange": "nameko-rpc"},
    )
    [letter] = kept(monitoring, 1)
    assert letter["exchange"] is None and letter["replayable"] is False
    with pytest.raises(NotReplayable, match="not published to ems.data or ems.sync"):
        monitoring.replay_dead_letter(ADMIN, letter["id"])


def test_only_admin_is_let_near_the_dead_letters(monitoring, rabbit_config):
    reject(rabbit_config["AMQP_URI"], json.dumps(READING))
    [letter] = kept(monitoring, 1)
    one = letter["id"]
    for role in ("USER", "OPERATOR"):
        caller = {"user_id": ADMIN["user_id"], "role": role}
        for method, arguments in (
            ("list_dead_letters", ({},)),
            ("get_dead_letter", (one,)),
            ("replay_dead_letter", (one,)),
            ("delete_dead_letter", (one,)),
            ("purge_dead_letters", ({},)),
        ):
            with pytest.raises(DeadLettersForbidden):
                getattr(monitoring, method)(caller, *arguments)
    assert kept(monitoring, 1) == [letter]
