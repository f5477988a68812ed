"""devices' domain errors."""

from services.common.errors import Conflict, NotFound, Unavailable


class DeviceNotFound(NotFound):
    """Device not found."""


class SiteNotFound(NotFound):
    """Site not found."""


class RoomNotFound(NotFound):
    """Room not found."""


class MemberNotFound(NotFound):
    """Not a member of this site."""


class LastOwner(Conflict):
    """A site keeps at least one owner: make another member owner first."""


class BrokerUnavailable(Unavailable, ConnectionError):
    """The message broker cannot change device credentials now; try again.

    Also a ``ConnectionError``, so that a consumer retries the message that needed it.
    """


class DeviceLimitReached(Conflict):
    """The owner has as many devices as a user may have."""


class DeviceKindLocked(Conflict):
    """The kind cannot change while the device has open orders or unsettled trades."""

    def __init__(self, message: str = "", details: dict | None = None):
        # The details are counts, and RPC carries numbers in them as strings.
        counts = {key: int(value) for key, value in (details or {}).items()}
        super().__init__(message, counts)


class InvalidAck(ValueError):
    """A device's ack that cannot count: not JSON, not ``{command_id, status,
    detail}``, or about no command of that device. Dead-lettered with the reason."""
