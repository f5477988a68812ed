"""dr's domain errors."""

from services.common.errors import Conflict, NotFound


class EventNotFound(NotFound):
    """Demand-response event not found."""


class EventConflict(Conflict):
    """The event's status does not allow this."""
