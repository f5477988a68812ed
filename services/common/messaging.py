"""Publishing and consuming on the platform's topic exchanges.

``Dispatcher`` publishes persistent messages with publisher confirms; ``Pusher``
publishes the catalogue's messages to browsers the same way. ``consume`` is
Nameko's queue consumer with the platform's failure policy: a handler that succeeds
acks after its effect is committed; a transient failure (the database or broker is
unreachable) is retried; anything else, and a body that is not JSON, is published to
``ems.dlx`` with the reason and then acked, so it is neither lost nor looped on. A
compressed or oversized body is dead-lettered the same way before it is decoded.
"""

import logging
from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

import eventlet
import kombu
from kombu.exceptions import OperationalError as BrokerUnavailable
from nameko.amqp.publish import get_connection, get_producer
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.exceptions import ContainerBeingKilled, RpcTimeout, UnknownService
from nameko.messaging import Consumer, Publisher, QueueConsumer
from sqlalchemy.exc import InterfaceError, OperationalError

from services.common import tracing
from services.common.envelope import (
    COMPRESSION_HEADER,
    MAX_BODY_BYTES,
    as_bytes,
    refusal,
)
from services.common.topology import (
    DEAD,
    DLX,
    EXCHANGE_HEADER,
    REASON_HEADER,
    SERVICE_HEADER,
    SYNC,
    WS,
    original_routing_key,
)

if TYPE_CHECKING:
    from services.common.pushes import Push

log = logging.getLogger(__name__)

#: Failures that may pass: the message is requeued after ``RETRY_DELAY`` seconds.
TRANSIENT_ERRORS = (
    OperationalError,
    InterfaceError,
    BrokerUnavailable,
    ConnectionError,
    TimeoutError,
    RpcTimeout,
    UnknownService,
)
RETRY_DELAY = 1.0
MAX_REASON_LENGTH = 500


class Dispatcher(Publisher):
    """``dispatch(routing_key, payload)`` on one exchange, persistent and confirmed."""

    def __init__(self, exchange, **options):
        super().__init__(exchange=exchange, **options)

    def get_dependency(self, worker_ctx):
        publish = super().get_dependency(worker_ctx)

        def dispatch(routing_key: str, payload: dict) -> None:
            publish(payload, routing_key=routing_key)

        return dispatch


class Pusher(Publisher):
    """``push(kind, payload, *user_ids, roles=None, now=None)``: a message of the
    catalogue (``services.common.pushes``) to browsers, on ``ems.ws``.

    ``payload`` is dumped with the type's schema into ``{type, data, ts}``, which is
    published, persistent and confirmed, once for each user named
    (``user.<id>.<type>``) and each role (``role.<ROLE>.<type>``; by default every
    role the type declares). A push the type does not allow raises ``InvalidPush``
    before anything is published.
    """

    def __init__(self, **options):
        super().__init__(exchange=WS, **options)

    def get_dependency(self, worker_ctx):
        publish = super().get_dependency(worker_ctx)

        def push(
            kind: "Push",
            payload,
            *user_ids: str,
            roles: Iterable[str] | None = None,
            now: datetime | None = None,
        ) -> None:
            routing_keys = kind.routing_keys(user_ids, roles)
            message = kind.message(payload, now)
            for routing_key in routing_keys:
                publish(message, routing_key=routing_key)

        return push


def dead_letter(amqp_uri: str, message, reason: str, service: str) -> None:
    """Publish ``message`` unchanged to ``ems.dlx`` with why and who rejected it."""
    dead_letter_all(amqp_uri, [(message, reason)], service)


def dead_letter_all(amqp_uri: str, rejected: list, service: str) -> None:
    """``dead_letter`` for each ``(message, reason)``, in one broker transaction.

    The commit returns once the broker holds them all, as a publisher confirm
    would, but a batch's rejections cost one round trip to the broker's disk
    instead of one each: a poison reading costs about what a good one costs.
    """
    with get_connection(amqp_uri) as connection:
        channel = connection.channel()
        try:
            producer = kombu.Producer(channel)
            channel.tx_select()
            for message, reason in rejected:
                producer.publish(
                    message.body,
                    exchange=DLX,
                    routing_key=original_routing_key(
                        message.headers, message.delivery_info.get("routing_key", "")
                    ),
                    headers=rejection_headers(message, reason, service),
                    content_type=message.content_type,
                    content_encoding=message.content_encoding,
                    delivery_mode=2,
                    declare=[DLX, DEAD],
                )
            channel.tx_commit()
        finally:
            channel.close()


def rejection_headers(message, reason: str, service: str) -> dict:
    headers = dict(message.headers or {})
    headers[REASON_HEADER] = reason[:MAX_REASON_LENGTH]
    headers[SERVICE_HEADER] = service
    # Where it was published, so that it can be replayed there; a reading the
    # balancer forwarded came through the default exchange and names none.
    exchange = message.delivery_info.get("exchange")
    if exchange and EXCHANGE_HEADER not in headers:
        headers[EXCHANGE_HEADER] = exchange
    return headers


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def republish(
    amqp_uri: str,
    exchange: str,
    routing_key: str,
    body: bytes,
    headers: dict,
    content_type: str | None,
    content_encoding: str | None,
) -> None:
    """Publish ``body`` as it is, persistent and confirmed (a dead letter's replay)."""
    with get_producer(amqp_uri) as producer:
        producer.publish(
            body,
            exchange=exchange,
            routing_key=routing_key,
            headers=headers,
            content_type=content_type,
            content_encoding=content_encoding,
            delivery_mode=2,
            retry=True,
        )


def undecoded(channel, raw):
    """kombu's message for a frame from the broker, its body as it came: kombu
    inflates a compressed body while it builds the message, unless it is built
    without the compression header, which is then given back."""
    properties = raw.properties
    headers = properties.get("application_headers") or {}
    properties["application_headers"] = {
        key: value for key, value in headers.items() if key != COMPRESSION_HEADER
    }
    try:
        message = channel.message_to_python(raw)
    finally:
        properties["application_headers"] = headers
    message.headers = headers
    return message


class ScreeningConsumer(kombu.Consumer):
    """A kombu consumer that refuses compressed and oversized messages unread.

    kombu inflates a compressed body while it turns the frame into a message, before
    any callback runs, so the check comes first, on the raw frame.
    """

    max_bytes = MAX_BODY_BYTES
    on_refused = None

    def _receive_callback(self, raw):
        properties = getattr(raw, "properties", None)
        if properties is None or self.on_refused is None:
            return super()._receive_callback(raw)
        headers = properties.get("application_headers") or {}
        size = len(as_bytes(raw.body, properties.get("content_encoding")))
        reason = refusal(headers, size, self.max_bytes)
        if reason is None:
            return super()._receive_callback(raw)
        self.on_refused(undecoded(self.channel, raw), reason)


#: What acking or requeueing raises when the connection went meanwhile.
CONNECTION_LOST = (OSError, BrokerUnavailable)


class SettlingQueueConsumer(QueueConsumer):
    """Nameko's queue consumer, whose ack or requeue on a connection that has just
    gone logs it and goes on: the broker redelivers every message it did not get an
    ack for, and a redelivered message counts once. Nameko ignores only py-amqp's
    ``ConnectionError`` (a connection known to be closed); the socket's own (a
    reset, a broken pipe) and kombu's would escape the worker and stop the whole
    service."""

    def ack_message(self, message):
        self._settle(message, super().ack_message, "ack")

    def requeue_message(self, message):
        self._settle(message, super().requeue_message, "requeue")

    @staticmethod
    def _settle(message, settle, action: str) -> None:
        try:
            settle(message)
        except CONNECTION_LOST as exc:
            log.warning(
                "connection lost before the %s of a message of %s (redelivered): %s",
                action,
                message.delivery_info.get("routing_key", ""),
                describe(exc),
            )


class DeadLetteringQueueConsumer(SettlingQueueConsumer):
    """The settling queue consumer, which also dead-letters bodies it cannot decode
    and those refused unread (``MAX_BODY_BYTES``, default 64 KiB; any compressed
    one)."""

    def get_consumers(self, consumer_cls, channel):
        if isinstance(consumer_cls, partial):
            consumer_cls = partial(
                ScreeningConsumer, *consumer_cls.args, **consumer_cls.keywords
            )
        consumers = super().get_consumers(consumer_cls, channel)
        max_bytes = int(self.container.config.get("MAX_BODY_BYTES", MAX_BODY_BYTES))
        for provider, consumer in self._consumers.items():
            consumer.on_decode_error = provider.handle_decode_error
            consumer.on_refused = provider.reject
            consumer.max_bytes = max_bytes
        return consumers


class ReliableConsumer(Consumer):
    queue_consumer = DeadLetteringQueueConsumer()

    @property
    def amqp_uri(self):
        return self.container.config[AMQP_URI_CONFIG_KEY]

    def reject(self, message, reason: str) -> None:
        self.reject_all([(message, reason)])

    def reject_all(self, rejected: list) -> None:
        """Dead-letter each ``(message, reason)``, then ack them."""
        if not rejected:
            return
        try:
            dead_letter_all(self.amqp_uri, rejected, self.container.service_name)
        except Exception:
            # The rejections could not be stored: keep the messages in their
            # queue rather than lose them.
            log.exception(
                "could not dead-letter %d messages; requeueing", len(rejected)
            )
            for message, _ in rejected:
                self.queue_consumer.requeue_message(message)
            return
        for message, reason in rejected:
            log.warning("dead-lettered a message of %s: %s", self.queue.name, reason)
            self.queue_consumer.ack_message(message)

    def handle_decode_error(self, message, exc):
        self.reject(message, f"undecodable body: {describe(exc)}")

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return
        exc = exc_info[1]
        if isinstance(exc, TRANSIENT_ERRORS):
            log.warning(
                "transient failure on %s, retrying: %s", self.queue.name, describe(exc)
            )
            eventlet.sleep(RETRY_DELAY)
            self.queue_consumer.requeue_message(message)
        else:
            self.reject(message, describe(exc))


consume = ReliableConsumer.decorator


class KeyedConsumer(ReliableConsumer):
    """``ReliableConsumer`` whose handler also gets the routing key the message was
    published with, ``handler(body, routing_key)``: for messages whose key says
    who sent them (a device's acks, ``ems.devices.<id>.acks``), which the broker
    vouches for and a body cannot."""

    def handle_message(self, body, message):
        routing_key = original_routing_key(
            message.headers, message.delivery_info.get("routing_key", "")
        )
        try:
            self.container.spawn_worker(
                self,
                (body, routing_key),
                {},
                # Not the message's ``nameko.*`` headers: whoever published it (a
                # device) would set the worker's context, and so the headers of
                # everything the worker publishes. Only the correlation id of a
                # message of ``ems.sync``, which only services publish to.
                context_data=trusted_context(message),
                handle_result=partial(self.handle_result, message),
            )
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)


consume_keyed = KeyedConsumer.decorator


def trusted_context(message) -> dict:
    """What a worker may take of a message's context: the correlation id of a
    message published to ``ems.sync`` (by a service, which the broker's
    permissions vouch for), nothing of one a device may have published."""
    # The exchange the broker says it came through, never a header a publisher
    # could set.
    if message.delivery_info.get("exchange") != SYNC.name:
        return {}
    correlation_id = tracing.sane((message.headers or {}).get(tracing.AMQP_HEADER))
    return {tracing.CONTEXT_KEY: correlation_id} if correlation_id else {}


class RawMessage(NamedTuple):
    """A message as it came, never decoded nor inflated."""

    body: bytes
    headers: dict
    exchange: str
    routing_key: str
    content_type: str | None
    content_encoding: str | None


class RawConsumer(kombu.Consumer):
    """A kombu consumer that hands on every message undecoded."""

    on_raw = None

    def _receive_callback(self, raw):
        return self.on_raw(undecoded(self.channel, raw))


class RawQueueConsumer(SettlingQueueConsumer):
    def get_consumers(self, consumer_cls, channel):
        consumers = super().get_consumers(
            partial(RawConsumer, *consumer_cls.args, **consumer_cls.keywords), channel
        )
        for provider, consumer in self._consumers.items():
            consumer.on_raw = partial(self.handle_message, provider, None)
        return consumers


class RawMessageConsumer(Consumer):
    """Hands its handler each message as a ``RawMessage``: for a queue of messages
    that may be anything (``ems.dead``). Success acks; any failure requeues after
    ``RETRY_DELAY``, since such a queue's messages have nowhere further to go."""

    queue_consumer = RawQueueConsumer()

    def handle_message(self, body, message):
        raw = RawMessage(
            as_bytes(message.body, message.content_encoding),
            dict(message.headers or {}),
            message.delivery_info.get("exchange", ""),
            message.delivery_info.get("routing_key", ""),
            message.content_type,
            message.content_encoding,
        )
        super().handle_message(raw, message)

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return
        log.warning(
            "could not keep a message of %s, retrying: %s",
            self.queue.name,
            describe(exc_info[1]),
        )
        eventlet.sleep(RETRY_DELAY)
        self.queue_consumer.requeue_message(message)


consume_raw = RawMessageConsumer.decorator
