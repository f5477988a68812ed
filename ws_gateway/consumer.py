"""The ``ems.ws`` consumer of one gateway process, on Tornado's IOLoop.

Each process consumes a queue of its own, exclusive, auto-deleted and named by the
broker, bound with ``user.#`` and ``role.#``: every process sees every message and
delivers it to the sockets it holds, so any number of gateways can run side by side.
The queue lives as long as the connection; a message published while a process is
reconnecting does not reach that process's sockets. pika's ``TornadoConnection``
runs its callbacks on the IOLoop, the thread of the sockets, so none needs a hop.
"""

import asyncio
import logging
from collections.abc import Callable

import pika
from pika.adapters.tornado_connection import TornadoConnection
from tornado.ioloop import IOLoop

from services.common.messaging import MAX_REASON_LENGTH
from services.common.topology import DEAD, DLX, REASON_HEADER, SERVICE_HEADER, WS
from ws_gateway.routing import Undeliverable

log = logging.getLogger(__name__)

SERVICE = "ws_gateway"
BINDING_KEYS = ("user.#", "role.#")
#: Messages delivered and not yet acked; handling one only queues writes.
PREFETCH = 200
PERSISTENT = 2
MIN_BACKOFF, MAX_BACKOFF = 1.0, 10.0
#: Seconds a stop waits for the broker to close the connection.
STOP_TIMEOUT = 5.0


class Consumer:
    """Hands each message of ``ems.ws`` to ``handle(routing_key, body)``.

    ``handle`` raises ``Undeliverable`` for a message no socket can be given; that
    message goes to ``ems.dlx`` with the reason. Every message is then acked. The
    consumer reconnects by itself, waiting 1 s, then twice as long each time up to
    10 s, and declares a fresh queue each time.
    """

    def __init__(
        self,
        parameters: pika.connection.Parameters,
        handle: Callable[[str, bytes], None],
        prefetch: int = PREFETCH,
        ioloop: IOLoop | None = None,
    ):
        self.parameters = parameters
        self.handle = handle
        self.prefetch = prefetch
        self.ioloop = ioloop or IOLoop.current()
        self.queue: str | None = None
        self._connection = None
        self._channel = None
        self._stopping = False
        self._stopped = asyncio.Event()
        self._backoff = MIN_BACKOFF
        self._reconnect_timer = None

    @property
    def consuming(self) -> bool:
        return self.queue is not None

    def start(self) -> None:
        self._connect()

    async def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Close the connection (and with it the queue); return once closed."""
        self._stopping = True
        if self._reconnect_timer is not None:
            self.ioloop.remove_timeout(self._reconnect_timer)
            self._reconnect_timer = None
        connection = self._connection
        if connection is None:
            return
        if not (connection.is_closing or connection.is_closed):
            connection.close()
        try:
            await asyncio.wait_for(self._stopped.wait(), timeout)
        except TimeoutError:
            log.warning("AMQP connection did not close in %.0f s", timeout)

    # Connection, channel, queue.

    def _connect(self) -> None:
        self._reconnect_timer = None
        self._connection = TornadoConnection(
            self.parameters,
            on_open_callback=self._on_connection_open,
            on_open_error_callback=self._on_connection_lost,
            on_close_callback=self._on_connection_lost,
            custom_ioloop=self.ioloop,
        )

    def _on_connection_open(self, connection) -> None:
        connection.channel(on_open_callback=self._on_channel_open)

    def _on_channel_open(self, channel) -> None:
        self._channel = channel
        channel.add_on_close_callback(self._on_channel_closed)
        channel.add_on_cancel_callback(self._on_cancelled_by_broker)
        # pika sends a channel's synchronous methods one after another, so these
        # need no callbacks of their own: a failure closes the channel.
        for exchange in (WS, DLX):
            channel.exchange_declare(
                exchange=exchange.name,
                exchange_type=exchange.type,
                durable=exchange.durable,
            )
        channel.queue_declare(queue=DEAD.name, durable=DEAD.durable)
        channel.queue_bind(DEAD.name, DLX.name, routing_key=DEAD.routing_key)
        channel.queue_declare(
            queue="", exclusive=True, auto_delete=True, callback=self._on_queue_ok
        )

    def _on_queue_ok(self, frame) -> None:
        queue = frame.method.queue
        for key in BINDING_KEYS:
            self._channel.queue_bind(queue, WS.name, routing_key=key)
        self._channel.basic_qos(prefetch_count=self.prefetch)
        self._channel.basic_consume(
            queue, self._on_message, callback=lambda _frame: self._on_consume_ok(queue)
        )

    def _on_consume_ok(self, queue: str) -> None:
        self.queue = queue
        self._backoff = MIN_BACKOFF
        log.info("consuming %s through %s", WS.name, queue)

    def _on_cancelled_by_broker(self, _frame) -> None:
        # The queue was deleted under us: a new connection declares a new one.
        log.warning("queue %s went away; reconnecting", self.queue)
        self._channel.close()

    def _on_channel_closed(self, _channel, reason) -> None:
        self._channel = self.queue = None
        if self._connection and self._connection.is_open:
            if not self._stopping:
                log.warning("channel closed (%r); reconnecting", reason)
            self._connection.close()

    def _on_connection_lost(self, _connection, reason) -> None:
        self._connection = self._channel = self.queue = None
        if self._stopping:
            self._stopped.set()
            return
        delay, self._backoff = self._backoff, min(self._backoff * 2, MAX_BACKOFF)
        log.warning("AMQP connection lost (%r); reconnecting in %.0f s", reason, delay)
        self._reconnect_timer = self.ioloop.call_later(delay, self._connect)

    # Messages.

    def _on_message(self, channel, method, properties, body: bytes) -> None:
        try:
            self.handle(method.routing_key, body)
        except Undeliverable as exc:
            self._dead_letter(channel, method, properties, body, str(exc))
        except Exception as exc:
            # A bug here must not stop delivery to everyone else.
            log.exception("could not deliver a message of %s", method.routing_key)
            self._dead_letter(
                channel, method, properties, body, f"{type(exc).__name__}: {exc}"
            )
        channel.basic_ack(method.delivery_tag)

    def _dead_letter(self, channel, method, properties, body, reason: str) -> None:
        """Publish the message to ``ems.dlx`` with why, under its own key.

        Every gateway process holds a copy of each message, so each dead-letters
        its own: one bad message shows up once per process in ``ems.dead``. The
        publish is not confirmed; these are copies for diagnosis, and the
        publisher's original is gone either way.
        """
        log.warning("dead-lettering a message of %s: %s", method.routing_key, reason)
        headers = dict(properties.headers or {})
        headers[REASON_HEADER] = reason[:MAX_REASON_LENGTH]
        headers[SERVICE_HEADER] = SERVICE
        channel.basic_publish(
            DLX.name,
            method.routing_key,
            body,
            pika.BasicProperties(
                content_type=properties.content_type,
                content_encoding=properties.content_encoding,
                headers=headers,
                delivery_mode=PERSISTENT,
            ),
        )
