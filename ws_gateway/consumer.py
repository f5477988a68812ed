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

from services.common.amqp import ReconnectingChannel, declare
from services.common.messaging import MAX_REASON_LENGTH
from services.common.topology import (
    DEAD,
    DLX,
    REASON_HEADER,
    SERVICE_HEADER,
    WS,
    WS_GATEWAY,
)
from ws_gateway.routing import Undeliverable

log = logging.getLogger(__name__)

SERVICE = "ws_gateway"
#: Messages delivered and not yet acked; handling one only queues writes.
PREFETCH = 200
PERSISTENT = 2
#: Seconds a stop waits for the broker to close the connection.
STOP_TIMEOUT = 5.0


class TornadoChannel(ReconnectingChannel):
    """A ``ReconnectingChannel`` on Tornado's IOLoop, started and stopped with the
    server: ``start()``, and ``await stop()``, which returns once the connection
    is closed."""

    connection_class = TornadoConnection

    def __init__(
        self, parameters: pika.connection.Parameters, ioloop: IOLoop | None = None
    ):
        super().__init__(parameters, ioloop or IOLoop.current())
        self._stopped = asyncio.Event()

    @property
    def consuming(self) -> bool:
        return self.queue is not None

    def start(self) -> None:
        self.connect()

    async def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Close the connection (and with it the queue); return once closed."""
        self.begin_stop()
        if self._connection is None:
            return
        self.close()
        try:
            await asyncio.wait_for(self._stopped.wait(), timeout)
        except TimeoutError:
            log.warning("AMQP connection did not close in %.0f s", timeout)

    def closed(self) -> None:
        self._stopped.set()


class Consumer(TornadoChannel):
    """Hands each message of ``ems.ws`` to ``handle(routing_key, body, headers)``.

    ``handle`` raises ``Undeliverable`` for a message no socket can be given; that
    message goes to ``ems.dlx`` with the reason. Every message is then acked. The
    consumer reconnects by itself, waiting 1 s, then twice as long each time up to
    10 s, and declares a fresh queue each time.
    """

    def __init__(
        self,
        parameters: pika.connection.Parameters,
        handle: Callable[[str, bytes, dict], None],
        prefetch: int = PREFETCH,
        ioloop: IOLoop | None = None,
    ):
        super().__init__(parameters, ioloop)
        self.handle = handle
        self.prefetch = prefetch

    # The channel and its queue.

    def channel_opened(self, channel) -> None:
        declare(channel, WS, DLX, DEAD, WS_GATEWAY, on_named=self._on_queue_named)

    def _on_queue_named(self, queue: str) -> None:
        self._channel.basic_qos(prefetch_count=self.prefetch)
        self._channel.basic_consume(
            queue, self._on_message, callback=lambda _frame: self._on_consume_ok(queue)
        )

    def _on_consume_ok(self, queue: str) -> None:
        self.queue = queue
        self.ready()
        log.info("consuming %s through %s", WS.name, queue)

    def forget(self) -> None:
        self.queue = None

    # Messages.

    def _on_message(self, channel, method, properties, body: bytes) -> None:
        try:
            self.handle(method.routing_key, body, properties.headers or {})
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
