"""Routes of the support chat: a user's conversation with the rules, the AI model
and staff (``services/support``), and ADMIN's inbox."""

from gateway.route import SIGNED_IN, Route, only
from gateway.schemas import ErrorSchema
from services.common.policy import ADMIN
from services.support.policies import READ_INBOX
from services.support.schemas import (
    AdminReplySchema,
    ChatMessageSchema,
    ConversationSchema,
    HistoryQuerySchema,
    PostResultSchema,
    SupportMessageSchema,
)

ROUTES = (
    Route(
        "POST",
        "/api/support/messages",
        SIGNED_IN,
        "support.post_message",
        tag="support",
        summary="Send a support message",
        description=(
            "Ask support. The rules answer first, then the AI model if one is "
            "configured; otherwise ``reply`` is null and staff are alerted. Both "
            "messages are also pushed over ``/ws`` as ``chat.message``. A user may "
            "send ``SUPPORT_MAX_MESSAGES_PER_MINUTE`` messages in any minute; past "
            "``SUPPORT_MAX_AI_CALLS_PER_HOUR`` questions for the model in an hour, "
            "a question is not put to it and waits for staff (``reply`` null)."
        ),
        body=SupportMessageSchema,
        example_body={"text": "How do I add a device?"},
        status=201,
        returns=PostResultSchema,
        returns_description="the message and the reply, if there is one",
        example={
            "message": {
                "id": "1b6e…",
                "user_id": "9b2f…",
                "author": "user",
                "text": "How do I add a device?",
                "created_at": "2026-11-22T18:50:00Z",
            },
            "reply": {
                "id": "2c7f…",
                "user_id": "9b2f…",
                "author": "bot",
                "text": "Open Devices and press Add…",
                "created_at": "2026-11-22T18:50:00Z",
            },
        },
        errors={
            429: {
                "description": "too many messages in the last minute; nothing was "
                "stored. `Retry-After` (and `details.retry_after`) says when to "
                "send again",
                "headers": {
                    "Retry-After": {
                        "schema": {"type": "integer"},
                        "description": "seconds",
                    }
                },
                "content": {
                    "application/json": {
                        "schema": ErrorSchema,
                        "example": {
                            "error": "RATE_LIMITED",
                            "details": {"retry_after": 12, "limit": 10},
                            "message": "at most 10 support messages a minute; "
                            "try again in 12 s",
                        },
                    }
                },
            }
        },
    ),
    Route(
        "GET",
        "/api/support/history",
        SIGNED_IN,
        "support.history",
        tag="support",
        summary="Support conversation",
        description=(
            "The caller's conversation with support, oldest first; ADMIN and VIEWER "
            "may name any user with ``user_id``."
        ),
        query=HistoryQuerySchema,
        returns=[ChatMessageSchema],
        returns_description="the messages, oldest first",
        errors={403: "Forbidden"},
    ),
    Route(
        "POST",
        "/api/support/admin/reply",
        only(ADMIN),
        "support.admin_reply",
        tag="support",
        summary="Reply to a user",
        description=(
            "Answer a user as staff; the user receives it live over ``/ws``. "
            "ADMIN only."
        ),
        body=AdminReplySchema,
        example_body={"user_id": "9b2f…", "text": "I have reset your limit."},
        status=201,
        returns=ChatMessageSchema,
        returns_description="the staff message",
        errors={404: "NotFound"},
    ),
    Route(
        "GET",
        "/api/support/conversations",
        only(*READ_INBOX.roles),
        "support.conversations",
        tag="support",
        summary="Support inbox",
        description=(
            "Every conversation, those awaiting staff first, then the most recent. "
            "ADMIN, and VIEWER (who reads it and answers no one)."
        ),
        returns=[ConversationSchema],
        returns_description="one entry per user",
    ),
)
