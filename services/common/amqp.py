"""Connecting the plain pika processes (balancer, ws_gateway, simulator, bursts)
to RabbitMQ, the one way. Nameko services connect through Nameko and kombu.

``ReconnectingChannel`` is one channel on pika's asynchronous connection that opens
again, after a ``Backoff``, whenever it or its connection is lost: the balancer's
relay and the WebSocket gateway's consumer are made of it. ``ConfirmedPublisher``
is one too, and publishes messages until the broker confirmed each of them.
"""

import logging
import logging.config
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import pika
from kombu import Exchange, Queue
from pika.adapters.select_connection import IOLoop
from pika.spec import Basic

log = logging.getLogger(__name__)

#: A broker short of memory or disk blocks publishers without a word; give up on
#: such a connection after this many seconds and retry rather than wait forever.
BLOCKED_CONNECTION_TIMEOUT = 60


def pika_parameters(amqp_uri: str, connection_name: str) -> pika.URLParameters:
    """pika's parameters for the platform's ``AMQP_URI``.

    kombu spells the protocol ``pyamqp://`` (as Nameko's test broker URI does); it is
    plain AMQP. ``connection_name`` is how the management UI lists the connection.
    """
    scheme, _, rest = amqp_uri.partition("://")
    if scheme in ("pyamqp", "librabbitmq"):
        scheme = "amqp"
    parameters = pika.URLParameters(f"{scheme}://{rest}")
    parameters.blocked_connection_timeout = BLOCKED_CONNECTION_TIMEOUT
    parameters.client_properties = {"connection_name": connection_name}
    return parameters


def configure_logging(conf: dict, quiet: tuple[str, ...] = ("pika",)) -> None:
    """Log lines as the Nameko services write them (the process's ``LOGGING``,
    each line with its correlation id). The ``quiet`` libraries (pika, which
    reports every step of a failed connection attempt as an error) log only at
    DEBUG: the processes log a lost connection once, with its reason, and each
    retry."""
    logging.config.dictConfig(conf["LOGGING"])
    level = str(conf["LOG_LEVEL"]).upper()
    for library in quiet:
        logging.getLogger(library).setLevel(
            logging.DEBUG if level == "DEBUG" else logging.CRITICAL
        )


def vhost_of(uri: str) -> str:
    """The virtual host an AMQP URI names (``/`` when it names none)."""
    path = urlsplit(uri).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def with_login(uri: str, user: str, password: str, vhost: str | None = None) -> str:
    """``uri`` (AMQP, or the management API's) logged in as ``user`` instead, and in
    ``vhost`` if one is named."""
    parts = urlsplit(uri)
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@"
    netloc += parts.hostname or "127.0.0.1"
    if parts.port:
        netloc += f":{parts.port}"
    path = parts.path if vhost is None else "/" + quote(vhost, safe="")
    return urlunsplit((parts.scheme or "amqp", netloc, path, parts.query, ""))


class Backoff:
    """Delays between attempts: ``first`` seconds, doubling up to ``most``, and
    ``first`` again after a success (``reset``)."""

    def __init__(self, first: float = 1.0, most: float = 10.0):
        self.first, self.most = first, most
        self.delay = first

    def next(self) -> float:
        delay, self.delay = self.delay, min(self.delay * 2, self.most)
        return delay

    def reset(self) -> None:
        self.delay = self.first


def declare(channel, *entities: Exchange | Queue, on_named=None) -> None:
    """Declare the topology's ``entities`` on a pika channel, in order: exchanges,
    and queues with their bindings.

    pika sends a channel's synchronous methods one after another, so none waits
    for the one before: a failure closes the channel. A queue without a name is
    named by the broker; ``on_named(name)`` is called once it is declared and bound.
    """
    for entity in entities:
        if isinstance(entity, Exchange):
            channel.exchange_declare(
                exchange=entity.name,
                exchange_type=entity.type,
                durable=entity.durable,
                auto_delete=entity.auto_delete,
                arguments=entity.arguments or None,
            )
            continue
        options = dict(
            durable=entity.durable,
            exclusive=entity.exclusive,
            auto_delete=entity.auto_delete,
            arguments=entity.queue_arguments or None,
        )
        if entity.name:
            channel.queue_declare(queue=entity.name, **options)
            _bind(channel, entity, entity.name)
        else:

            def named(frame, queue=entity):
                _bind(channel, queue, frame.method.queue)
                if on_named is not None:
                    on_named(frame.method.queue)

            channel.queue_declare(queue="", callback=named, **options)


def _bind(channel, queue: Queue, name: str) -> None:
    bound = queue.bindings or (
        [queue] if queue.exchange and queue.exchange.name else []
    )
    for binding in bound:
        channel.queue_bind(
            queue=name, exchange=binding.exchange.name, routing_key=binding.routing_key
        )


class ReconnectingChannel:
    """One channel on pika's asynchronous connection (``connection_class``, on
    ``ioloop``), opened again whenever it or its connection is lost: after
    ``backoff`` for a lost connection, at once for a lost channel (its connection is
    closed, and so lost, too).

    A subclass sets the channel up in ``channel_opened`` and calls ``ready()`` once
    it works, which resets the back-off; ``forget()`` drops what belonged to a
    channel that is gone. ``begin_stop()`` ends the reconnecting, ``close()`` the
    connection, and ``closed()`` is called once it is closed.
    """

    connection_class: type = pika.SelectConnection
    #: The queue consumed, if any: the broker cancels a consumer whose queue was
    #: deleted, and a new channel declares it again.
    queue: str | None = None

    def __init__(self, parameters: pika.connection.Parameters, ioloop, backoff=None):
        self.parameters = parameters
        self.ioloop = ioloop
        self.backoff = backoff or Backoff()
        self.log = logging.getLogger(type(self).__module__)
        self._connection = None
        self._channel = None
        self._stopping = False
        self._reconnect_timer = None
        self._ready = False

    @property
    def is_ready(self) -> bool:
        """Whether the channel works (``ready()`` since it last opened)."""
        return self._ready

    def connect(self) -> None:
        self._reconnect_timer = None
        self._connection = self.connection_class(
            self.parameters,
            on_open_callback=self._on_connection_open,
            on_open_error_callback=self._on_connection_lost,
            on_close_callback=self._on_connection_lost,
            custom_ioloop=self.ioloop,
        )

    def begin_stop(self) -> bool:
        """Reconnect no more; False if a stop had begun already."""
        if self._stopping:
            return False
        self._stopping = True
        if self._reconnect_timer is not None:
            self.ioloop.remove_timeout(self._reconnect_timer)
            self._reconnect_timer = None
        return True

    def close(self) -> None:
        """Close the connection; ``closed()`` follows once it is."""
        if self._connection is None:
            self.closed()
        elif not (self._connection.is_closing or self._connection.is_closed):
            self._connection.close()

    # What a subclass does.

    def channel_opened(self, channel) -> None:
        raise NotImplementedError

    def ready(self) -> None:
        """The channel works: the next loss waits ``backoff.first`` again."""
        self._ready = True
        self.backoff.reset()

    def forget(self) -> None:
        """The channel is gone, and with it what the broker had not settled."""

    def closed(self) -> None:
        """The connection closed after ``begin_stop()``."""

    # pika's callbacks.

    def _on_connection_open(self, connection) -> None:
        connection.channel(on_open_callback=self._on_channel_open)

    def _on_channel_open(self, channel) -> None:
        self._channel = channel
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_cancel_callback(self._on_cancelled_by_broker)
        self.channel_opened(channel)

    def _on_cancelled_by_broker(self, _frame) -> None:
        self.log.warning("queue %s went away; reconnecting", self.queue)
        self._channel.close()

    def _on_channel_closed(self, _channel, reason) -> None:
        self._channel = None
        self._ready = False
        self.forget()
        if self._connection and self._connection.is_open:
            if not self._stopping:
                self.log.warning("channel closed (%r); reconnecting", reason)
            self._connection.close()

    def _on_connection_lost(self, _connection, reason) -> None:
        self._connection = self._channel = None
        self._ready = False
        self.forget()
        if self._stopping:
            self.closed()
            return
        delay = self.backoff.next()
        self.log.warning(
            "AMQP connection lost (%r); reconnecting in %.1f s", reason, delay
        )
        self._reconnect_timer = self.ioloop.call_later(delay, self.connect)


@dataclass(frozen=True)
class Outgoing:
    """A message for ``ConfirmedPublisher``, told apart by its ``message_id``."""

    message_id: str
    routing_key: str
    body: bytes
    content_type: str = "application/json"
    content_encoding: str | None = "utf-8"

    @property
    def properties(self) -> pika.BasicProperties:
        return pika.BasicProperties(
            content_type=self.content_type,
            content_encoding=self.content_encoding,
            delivery_mode=pika.DeliveryMode.Persistent,
            message_id=self.message_id,
        )


Retry = Callable[[list[Outgoing], str, float], None]


class ConfirmedPublisher(ReconnectingChannel):
    """Publishes messages to ``exchange``, persistent and mandatory, with up to
    ``window`` of them unconfirmed at once (publisher confirms, pipelined), until
    the broker confirmed each.

    A message the broker refused (nack), returned as unroutable, or never confirmed
    before the connection was lost is sent again, unchanged, after the back-off;
    ``on_retry(messages, reason, delay)`` hears of it (by default, the log). It may
    arrive twice: its ``message_id`` lets the consumer count it once.
    """

    #: Seconds between looks at whether a stop was requested.
    STOP_CHECK = 0.1

    def __init__(
        self,
        parameters: pika.connection.Parameters,
        exchange: Exchange,
        window: int = 1000,
        declare_exchange: bool = False,
        backoff: Backoff | None = None,
        on_retry: Retry | None = None,
    ):
        super().__init__(parameters, IOLoop(), backoff)
        self.exchange = exchange
        self.window = window
        self.declare_exchange = declare_exchange
        self.on_retry = on_retry or self._log_retry
        #: Ids of the messages the broker took responsibility for.
        self.confirmed: set[str] = set()
        #: Messages sent again; connections opened.
        self.resent = self.connections = 0
        self._todo: deque[Outgoing] = deque()
        self._waiting: list[Outgoing] = []
        self._pending: OrderedDict[int, Outgoing] = OrderedDict()
        self._returned: dict[str, str] = {}
        self._sequence = 0
        self._confirming = None
        self._retry_timer = None

    def publish(
        self,
        messages: Iterable[Outgoing],
        timeout: float | None = None,
        stopped: Callable[[], bool] = lambda: False,
    ) -> set[str]:
        """Run until every one of ``messages`` is confirmed, ``timeout`` seconds
        have passed, or ``stopped()`` is true while the publisher waits to resend or
        to reconnect; the ids of those confirmed. After a timeout or a stop, the
        publisher is to be closed."""
        messages = list(messages)
        self._todo.extend(messages)
        if self._connection is None and self._reconnect_timer is None:
            self.connect()
        else:
            self._send()
        timers = {}

        def expire():
            del timers["deadline"]
            self.ioloop.stop()

        def look():
            if stopped() and (self._retry_timer or self._confirming is None):
                timers.pop("look", None)
                self.ioloop.stop()
            else:
                timers["look"] = self.ioloop.call_later(self.STOP_CHECK, look)

        if timeout is not None:
            timers["deadline"] = self.ioloop.call_later(timeout, expire)
        look()
        if not self._finished:
            self.ioloop.start()
        for timer in timers.values():
            self.ioloop.remove_timeout(timer)
        self._todo.clear()
        return {m.message_id for m in messages} & self.confirmed

    def keepalive(self) -> None:
        """Serve the connection (heartbeats) between publishes."""
        if self._connection is not None:
            self.ioloop.call_later(0, self.ioloop.stop)
            self.ioloop.start()

    def close(self) -> None:
        """Close the connection and wait until it is closed."""
        self.begin_stop()
        if self._retry_timer is not None:
            self.ioloop.remove_timeout(self._retry_timer)
            self._retry_timer = None
        if self._connection is not None:
            super().close()
            while self._connection is not None:
                self.ioloop.start()  # closed() stops it

    def closed(self) -> None:
        self.ioloop.stop()

    @property
    def _finished(self) -> bool:
        return not (self._todo or self._waiting or self._pending)

    def channel_opened(self, channel) -> None:
        self.connections += 1
        channel.add_on_return_callback(self._on_return)
        if self.declare_exchange:
            declare(channel, self.exchange)
        channel.confirm_delivery(
            self._on_confirm, callback=lambda _frame: self._confirm_mode(channel)
        )

    def _confirm_mode(self, channel) -> None:
        self._confirming = channel
        self._sequence = 0
        self._send()

    def forget(self) -> None:
        # Unconfirmed on a channel that is gone: sent again on the next one.
        unconfirmed = list(self._pending.values())
        self.resent += len(unconfirmed)
        self._todo.extendleft(reversed(unconfirmed))
        self._pending.clear()
        self._returned.clear()
        self._confirming = None

    def _send(self) -> None:
        channel = self._confirming
        while channel is not None and len(self._pending) < self.window and self._todo:
            message = self._todo.popleft()
            channel.basic_publish(
                self.exchange.name,
                message.routing_key,
                message.body,
                message.properties,
                mandatory=True,
            )
            self._sequence += 1  # The broker numbers a channel's publishes alike.
            self._pending[self._sequence] = message

    def _on_return(self, _channel, method, properties, _body) -> None:
        # Returned before its confirm: that confirm does not mean it is kept.
        self._returned[properties.message_id] = method.reply_text

    def _on_confirm(self, frame) -> None:
        method = frame.method
        if method.multiple:
            tags = [tag for tag in self._pending if tag <= method.delivery_tag]
        else:
            tags = [method.delivery_tag]
        failed, reason = [], "Nacked by the broker"
        for tag in tags:
            message = self._pending.pop(tag, None)
            if message is None:
                continue
            returned = self._returned.pop(message.message_id, None)
            if isinstance(method, Basic.Ack) and returned is None:
                self.confirmed.add(message.message_id)
                self.ready()
            else:
                failed.append(message)
                if returned is not None:
                    reason = f"Unroutable ({returned})"
        if failed:
            self._retry(failed, reason)
        self._send()
        if self._finished:
            self.ioloop.stop()

    def _retry(self, messages: list[Outgoing], reason: str) -> None:
        delay = self.backoff.next()
        self.on_retry(messages, reason, delay)
        self.resent += len(messages)
        self._waiting.extend(messages)
        if self._retry_timer is None:
            self._retry_timer = self.ioloop.call_later(delay, self._resend)

    def _resend(self) -> None:
        self._retry_timer = None
        self._todo.extendleft(reversed(self._waiting))
        self._waiting.clear()
        self._send()

    def _log_retry(self, messages: list[Outgoing], reason: str, delay: float):
        self.log.warning(
            "%d messages not confirmed (%s); resending in %.1f s",
            len(messages),
            reason,
            delay,
        )
