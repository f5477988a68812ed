"""batteries' domain errors."""

from services.common.errors import Conflict, NotFound, ValidationFailed


class BatteryNotFound(NotFound):
    """Battery not found."""


class BatteryExists(Conflict):
    """This device already has a battery."""


class CommandRefused(ValidationFailed):
    """The battery cannot do this."""


class InfeasibleSchedule(ValidationFailed):
    """No schedule meets every limit and the target."""
