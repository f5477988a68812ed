"""monitoring's domain errors."""

from services.common.errors import NotFound


class InvalidReading(ValueError):
    """A reading that can never be counted; its message is the reason."""


class NoSuchDevice(NotFound):
    """Device not found."""
