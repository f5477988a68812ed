"""The round-robin relay from ``balancer.raw`` to the monitoring ingest queues.

A reading is acked on ``balancer.raw`` only after the broker has confirmed its
forward, so none is lost between the two queues: after a crash the broker redelivers
the unconfirmed ones (at least once; the ingest consumers are idempotent).
``Ledger`` is the bookkeeping, free of I/O; ``Relay`` drives it with pika's
asynchronous ``SelectConnection``, so confirms are pipelined rather than awaited one
by one.
"""

import copy
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pika
from pika.adapters.select_connection import IOLoop
from pika.spec import Basic

from services.common.amqp import ReconnectingChannel, declare
from services.common.envelope import MAX_BODY_BYTES, refusal
from services.common.metrics import READINGS_RECEIVED
from services.common.topology import (
    BALANCER_RAW,
    DATA,
    DEAD,
    DLX,
    REASON_HEADER,
    RECEIVED_AT_HEADER,
    ROUTING_KEY_HEADER,
    SERVICE_HEADER,
    ingest_queue_named,
    original_routing_key,
    reading_path,
)

log = logging.getLogger(__name__)

SERVICE = "balancer"
UNROUTABLE_REASON = "unroutable: no ingest queue"
PERSISTENT = 2
#: The target of a publish to the dead-letter exchange.
DEAD_LETTER = None
#: Seconds before a reading that not even ``ems.dead`` takes is requeued, so that a
#: missing dead-letter queue costs a retry a second rather than a busy loop.
REQUEUE_DELAY = 1.0


@dataclass(eq=False)
class Reading:
    """A message delivered from ``balancer.raw`` and not yet acked there."""

    delivery_tag: int
    routing_key: str
    body: bytes
    properties: Any
    #: The targets it was sent to, in order; all but the last returned it.
    tried: list[str] = field(default_factory=list)
    #: Why it goes to ``ems.dlx`` unread (compressed, oversized), if it does.
    refused: str | None = None
    #: When the balancer took it (epoch seconds): ``x-ems-received-at`` forwarded.
    received_at: float | None = None


@dataclass(eq=False)
class Forward:
    """One publish of a reading, awaiting the broker's confirm."""

    reading: Reading
    target: str | None
    exchange: str
    routing_key: str
    returned: bool = False


@dataclass(frozen=True)
class Ack:
    """The reading is safely in ``target`` (``DEAD_LETTER``: in ``ems.dlx``)."""

    reading: Reading
    target: str | None


@dataclass(frozen=True)
class Publish:
    """Send the reading again, to ``target`` (``DEAD_LETTER``: to ``ems.dlx``)."""

    reading: Reading
    target: str | None


@dataclass(frozen=True)
class Requeue:
    """Give the reading back to ``balancer.raw`` after ``delay`` seconds."""

    reading: Reading
    delay: float = 0.0


class Ledger:
    """Which target comes next, and what each confirm from the broker settles.

    Publishes on a confirm-mode channel are numbered 1, 2, … by the broker; the
    ledger numbers them alike and keeps each one's reading until its confirm comes.
    """

    def __init__(self, targets: list[str], dead_letter_exchange: str = DLX.name):
        if not targets or len(set(targets)) != len(targets):
            raise ValueError(f"need distinct target queues, got {targets!r}")
        self.targets = list(targets)
        self.dead_letter_exchange = dead_letter_exchange
        self._turn = 0
        self._sequence = 0
        self._pending: dict[int, Forward] = {}
        self.forwarded: Counter[str] = Counter({target: 0 for target in targets})
        self.dead_lettered = 0
        self.requeued = 0
        self.returned_count = 0

    @property
    def outstanding(self) -> int:
        """Publishes the broker has not confirmed yet."""
        return len(self._pending)

    def next_target(self) -> str:
        target = self.targets[self._turn]
        self._turn = (self._turn + 1) % len(self.targets)
        return target

    def route(self, reading: Reading, target: str | None) -> tuple[str, str]:
        """``(exchange, routing key)`` of a publish of ``reading`` to ``target``."""
        if target is DEAD_LETTER:
            # Dead letters keep their original key, as every consumer's do.
            return self.dead_letter_exchange, reading.routing_key
        return "", target  # The default exchange routes to the queue named so.

    def sent(self, reading: Reading, target: str | None) -> int:
        """Record a publish just made; return its sequence number."""
        self._sequence += 1
        exchange, routing_key = self.route(reading, target)
        self._pending[self._sequence] = Forward(reading, target, exchange, routing_key)
        if target is not DEAD_LETTER:
            reading.tried.append(target)
        return self._sequence

    def returned(
        self, exchange: str, routing_key: str, body: bytes, message_id: str | None
    ) -> bool:
        """Mark the publish the broker returned as unroutable; False if none fits.

        A Basic.Return carries no sequence number. The broker returns messages in
        the order they were published, and always before their confirm, so it is
        the earliest unconfirmed, unreturned publish with the same route and
        content. Two readings alike in all that are interchangeable.
        """
        for forward in self._pending.values():
            if (
                not forward.returned
                and forward.exchange == exchange
                and forward.routing_key == routing_key
                and forward.reading.body == body
                and getattr(forward.reading.properties, "message_id", None)
                == message_id
            ):
                forward.returned = True
                self.returned_count += 1
                return True
        return False

    def acked(self, sequence: int, multiple: bool) -> list[Ack | Publish | Requeue]:
        """What to do now that the broker confirmed ``sequence`` (and, with
        ``multiple``, every publish before it)."""
        actions = []
        for forward in self._settle(sequence, multiple):
            reading, target = forward.reading, forward.target
            if not forward.returned:
                if target is DEAD_LETTER:
                    self.dead_lettered += 1
                else:
                    self.forwarded[target] += 1
                actions.append(Ack(reading, target))
            elif target is not DEAD_LETTER:
                actions.append(Publish(reading, self._fallback(reading)))
            else:
                self.requeued += 1
                actions.append(Requeue(reading, REQUEUE_DELAY))
        return actions

    def nacked(self, sequence: int, multiple: bool) -> list[Requeue]:
        """What to do now that the broker refused ``sequence`` (and, with
        ``multiple``, every publish before it): requeue their readings."""
        settled = self._settle(sequence, multiple)
        self.requeued += len(settled)
        return [Requeue(forward.reading) for forward in settled]

    def reset(self) -> None:
        """Forget every publish: the channel is gone, and with it the readings,
        which the broker delivers again."""
        self._pending.clear()
        self._sequence = 0

    def counters(self) -> dict:
        return {
            "forwarded": dict(self.forwarded),
            "dead_lettered": self.dead_lettered,
            "requeued": self.requeued,
            "returned": self.returned_count,
        }

    def _settle(self, sequence: int, multiple: bool) -> list[Forward]:
        if not multiple:
            forward = self._pending.pop(sequence, None)
            return [forward] if forward else []
        # Sequence numbers are issued in increasing order, so the dict is sorted.
        settled = []
        for number in list(self._pending):
            if number > sequence:
                break
            settled.append(self._pending.pop(number))
        return settled

    def _fallback(self, reading: Reading) -> str | None:
        """The next target after the one that returned ``reading`` that has not
        returned it yet, or ``DEAD_LETTER`` once every target has."""
        last = self.targets.index(reading.tried[-1])
        for step in range(1, len(self.targets)):
            candidate = self.targets[(last + step) % len(self.targets)]
            if candidate not in reading.tried:
                return candidate
        return DEAD_LETTER


def declare_topology(channel, targets: list[str]) -> None:
    """Declare what the relay uses, as ``services.common.topology`` defines it: the
    targets are named by configuration, declared as the topology declares an
    ingest queue, so that the monitoring workers' declarations agree."""
    declare(channel, DATA, DLX, BALANCER_RAW, DEAD, *map(ingest_queue_named, targets))


def forwarded_properties(
    properties,
    target: str | None,
    routing_key: str,
    refused: str | None = None,
    received_at: float | None = None,
):
    """The reading's properties, persistent, with the routing key it was published
    with (an ingest queue receives it under its own name) and when the balancer
    received it (``received_at``, if given), and the dead-letter headers added
    when ``target`` is ``DEAD_LETTER`` (the reason: ``refused``, or that no ingest
    queue took it)."""
    properties = copy.copy(properties) if properties else pika.BasicProperties()
    properties.delivery_mode = PERSISTENT
    properties.headers = {
        **(properties.headers or {}),
        ROUTING_KEY_HEADER: original_routing_key(properties.headers, routing_key),
    }
    if received_at is not None:
        # As text: pika cannot put a float in a header, and its decimals are 32-bit.
        properties.headers[RECEIVED_AT_HEADER] = f"{received_at:.6f}"
    if target is DEAD_LETTER:
        properties.headers = {
            **(properties.headers or {}),
            REASON_HEADER: refused or UNROUTABLE_REASON,
            SERVICE_HEADER: SERVICE,
        }
    return properties


def describe(counters: dict) -> str:
    forwarded = ", ".join(f"{q}={n}" for q, n in counters["forwarded"].items())
    return (
        f"forwarded {forwarded}; dead-lettered {counters['dead_lettered']}; "
        f"requeued {counters['requeued']}; returned {counters['returned']}"
    )


class Relay(ReconnectingChannel):
    """Consumes ``balancer.raw`` and forwards each reading to the next target.

    ``run()`` blocks until ``stop()`` (from a signal handler: ``request_stop()``).
    It reconnects by itself, waiting 1 s, then twice as long each time up to 10 s.
    """

    queue = BALANCER_RAW.name

    def __init__(
        self,
        parameters: pika.connection.Parameters,
        targets: list[str],
        prefetch: int = 500,
        stats_interval: float = 30.0,
        shutdown_timeout: float = 5.0,
        ioloop: IOLoop | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ):
        super().__init__(parameters, ioloop or IOLoop())
        self.ledger = Ledger(targets)
        self.prefetch = prefetch
        self.max_body_bytes = max_body_bytes
        self.stats_interval = stats_interval
        self.shutdown_timeout = shutdown_timeout
        self._consumer_tag = None
        # Dead-lettered and requeued at the last counters line.
        self._troubled = (0, 0)

    def stats(self) -> dict:
        """What was forwarded to each target, dead-lettered, requeued and returned."""
        return self.ledger.counters()

    def run(self) -> None:
        self.connect()
        self.ioloop.call_later(self.stats_interval, self._log_stats)
        self.ioloop.start()
        log.info("stopped: %s", describe(self.stats()))

    def request_stop(self) -> None:
        """``stop()`` from another thread or a signal handler."""
        self.ioloop.add_callback_threadsafe(self.stop)

    def stop(self) -> None:
        """Stop consuming, wait up to ``shutdown_timeout`` for outstanding confirms,
        close. Readings still unacked then are redelivered by the broker."""
        if not self.begin_stop():
            return
        log.info("stopping; %d forwards unconfirmed", self.ledger.outstanding)
        if self._consumer_tag and self._channel and self._channel.is_open:
            self._channel.basic_cancel(self._consumer_tag, callback=self._on_cancelok)
            self.ioloop.call_later(self.shutdown_timeout, self.close)
        else:
            self.close()

    # The channel.

    def channel_opened(self, channel) -> None:
        channel.add_on_return_callback(self._on_return)
        declare_topology(channel, self.ledger.targets)
        channel.confirm_delivery(self._on_confirm, callback=self._on_confirm_mode)

    def _on_confirm_mode(self, _frame) -> None:
        self._channel.basic_qos(prefetch_count=self.prefetch, callback=self._on_qos_ok)

    def _on_qos_ok(self, _frame) -> None:
        if self._stopping:
            self.close()
            return
        self._consumer_tag = self._channel.basic_consume(
            BALANCER_RAW.name, self._on_message
        )
        self.ready()
        log.info(
            "relaying %s to %s (prefetch %d)",
            BALANCER_RAW.name,
            ", ".join(self.ledger.targets),
            self.prefetch,
        )

    def forget(self) -> None:
        # Every unacked reading is back in balancer.raw; unconfirmed forwards may
        # also have arrived, hence duplicates, never losses.
        self._consumer_tag = None
        self.ledger.reset()

    def closed(self) -> None:
        self.ioloop.stop()

    def _on_cancelok(self, _frame) -> None:
        self._consumer_tag = None
        self._close_when_settled()

    def _close_when_settled(self) -> None:
        if (
            self._stopping
            and self._consumer_tag is None
            and not self.ledger.outstanding
        ):
            self.close()

    # Messages.

    def _on_message(self, _channel, method, properties, body) -> None:
        if self._stopping:
            return  # Unacked, so the broker delivers it again after we close.
        reading = Reading(
            method.delivery_tag,
            method.routing_key,
            body,
            properties,
            received_at=time.time(),
        )
        original_key = original_routing_key(properties.headers, reading.routing_key)
        READINGS_RECEIVED.labels(path=reading_path(original_key)).inc()
        # The balancer is the first consumer of a reading: a compressed or oversized
        # one goes to ems.dlx from here, never inflated nor parsed downstream.
        reading.refused = refusal(properties.headers, len(body), self.max_body_bytes)
        if reading.refused:
            self._publish(reading, DEAD_LETTER)
        else:
            self._publish(reading, self.ledger.next_target())

    def _publish(self, reading: Reading, target: str | None) -> None:
        exchange, routing_key = self.ledger.route(reading, target)
        self._channel.basic_publish(
            exchange,
            routing_key,
            reading.body,
            forwarded_properties(
                reading.properties,
                target,
                reading.routing_key,
                reading.refused,
                reading.received_at,
            ),
            mandatory=True,
        )
        self.ledger.sent(reading, target)

    def _on_return(self, _channel, method, properties, body) -> None:
        if not self.ledger.returned(
            method.exchange, method.routing_key, body, properties.message_id
        ):
            log.warning("unexpected return from %s", method.routing_key)

    def _on_confirm(self, frame) -> None:
        method = frame.method
        if isinstance(method, Basic.Ack):
            actions = self.ledger.acked(method.delivery_tag, method.multiple)
        else:
            actions = self.ledger.nacked(method.delivery_tag, method.multiple)
        for action in actions:
            self._perform(action)
        self._close_when_settled()

    def _perform(self, action: Ack | Publish | Requeue) -> None:
        reading = action.reading
        if isinstance(action, Ack):
            self._channel.basic_ack(reading.delivery_tag)
        elif isinstance(action, Publish):
            if action.target is DEAD_LETTER and not reading.refused:
                # Per reading only at DEBUG: an outage would flood the log; the
                # counters line turns WARNING instead.
                log.debug("%s: no target took it", reading.routing_key)
            self._publish(reading, action.target)
        elif action.delay:
            channel = self._channel
            self.ioloop.call_later(
                action.delay, lambda: self._requeue(channel, reading)
            )
        else:
            self._requeue(self._channel, reading)

    def _requeue(self, channel, reading: Reading) -> None:
        # After a reconnect the old delivery tag means nothing: the broker has
        # requeued the reading already.
        if channel is self._channel and channel.is_open:
            channel.basic_nack(reading.delivery_tag, requeue=True)

    def _log_stats(self) -> None:
        counters = self.stats()
        troubled = (counters["dead_lettered"], counters["requeued"])
        level = logging.WARNING if troubled != self._troubled else logging.INFO
        self._troubled = troubled
        log.log(level, "%s", describe(counters))
        self.ioloop.call_later(self.stats_interval, self._log_stats)
