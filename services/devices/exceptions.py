"""devices' domain errors."""

from services.common.errors import Conflict, NotFound


class DeviceNotFound(NotFound):
    """Device not found."""


class DeviceLimitReached(Conflict):
    """The owner has as many devices as a user may have."""
