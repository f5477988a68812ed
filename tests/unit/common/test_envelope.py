"""Compressed and oversized messages are refused before anything decodes them."""

import gzip
import json

import pytest
from kombu import Connection

from services.common.envelope import MAX_BODY_BYTES, refusal
from services.common.messaging import ScreeningConsumer


def test_plain_bodies_up_to_the_limit_pass():
    assert refusal({"x-ems-routing-key": "k"}, MAX_BODY_BYTES, MAX_BODY_BYTES) is None
    assert refusal(None, 10, MAX_BODY_BYTES) is None


def test_compressed_and_oversized_bodies_are_refused_with_why():
    assert "compressed body (application/x-gzip)" in refusal(
        {"compression": "application/x-gzip"}, 10, MAX_BODY_BYTES
    )
    assert "body of 11 bytes is over the limit of 10" in refusal({}, 11, 10)


class Frame:
    """What py-amqp hands kombu: a raw body and the properties."""

    def __init__(self, body: bytes, headers: dict):
        self.body = body
        self.delivery_tag = 1
        self.delivery_info = {"routing_key": "device.d.reading"}
        self.properties = {
            "content_type": "application/json",
            "content_encoding": "utf-8",
            "application_headers": headers,
        }


@pytest.fixture
def consumer():
    with Connection("memory://") as connection:
        channel = connection.default_channel
        channel.Message = lambda raw, channel=None: _message(raw, channel)
        channel.message_to_python = lambda raw: channel.Message(raw, channel)
        received, refused = [], []
        screening = ScreeningConsumer(
            channel, queues=[], callbacks=[lambda body, m: received.append(body)]
        )
        screening.max_bytes = 64
        screening.on_refused = lambda message, reason: refused.append((message, reason))
        yield screening, received, refused


def _message(raw, channel):
    from kombu.transport.pyamqp import Message

    return Message(raw, channel=channel)


def test_a_compressed_body_is_refused_without_being_inflated(consumer):
    screening, received, refused = consumer
    bomb = gzip.compress(b"[" + b" " * 10_000_000 + b"]")
    screening._receive_callback(Frame(bomb, {"compression": "application/x-gzip"}))
    [(message, reason)] = refused
    assert "compressed body" in reason and received == []
    # Handed on exactly as it came, to be dead-lettered unchanged.
    assert message.body == bomb
    assert message.headers == {"compression": "application/x-gzip"}


def test_an_oversized_body_is_refused_and_a_small_one_decoded(consumer):
    screening, received, refused = consumer
    screening._receive_callback(Frame(json.dumps("x" * 100).encode(), {}))
    screening._receive_callback(Frame(json.dumps({"kwh": 1}).encode(), {}))
    assert [reason for _, reason in refused] == [
        "body of 102 bytes is over the limit of 64: refused unread"
    ]
    assert received == [{"kwh": 1}]
