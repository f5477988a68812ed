"""devices' domain errors."""

from services.common.errors import NotFound


class DeviceNotFound(NotFound):
    """Device not found."""
