"""``consume_batch``: a Nameko entrypoint that hands its handler many messages at once.

Messages are collected until ``size`` of them are waiting or the oldest has waited
``wait`` seconds, then one worker handles them together — one transaction for a
whole batch instead of one per message. The handler gets ``Delivery`` tuples and
returns ``{index: reason}`` for the ones it rejects; those go to ``ems.dlx`` with the
reason (all in one broker transaction), every other message is acked, all after the
handler returned (that is, after its commit). A handler rejects whatever is wrong
with a message itself, so a poison message costs what a good one costs. A transient
failure requeues the batch; any other failure, which no one foresaw, splits it and
handles each message alone, so that even then one message is dead-lettered by
itself and never holds back the messages around it.
"""

import logging
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import eventlet
from kombu import Queue

from services.common.messaging import (
    RETRY_DELAY,
    TRANSIENT_ERRORS,
    DeadLetteringQueueConsumer,
    ReliableConsumer,
    describe,
)
from services.common.topology import RECEIVED_AT_HEADER, original_routing_key

log = logging.getLogger(__name__)


class Delivery(NamedTuple):
    routing_key: str
    body: object
    redelivered: bool
    #: When the balancer received it (``x-ems-received-at``), if it says.
    received_at: float | None = None


def received_at(headers: dict | None) -> float | None:
    """The balancer's ``x-ems-received-at``, if it is a number."""
    value = (headers or {}).get(RECEIVED_AT_HEADER)
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class BatchQueueConsumer(DeadLetteringQueueConsumer):
    """Prefetches enough messages for several batches to be in flight."""

    @property
    def prefetch_count(self):
        return int(self.container.config.get("PREFETCH_COUNT", 1000))


class BatchConsumer(ReliableConsumer):
    """Consumes the queue named by the setting ``queue_setting`` (one program, several
    processes, each on its own queue), declared as the topology's ``queue_named``
    makes it, in batches of up to ``BATCH_SIZE`` messages collected for at most
    ``BATCH_WAIT`` seconds."""

    queue_consumer = BatchQueueConsumer()

    def __init__(
        self, queue_setting: str, queue_named: Callable[[str], Queue], **kwargs
    ):
        self.queue_setting = queue_setting
        self.queue_named = queue_named
        super().__init__(queue=None, **kwargs)

    def setup(self):
        config = self.container.config
        self.queue = self.queue_named(config[self.queue_setting])
        self.size = int(config.get("BATCH_SIZE", 200))
        self.wait = float(config.get("BATCH_WAIT", 0.05))
        self.pending = []
        self.timer = None
        super().setup()

    def handle_message(self, body, message):
        self.pending.append((body, message))
        if len(self.pending) >= self.size:
            self.flush()
        elif self.timer is None:
            self.timer = self.container.spawn_managed_thread(self._flush_later)

    def _flush_later(self):
        eventlet.sleep(self.wait)
        self.timer = None
        self.flush()

    def flush(self):
        batch, self.pending = self.pending, []
        if batch:
            self.spawn(batch)

    def spawn(self, batch):
        deliveries = [
            Delivery(
                original_routing_key(
                    message.headers, message.delivery_info.get("routing_key", "")
                ),
                body,
                bool(message.delivery_info.get("redelivered")),
                received_at(message.headers),
            )
            for body, message in batch
        ]
        self.container.spawn_worker(
            self,
            (deliveries,),
            {},
            handle_result=partial(self.handle_batch_result, batch),
        )

    def handle_batch_result(self, batch, worker_ctx, result=None, exc_info=None):
        self._settle(batch, result, exc_info)
        return result, exc_info

    def _settle(self, batch, result, exc_info) -> None:
        if exc_info is None:
            rejected = result or {}
            for index, (_, message) in enumerate(batch):
                if index not in rejected:
                    self.queue_consumer.ack_message(message)
            # All of a batch's rejections in one transaction with the broker.
            self.reject_all(
                [(batch[index][1], reason) for index, reason in rejected.items()]
            )
        elif isinstance(exc_info[1], TRANSIENT_ERRORS):
            log.warning(
                "transient failure on %s, retrying %d messages: %s",
                self.queue.name,
                len(batch),
                describe(exc_info[1]),
            )
            eventlet.sleep(RETRY_DELAY)
            for _, message in batch:
                self.queue_consumer.requeue_message(message)
        elif len(batch) > 1:
            log.warning(
                "batch of %d failed (%s); handling each message alone",
                len(batch),
                describe(exc_info[1]),
            )
            for item in batch:
                self.spawn([item])
        else:
            self.reject(batch[0][1], describe(exc_info[1]))


consume_batch = BatchConsumer.decorator
