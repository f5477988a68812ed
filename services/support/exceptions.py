"""support's domain errors."""

from services.common.errors import NotFound


class ConversationNotFound(NotFound):
    """This user has no support conversation."""
