"""devices' domain errors."""

from services.common.errors import Conflict, NotFound


class DeviceNotFound(NotFound):
    """Device not found."""


class DeviceKindLocked(Conflict):
    """The kind cannot change while the device has open orders or unsettled trades."""

    def __init__(self, message: str = "", details: dict | None = None):
        # The details are counts, and RPC carries numbers in them as strings.
        counts = {key: int(value) for key, value in (details or {}).items()}
        super().__init__(message, counts)
