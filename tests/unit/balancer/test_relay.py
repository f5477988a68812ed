"""The relay's pika callbacks, on a fake channel: what goes out, what is acked."""

import time

import pika
import pytest
from pika.frame import Method
from pika.spec import Basic

from balancer.relay import (
    PERSISTENT,
    UNROUTABLE_REASON,
    Relay,
    describe,
    forwarded_properties,
)
from services.common.metrics import REGISTRY
from services.common.topology import (
    DLX,
    REASON_HEADER,
    RECEIVED_AT_HEADER,
    ROUTING_KEY_HEADER,
    SERVICE_HEADER,
)

TARGETS = ["monitoring.ingest.1", "monitoring.ingest.2"]
ONE, TWO = TARGETS


class FakeChannel:
    is_open = True

    def __init__(self):
        self.published, self.acked, self.nacked = [], [], []

    def basic_publish(self, exchange, routing_key, body, properties, mandatory):
        assert mandatory
        self.published.append((exchange, routing_key, body, properties))

    def basic_ack(self, delivery_tag):
        self.acked.append(delivery_tag)

    def basic_nack(self, delivery_tag, requeue):
        assert requeue
        self.nacked.append(delivery_tag)

    def basic_cancel(self, consumer_tag, callback):
        self.cancelled = (consumer_tag, callback)


class FakeLoop:
    def __init__(self):
        self.later = []

    def call_later(self, delay, callback):
        self.later.append((delay, callback))


class FakeConnection:
    is_open, is_closing, is_closed = True, False, False

    def close(self):
        self.is_open, self.is_closing = False, True


@pytest.fixture
def channel():
    return FakeChannel()


@pytest.fixture
def relay(channel):
    relay = Relay(pika.URLParameters("amqp://localhost/"), TARGETS, ioloop=FakeLoop())
    relay._channel = channel
    return relay


def received(properties) -> dict:
    """The headers without the balancer's receipt, which must be a moment ago."""
    headers = dict(properties.headers)
    assert time.time() - 5 < float(headers.pop(RECEIVED_AT_HEADER)) <= time.time()
    return headers


def deliver(relay, tag, headers=None, routing_key=None):
    method = Basic.Deliver(
        delivery_tag=tag, routing_key=routing_key or f"device.d{tag}.reading"
    )
    properties = pika.BasicProperties(
        content_type="application/json", headers=headers, message_id=f"m-{tag}"
    )
    relay._on_message(None, method, properties, f'{{"n": {tag}}}'.encode())


def confirm(relay, sequence, multiple=False, ack=True):
    kind = Basic.Ack if ack else Basic.Nack
    relay._on_confirm(Method(1, kind(delivery_tag=sequence, multiple=multiple)))


def give_back(relay, channel, index):
    exchange, routing_key, body, properties = channel.published[index]
    method = Basic.Return(
        reply_code=312,
        reply_text="NO_ROUTE",
        exchange=exchange,
        routing_key=routing_key,
    )
    relay._on_return(None, method, properties, body)


def test_forwards_in_turn_and_acks_only_what_the_broker_confirmed(relay, channel):
    for tag in (1, 2, 3):
        deliver(relay, tag, headers={"x-n": tag})
    assert [(e, k) for e, k, _, _ in channel.published] == [
        ("", ONE),
        ("", TWO),
        ("", ONE),
    ]
    _, _, body, properties = channel.published[1]
    assert body == b'{"n": 2}'
    assert received(properties) == {"x-n": 2, ROUTING_KEY_HEADER: "device.d2.reading"}
    assert properties.message_id == "m-2" and properties.delivery_mode == PERSISTENT
    assert channel.acked == []
    confirm(relay, 2, multiple=True)
    assert channel.acked == [1, 2]
    confirm(relay, 3)
    assert channel.acked == [1, 2, 3]
    assert relay.stats()["forwarded"] == {ONE: 2, TWO: 1}


def test_readings_received_are_counted_by_how_they_came(relay):
    def count(path):
        return (
            REGISTRY.get_sample_value("ems_readings_received_total", {"path": path})
            or 0
        )

    before = count("amqp"), count("mqtt")
    deliver(relay, 1)
    deliver(relay, 2, routing_key="ems.devices.d2.reading")
    deliver(relay, 3, routing_key="ems.devices.d3.reading")
    assert (count("amqp") - before[0], count("mqtt") - before[1]) == (1, 2)


def test_a_nacked_forward_requeues_its_reading(relay, channel):
    deliver(relay, 5)
    confirm(relay, 1, ack=False)
    assert channel.nacked == [5] and channel.acked == []
    assert relay.stats()["requeued"] == 1


def test_a_returned_forward_goes_to_the_other_target(relay, channel):
    deliver(relay, 1)
    give_back(relay, channel, 0)
    confirm(relay, 1)
    assert channel.acked == []
    assert channel.published[1][:3] == ("", TWO, b'{"n": 1}')
    confirm(relay, 2)
    assert channel.acked == [1]


def test_what_no_target_takes_is_dead_lettered_with_the_reason(relay, channel):
    deliver(relay, 1, headers={"x-n": 1})
    for sequence in (1, 2):
        give_back(relay, channel, sequence - 1)
        confirm(relay, sequence)
    exchange, routing_key, body, properties = channel.published[2]
    assert (exchange, routing_key, body) == (DLX.name, "device.d1.reading", b'{"n": 1}')
    assert received(properties) == {
        "x-n": 1,
        ROUTING_KEY_HEADER: "device.d1.reading",
        REASON_HEADER: UNROUTABLE_REASON,
        SERVICE_HEADER: "balancer",
    }
    assert channel.acked == []
    confirm(relay, 3)
    assert channel.acked == [1]
    assert relay.stats()["dead_lettered"] == 1


def test_a_returned_dead_letter_is_requeued_after_a_delay(relay, channel):
    deliver(relay, 1)
    for sequence in (1, 2, 3):
        give_back(relay, channel, sequence - 1)
        confirm(relay, sequence)
    [(delay, requeue)] = relay.ioloop.later
    assert delay > 0 and channel.nacked == []
    requeue()
    assert channel.nacked == [1] and channel.acked == []


def test_dead_letter_headers_leave_the_original_untouched():
    original = pika.BasicProperties(headers={"x-n": 1}, delivery_mode=1)
    dead = forwarded_properties(original, None, "device.d1.reading")
    assert original.headers == {"x-n": 1}
    assert dead.headers[REASON_HEADER] == UNROUTABLE_REASON
    assert dead.delivery_mode == PERSISTENT


def test_counters_read_as_one_line(relay):
    assert describe(relay.stats()) == (
        f"forwarded {ONE}=0, {TWO}=0; dead-lettered 0; requeued 0; returned 0"
    )


def test_a_stop_waits_for_outstanding_confirms_before_closing(relay, channel):
    relay._connection, relay._consumer_tag = FakeConnection(), "ctag"
    deliver(relay, 1)
    relay.stop()
    consumer_tag, cancelok = channel.cancelled
    assert consumer_tag == "ctag"
    [(timeout, _)] = relay.ioloop.later
    assert timeout == relay.shutdown_timeout
    cancelok(None)
    deliver(relay, 2)  # Already on its way: left unacked, for the broker to requeue.
    assert len(channel.published) == 1 and relay._connection.is_open
    confirm(relay, 1)
    assert channel.acked == [1]
    assert relay._connection.is_closing


def test_the_counters_line_warns_when_readings_were_dead_lettered(relay, caplog):
    caplog.set_level("INFO", logger="balancer.relay")
    relay._log_stats()
    relay.ledger.dead_lettered += 1
    relay._log_stats()
    relay._log_stats()
    assert [r.levelname for r in caplog.records] == ["INFO", "WARNING", "INFO"]


@pytest.mark.parametrize(
    "headers, body, reason",
    [
        ({"compression": "application/x-gzip"}, b"\x1f\x8b...", "compressed body"),
        (None, b"x" * (64 * 1024 + 1), "over the limit of 65536"),
    ],
)
def test_compressed_and_oversized_readings_are_dead_lettered_unread(
    relay, channel, headers, body, reason
):
    method = Basic.Deliver(delivery_tag=1, routing_key="device.d1.reading")
    properties = pika.BasicProperties(headers=headers, message_id="m-1")
    relay._on_message(None, method, properties, body)
    [(exchange, routing_key, sent, forwarded)] = channel.published
    assert (exchange, routing_key, sent) == (DLX.name, "device.d1.reading", body)
    assert reason in forwarded.headers[REASON_HEADER]
    assert forwarded.headers[SERVICE_HEADER] == "balancer"
    confirm(relay, 1)
    assert channel.acked == [1]
    assert relay.stats()["dead_lettered"] == 1
    assert relay.stats()["forwarded"] == {ONE: 0, TWO: 0}


def test_a_body_at_the_limit_is_forwarded(relay, channel):
    method = Basic.Deliver(delivery_tag=1, routing_key="device.d1.reading")
    relay._on_message(None, method, pika.BasicProperties(), b"x" * 64 * 1024)
    assert channel.published[0][:2] == ("", ONE)
