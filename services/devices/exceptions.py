"""devices' domain errors."""

from services.common.errors import Conflict, NotFound


class DeviceNotFound(NotFound):
    """Device not found."""


class DeviceKindLocked(Conflict):
    """The kind cannot change while the device has open orders or unsettled trades."""
