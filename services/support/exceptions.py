"""support's domain errors."""

from services.common.errors import NotFound, RateLimited


class ConversationNotFound(NotFound):
    """This user has no support conversation."""


class TooManyMessages(RateLimited):
    """You are sending support messages too fast; try again shortly."""
