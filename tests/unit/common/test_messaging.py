"""The queue consumers' settling of a message on a connection that just went."""

import logging
from unittest.mock import Mock

import amqp.exceptions
import pytest
from kombu.exceptions import OperationalError

from services.common.messaging import SettlingQueueConsumer


def message_whose_settling_raises(exc):
    message = Mock(delivery_info={"routing_key": "device.d1.reading"})
    message.ack.side_effect = exc
    message.requeue.side_effect = exc
    return message


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionResetError(104, "Connection reset by peer"),
        OperationalError("broker gone"),
        BrokenPipeError(32, "Broken pipe"),
    ],
    ids=["reset", "kombu", "pipe"],
)
@pytest.mark.parametrize("action", ["ack_message", "requeue_message"])
def test_settling_on_a_lost_connection_is_logged_not_raised(exc, action, caplog):
    consumer = SettlingQueueConsumer()
    message = message_whose_settling_raises(exc)

    with caplog.at_level(logging.WARNING):
        getattr(consumer, action)(message)

    assert "connection lost" in caplog.text
    assert "device.d1.reading" in caplog.text


@pytest.mark.parametrize("action", ["ack_message", "requeue_message"])
def test_a_connection_known_closed_is_passed_over(action):
    consumer = SettlingQueueConsumer()
    message = message_whose_settling_raises(
        amqp.exceptions.RecoverableConnectionError("connection already closed")
    )

    getattr(consumer, action)(message)


def test_any_other_failure_still_raises():
    consumer = SettlingQueueConsumer()
    message = message_whose_settling_raises(ValueError("a bug"))

    with pytest.raises(ValueError):
        consumer.ack_message(message)


def test_a_settled_message_is_acked_once():
    consumer = SettlingQueueConsumer()
    message = Mock(delivery_info={"routing_key": "k"})

    consumer.ack_message(message)

    message.ack.assert_called_once_with()
