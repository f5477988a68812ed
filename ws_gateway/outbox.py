"""Messages of ``ems.ws`` that arrive together, written to their sockets together.

pika hands over every message of one read from the broker before the IOLoop turns
again: one message while the gateway keeps up, many once it has fallen behind.
Consecutive messages for the same audience then go out as one write to each socket,
holding all their frames, so the cost of a write (a system call, a future, and the
proxy's and the client's reads behind it) is paid once for the run. The further
behind the gateway is, the cheaper each message gets, and a backlog shrinks instead
of growing. Order is kept: a run ends at a message for another audience, and a
``session.ended``, which closes sockets, goes out on its own at once.
"""

import logging
from collections.abc import Callable

from services.common.pushes import SESSION_ENDED
from ws_gateway.registry import Registry
from ws_gateway.routing import Destination

log = logging.getLogger(__name__)


class Outbox:
    """Collects a run of messages for one destination; ``later(flush)`` sends it
    once the IOLoop turns (``IOLoop.add_callback``)."""

    def __init__(self, registry: Registry, later: Callable[[Callable[[], None]], None]):
        self.registry = registry
        self.later = later
        self._destination: Destination | None = None
        self._texts: list[str] = []

    def add(self, destination: Destination, text: str, message: dict) -> None:
        if destination.message_type == SESSION_ENDED.name:
            self.flush()
            self.registry.deliver(destination, text, message)
            return
        if self._texts and not same_audience(self._destination, destination):
            self.flush()
        if not self._texts:
            self._destination = destination
            self.later(self.flush)
        self._texts.append(text)

    def flush(self) -> None:
        """Send the run collected so far, if any."""
        if not self._texts:
            return
        destination, texts = self._destination, self._texts
        self._destination, self._texts = None, []
        try:
            self.registry.deliver_run(destination, texts)
        except Exception:
            # The messages are acked already; a bug here must not stop the next run.
            log.exception(
                "could not deliver %d messages to %s %s",
                len(texts),
                destination.audience,
                destination.name,
            )


def same_audience(one: Destination, other: Destination) -> bool:
    return one.audience == other.audience and one.name == other.name
