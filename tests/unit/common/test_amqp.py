"""pika's connection parameters from the platform's AMQP URI; the back-off, the
reconnecting channel and the confirmed publisher, on a fake connection."""

from types import SimpleNamespace

import pika
import pytest
from pika.frame import Method
from pika.spec import Basic

from services.common.amqp import (
    BLOCKED_CONNECTION_TIMEOUT,
    Backoff,
    ConfirmedPublisher,
    Outgoing,
    ReconnectingChannel,
    declare,
    pika_parameters,
)
from services.common.topology import DATA, DEAD, DLX, WS, WS_GATEWAY


@pytest.mark.parametrize("scheme", ["amqp", "pyamqp"])
def test_the_vhost_is_taken_from_the_uri_in_either_spelling(scheme):
    parameters = pika_parameters(f"{scheme}://u:p@rabbit:5673/ems_t1_%2Fx", "x")
    assert (parameters.host, parameters.port) == ("rabbit", 5673)
    assert parameters.virtual_host == "ems_t1_/x"
    assert parameters.credentials.username == "u"


def test_the_default_vhost_is_the_root():
    assert pika_parameters("amqp://guest:guest@h:5672/", "x").virtual_host == "/"


def test_connections_are_named_and_give_up_when_blocked():
    parameters = pika_parameters("amqp://guest:guest@h:5672/", "balancer")
    assert parameters.client_properties == {"connection_name": "balancer"}
    assert parameters.blocked_connection_timeout == BLOCKED_CONNECTION_TIMEOUT


# -- the back-off, the reconnecting channel, the confirmed publisher ---------------


class FakeLoop:
    """Timers that run when the test says so."""

    def __init__(self):
        self.timers, self.stopped = [], 0

    def call_later(self, delay, callback):
        timer = (delay, callback)
        self.timers.append(timer)
        return timer

    def remove_timeout(self, timer):
        self.timers.remove(timer)

    def run_timers(self):
        timers, self.timers = self.timers, []
        for _, callback in timers:
            callback()

    def stop(self):
        self.stopped += 1


class FakeChannel:
    def __init__(self):
        self.is_open = True
        self.published, self.returned_to, self.confirms = [], None, None
        self.declared, self.bound = [], []

    def add_on_close_callback(self, callback):
        self.on_close = callback

    def add_on_cancel_callback(self, callback):
        self.on_cancel = callback

    def add_on_return_callback(self, callback):
        self.returned_to = callback

    def confirm_delivery(self, on_confirm, callback):
        self.confirms = on_confirm
        callback(None)

    def basic_publish(self, exchange, routing_key, body, properties, mandatory):
        assert mandatory and properties.delivery_mode == 2
        self.published.append((exchange, routing_key, properties.message_id))

    def exchange_declare(self, exchange, **options):
        self.declared.append(exchange)

    def queue_declare(self, queue, callback=None, **options):
        self.declared.append(queue)
        if callback is not None:
            callback(SimpleNamespace(method=SimpleNamespace(queue="amq.gen-1")))

    def queue_bind(self, queue, exchange, routing_key):
        self.bound.append((queue, exchange, routing_key))

    def close(self):
        self.is_open = False


class FakeConnection:
    """pika's asynchronous connection, opened and lost when the test says so."""

    made = []

    def __init__(self, parameters, on_open_callback, on_open_error_callback,
                 on_close_callback, custom_ioloop):  # fmt: skip
        self.on_open, self.on_lost = on_open_callback, on_close_callback
        self.failed = on_open_error_callback
        self.is_open, self.is_closing, self.is_closed = False, False, False
        self.channels = []
        FakeConnection.made.append(self)

    def open(self):
        self.is_open = True
        self.on_open(self)
        return self.channels[-1]

    def channel(self, on_open_callback):
        channel = FakeChannel()
        self.channels.append(channel)
        on_open_callback(channel)

    def lose(self, reason="gone"):
        self.is_open, self.is_closed = False, True
        self.on_lost(self, reason)

    def close(self):
        self.is_closing = True


class Channel(ReconnectingChannel):
    connection_class = FakeConnection

    def __init__(self):
        super().__init__(pika.URLParameters("amqp://localhost/"), FakeLoop())
        self.opened, self.forgotten, self.ended = [], 0, False

    def channel_opened(self, channel):
        self.opened.append(channel)

    def forget(self):
        self.forgotten += 1

    def closed(self):
        self.ended = True


def test_the_back_off_doubles_up_to_its_most_and_starts_over_after_a_success():
    backoff = Backoff(first=1.0, most=10.0)
    assert [backoff.next() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    backoff.reset()
    assert backoff.next() == 1.0


def test_a_lost_connection_is_made_again_after_the_back_off():
    channel = Channel()
    channel.connect()
    FakeConnection.made[-1].open()
    assert len(channel.opened) == 1
    channel.ready()
    for expected in (1.0, 2.0, 4.0):
        FakeConnection.made[-1].lose()
        [(delay, _)] = channel.ioloop.timers
        assert delay == expected and channel._connection is None
        channel.ioloop.run_timers()  # connects again, and fails to open
    FakeConnection.made[-1].open()
    channel.ready()
    FakeConnection.made[-1].lose()
    assert [delay for delay, _ in channel.ioloop.timers] == [1.0]
    assert len(channel.opened) == 2 and channel.forgotten == 4


def test_a_lost_channel_closes_its_connection_and_a_stop_ends_the_reconnecting():
    channel = Channel()
    channel.connect()
    connection = FakeConnection.made[-1]
    pika_channel = connection.open()
    pika_channel.on_close(pika_channel, "404 NOT_FOUND")
    assert connection.is_closing and channel.forgotten == 1
    connection.lose()
    assert len(channel.ioloop.timers) == 1
    assert channel.begin_stop() and not channel.begin_stop()
    assert channel.ioloop.timers == [] and not channel.ended
    channel.close()  # No connection left: closed at once.
    assert channel.ended


def test_a_server_named_queue_is_bound_once_the_broker_named_it():
    named, channel = [], FakeChannel()
    declare(channel, WS, DEAD, WS_GATEWAY, on_named=named.append)
    assert channel.declared == [WS.name, DEAD.name, ""]
    assert sorted(channel.bound) == [
        ("amq.gen-1", WS.name, "role.#"),
        ("amq.gen-1", WS.name, "user.#"),
        (DEAD.name, DLX.name, "#"),
    ]
    assert named == ["amq.gen-1"]


def outgoing(*ids):
    return [Outgoing(i, f"device.{i}.reading", b"{}") for i in ids]


def confirm(channel, tag, multiple=False, ack=True):
    kind = Basic.Ack if ack else Basic.Nack
    channel.confirms(Method(1, kind(delivery_tag=tag, multiple=multiple)))


def give_back(channel, message_id):
    method = Basic.Return(reply_code=312, reply_text="NO_ROUTE")
    channel.returned_to(
        channel, method, pika.BasicProperties(message_id=message_id), b""
    )


@pytest.fixture
def publisher():
    publisher = ConfirmedPublisher(
        pika.URLParameters("amqp://localhost/"), DATA, window=2
    )
    publisher.connection_class = FakeConnection
    publisher.ioloop = FakeLoop()
    return publisher


def test_publishes_a_window_at_a_time_and_keeps_what_the_broker_confirmed(publisher):
    def broker():  # What happens while publish() runs the I/O loop.
        channel = FakeConnection.made[-1].open()
        assert [p[2] for p in channel.published] == ["a", "b"]
        assert channel.published[0][:2] == (DATA.name, "device.a.reading")
        confirm(channel, 2, multiple=True)
        assert publisher.confirmed == {"a", "b"} and len(channel.published) == 3
        confirm(channel, 3)
        assert publisher.ioloop.stopped == 1  # Everything confirmed: it returns.

    publisher.ioloop.start = broker
    assert publisher.publish(outgoing("a", "b", "c")) == {"a", "b", "c"}
    assert publisher.resent == 0


def test_a_nacked_or_unroutable_message_is_resent_after_the_back_off(publisher):
    retried = []
    publisher.on_retry = lambda messages, why, delay: retried.append(
        ([m.message_id for m in messages], why, delay)
    )

    def broker():
        channel = FakeConnection.made[-1].open()
        give_back(channel, "a")
        confirm(channel, 1)
        confirm(channel, 2, ack=False)
        assert retried == [(["a"], "Unroutable (NO_ROUTE)", 1.0),
                           (["b"], "Nacked by the broker", 2.0)]  # fmt: skip
        assert publisher.confirmed == set() and len(channel.published) == 2
        publisher.ioloop.run_timers()
        assert [p[2] for p in channel.published[2:]] == ["a", "b"]
        confirm(channel, 4, multiple=True)

    publisher.ioloop.start = broker
    assert publisher.publish(outgoing("a", "b")) == {"a", "b"}
    assert publisher.resent == 2 and publisher.backoff.delay == 1.0


def test_what_a_lost_connection_left_unconfirmed_is_sent_again_on_the_next(
    publisher,
):
    def broker():
        first = FakeConnection.made[-1].open()
        confirm(first, 1)
        FakeConnection.made[-1].lose()
        publisher.ioloop.run_timers()
        second = FakeConnection.made[-1].open()
        assert [p[2] for p in second.published] == ["b", "c"]
        confirm(second, 2, multiple=True)

    publisher.ioloop.start = broker
    assert publisher.publish(outgoing("a", "b", "c")) == {"a", "b", "c"}
    assert (publisher.resent, publisher.connections) == (2, 2)


def test_a_stop_is_noticed_while_waiting_to_reconnect(publisher):
    stop = []

    def broker():
        FakeConnection.made[-1].lose()  # Never opened: waits to connect again.
        stop.append(True)
        publisher.ioloop.run_timers()  # The stop check, and the reconnect.

    publisher.ioloop.start = broker
    assert publisher.publish(outgoing("a"), stopped=lambda: bool(stop)) == set()
    assert publisher.ioloop.stopped == 1
