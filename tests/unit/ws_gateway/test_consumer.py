"""The consumer's handling of one message: deliver and ack, or dead-letter and ack."""

from types import SimpleNamespace

import pika
import pytest

from services.common.topology import DLX, REASON_HEADER, SERVICE_HEADER
from ws_gateway.consumer import Consumer
from ws_gateway.routing import Undeliverable


class FakeChannel:
    def __init__(self):
        self.acked, self.published = [], []

    def basic_ack(self, delivery_tag):
        self.acked.append(delivery_tag)

    def basic_publish(self, exchange, routing_key, body, properties):
        self.published.append((exchange, routing_key, body, properties))


def consume(handle, routing_key="user.alice.x", body=b"{}", headers=None):
    channel = FakeChannel()
    consumer = Consumer(
        pika.URLParameters("amqp://localhost/"), handle, ioloop=object()
    )
    method = SimpleNamespace(routing_key=routing_key, delivery_tag=7)
    properties = pika.BasicProperties(content_type="application/json", headers=headers)
    consumer._on_message(channel, method, properties, body)
    return channel


def test_a_delivered_message_is_acked():
    handled = []
    channel = consume(lambda key, body, headers: handled.append((key, body)))
    assert handled == [("user.alice.x", b"{}")]
    assert channel.acked == [7]
    assert channel.published == []


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (Undeliverable("unknown role 'admin'"), "unknown role 'admin'"),
        (KeyError("boom"), "KeyError: 'boom'"),
    ],
)
def test_an_undeliverable_message_is_dead_lettered_with_why_then_acked(error, reason):
    def handle(key, body, headers):
        raise error

    channel = consume(handle, "role.admin.x", b"body", headers={"x-trace": "t1"})
    ((exchange, routing_key, body, properties),) = channel.published
    assert (exchange, routing_key, body) == (DLX.name, "role.admin.x", b"body")
    assert properties.headers == {
        "x-trace": "t1",
        REASON_HEADER: reason,
        SERVICE_HEADER: "ws_gateway",
    }
    assert properties.delivery_mode == 2
    assert properties.content_type == "application/json"
    assert channel.acked == [7]
