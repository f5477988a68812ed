"""monitoring's domain errors."""

from services.common.errors import Conflict, Forbidden, NotFound


class InvalidReading(ValueError):
    """A reading that can never be counted; its message is the reason."""


class InvalidPresence(ValueError):
    """A presence message that says nothing of a device; its message is the
    reason."""


class NoSuchDevice(NotFound):
    """Device not found."""


class NoSuchDeadLetter(NotFound):
    """Dead letter not found."""


class NotReplayable(Conflict):
    """This dead letter cannot be replayed."""


class DeadLettersForbidden(Forbidden):
    """Only ADMIN manages dead letters."""


class NoSuchSite(NotFound):
    """Site not found."""


class NoSuchRoom(NotFound):
    """Room not found."""
