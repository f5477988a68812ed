"""users' domain errors."""

from services.common.errors import Conflict, NotFound


class UserNotFound(NotFound):
    """User not found."""


class EmailTaken(Conflict):
    """An account with this e-mail address already exists."""
