"""devices' domain errors."""

from services.common.errors import Conflict, NotFound, Unavailable


class DeviceNotFound(NotFound):
    """Device not found."""


class BrokerUnavailable(Unavailable, ConnectionError):
    """The message broker cannot change device credentials now; try again.

    Also a ``ConnectionError``, so that a consumer retries the message that needed it.
    """


class DeviceLimitReached(Conflict):
    """The owner has as many devices as a user may have."""
