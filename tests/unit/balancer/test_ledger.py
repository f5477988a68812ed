"""The relay's bookkeeping: round-robin, and what each confirm or return settles."""

import pika
import pytest

from balancer.relay import DEAD_LETTER, Ack, Ledger, Publish, Reading, Requeue

TARGETS = ["monitoring.ingest.1", "monitoring.ingest.2"]
ONE, TWO = TARGETS


def reading(tag: int, body: bytes = b"", message_id: str | None = None) -> Reading:
    return Reading(
        delivery_tag=tag,
        routing_key=f"device.d{tag}.reading",
        body=body or f'{{"n": {tag}}}'.encode(),
        properties=pika.BasicProperties(message_id=message_id or f"m-{tag}"),
    )


NEXT = "next in turn"


def send(ledger: Ledger, item: Reading, target: str | None = NEXT) -> int:
    """Publish ``item`` as the relay does: to ``target`` or the next in turn."""
    return ledger.sent(item, ledger.next_target() if target == NEXT else target)


def return_of(ledger: Ledger, item: Reading, target: str | None) -> bool:
    exchange, routing_key = ledger.route(item, target)
    return ledger.returned(exchange, routing_key, item.body, item.properties.message_id)


def test_targets_take_turns():
    ledger = Ledger(TARGETS)
    assert [ledger.next_target() for _ in range(5)] == [ONE, TWO, ONE, TWO, ONE]


@pytest.mark.parametrize("targets", [[], [ONE, ONE]])
def test_targets_must_be_distinct_and_present(targets):
    with pytest.raises(ValueError):
        Ledger(targets)


def test_routes_go_by_the_default_exchange_or_the_dead_letter_exchange():
    ledger = Ledger(TARGETS, dead_letter_exchange="ems.dlx")
    item = reading(1)
    assert ledger.route(item, TWO) == ("", TWO)
    assert ledger.route(item, DEAD_LETTER) == ("ems.dlx", "device.d1.reading")


def test_sequence_numbers_count_publishes_from_one():
    ledger = Ledger(TARGETS)
    assert [send(ledger, reading(tag)) for tag in (7, 8, 9)] == [1, 2, 3]
    assert ledger.outstanding == 3


def test_an_ack_settles_only_its_own_publish():
    ledger = Ledger(TARGETS)
    first, second = reading(1), reading(2)
    send(ledger, first)
    send(ledger, second)
    assert ledger.acked(2, multiple=False) == [Ack(second, TWO)]
    assert ledger.outstanding == 1
    assert ledger.counters()["forwarded"] == {ONE: 0, TWO: 1}


def test_a_multiple_ack_settles_every_publish_up_to_it():
    ledger = Ledger(TARGETS)
    items = [reading(tag) for tag in (11, 12, 13, 14)]
    for item in items:
        send(ledger, item)
    actions = ledger.acked(3, multiple=True)
    assert actions == [Ack(items[0], ONE), Ack(items[1], TWO), Ack(items[2], ONE)]
    assert [a.reading.delivery_tag for a in actions] == [11, 12, 13]
    assert ledger.outstanding == 1
    assert ledger.acked(3, multiple=True) == []  # Already settled: nothing twice.
    assert ledger.counters()["forwarded"] == {ONE: 2, TWO: 1}


def test_a_nack_requeues_the_readings():
    ledger = Ledger(TARGETS)
    items = [reading(tag) for tag in (1, 2, 3)]
    for item in items:
        send(ledger, item)
    assert ledger.nacked(2, multiple=True) == [Requeue(items[0]), Requeue(items[1])]
    assert ledger.nacked(3, multiple=False) == [Requeue(items[2])]
    assert ledger.counters()["requeued"] == 3
    assert ledger.outstanding == 0


def test_a_returned_publish_is_not_acked_but_tried_on_the_next_target():
    ledger = Ledger(TARGETS)
    item = reading(1)
    send(ledger, item, ONE)
    assert return_of(ledger, item, ONE)
    assert ledger.acked(1, multiple=False) == [Publish(item, TWO)]
    send(ledger, item, TWO)
    assert ledger.acked(2, multiple=False) == [Ack(item, TWO)]
    assert ledger.counters() == {
        "forwarded": {ONE: 0, TWO: 1},
        "dead_lettered": 0,
        "requeued": 0,
        "returned": 1,
    }


def test_what_every_target_returned_is_dead_lettered_then_acked():
    targets = ["q.a", "q.b", "q.c"]
    ledger = Ledger(targets)
    item = reading(1)
    sequence = send(ledger, item, "q.b")
    for expected in ("q.c", "q.a", DEAD_LETTER):
        assert return_of(ledger, item, item.tried[-1])
        assert ledger.acked(sequence, multiple=False) == [Publish(item, expected)]
        sequence = send(ledger, item, expected)
    assert ledger.acked(sequence, multiple=False) == [Ack(item, DEAD_LETTER)]
    assert ledger.counters()["dead_lettered"] == 1


def test_what_not_even_the_dead_letter_exchange_takes_is_requeued_later():
    ledger = Ledger([ONE])
    item = reading(1)
    send(ledger, item, ONE)
    return_of(ledger, item, ONE)
    assert ledger.acked(1, multiple=False) == [Publish(item, DEAD_LETTER)]
    send(ledger, item, DEAD_LETTER)
    assert return_of(ledger, item, DEAD_LETTER)
    [action] = ledger.acked(2, multiple=False)
    assert isinstance(action, Requeue) and action.reading is item and action.delay > 0


def test_a_return_marks_the_earliest_matching_unconfirmed_publish():
    ledger = Ledger(TARGETS)
    routed, unroutable = reading(1), reading(3)
    other = reading(2)
    send(ledger, routed, ONE)
    send(ledger, other, TWO)
    send(ledger, unroutable, ONE)
    # Same queue as ``routed``, other content: ``unroutable`` is the one returned.
    assert return_of(ledger, unroutable, ONE)
    actions = ledger.acked(3, multiple=True)
    assert actions == [Ack(routed, ONE), Ack(other, TWO), Publish(unroutable, TWO)]


def test_a_return_matches_no_confirmed_or_foreign_publish():
    ledger = Ledger(TARGETS)
    item = reading(1)
    send(ledger, item, ONE)
    ledger.acked(1, multiple=False)
    assert not return_of(ledger, item, ONE)
    assert not ledger.returned("", ONE, b"unknown", None)
    assert ledger.counters()["returned"] == 0


def test_identical_readings_are_interchangeable_on_return():
    ledger = Ledger(TARGETS)
    first, second = reading(1, b"same", "m"), reading(2, b"same", "m")
    send(ledger, first, ONE)
    send(ledger, second, ONE)
    assert return_of(ledger, second, ONE)  # Marks ``first``: same content.
    assert return_of(ledger, second, ONE)  # Then ``second``.
    assert not return_of(ledger, second, ONE)


def test_reset_forgets_the_publishes_of_a_lost_channel_and_restarts_numbering():
    ledger = Ledger(TARGETS)
    send(ledger, reading(1))
    send(ledger, reading(2))
    ledger.acked(1, multiple=False)
    ledger.reset()
    assert ledger.outstanding == 0
    assert ledger.acked(2, multiple=False) == []
    assert send(ledger, reading(3)) == 1
    assert ledger.counters()["forwarded"] == {ONE: 1, TWO: 0}  # Counters remain.
