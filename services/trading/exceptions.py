"""trading's domain errors."""

from services.common.errors import Conflict, NotFound


class OrderNotFound(NotFound):
    """Order not found."""


class OrderNotOpen(Conflict):
    """The order is no longer open: it was filled, cancelled or expired."""


class NotSellersDevice(NotFound):
    """Device not found."""


class HourNotOver(Conflict):
    """The delivery hour has not ended yet."""
