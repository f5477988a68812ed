"""trading's domain errors."""

from services.common.errors import Conflict, NotFound


class OrderNotFound(NotFound):
    """Order not found."""


class OrderNotOpen(Conflict):
    """The order is no longer open: it was filled, cancelled or expired."""


class OpenOrderLimitReached(Conflict):
    """The user has as many open orders as a user may have."""


class NotSellersDevice(NotFound):
    """Device not found."""


class HourNotOver(Conflict):
    """The delivery hour has not ended yet."""
