"""How support messages are loaded from requests and dumped on the wire."""

from marshmallow import Schema, fields, pre_load, validate

from services.common.schemas import ID, InputSchema, UtcDateTime
from services.support.models import AUTHORS

MAX_TEXT = 2000
TEXT = validate.Length(min=1, max=MAX_TEXT)


class _Text(InputSchema):
    """``text`` is stripped before it is checked, so blank text is refused."""

    text = fields.String(
        required=True, validate=TEXT, metadata={"description": "1–2000 characters"}
    )

    @pre_load
    def strip_text(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("text"), str):
            data = dict(data, text=data["text"].strip())
        return data


class SupportMessageSchema(_Text):
    """``POST /api/support/messages``: ``{"text": "How do I add a device?"}``."""


class AdminReplySchema(_Text):
    """``POST /api/support/admin/reply``: ``{"user_id": "…", "text": "…"}``."""

    user_id = fields.String(
        required=True, validate=ID, metadata={"description": "whose conversation"}
    )


class HistoryQuerySchema(InputSchema):
    """``GET /api/support/history[?user_id=]``; another user's is for ADMIN."""

    user_id = fields.String(
        validate=ID,
        metadata={"description": "ADMIN and VIEWER only: whose conversation"},
    )


class ChatMessageSchema(Schema):
    """A message of a conversation, and ``data`` of the ``chat.message`` push."""

    id = fields.String()
    user_id = fields.String()
    author = fields.String(metadata={"enum": list(AUTHORS)})
    text = fields.String()
    created_at = UtcDateTime()


class PostResultSchema(Schema):
    """The user's message and the answer found for it, if any (``null``: staff
    were alerted and will answer over ``/ws``)."""

    message = fields.Nested(ChatMessageSchema)
    reply = fields.Nested(ChatMessageSchema, allow_none=True)


class ConversationSchema(Schema):
    """A row of ADMIN's support inbox."""

    user_id = fields.String()
    last_message = fields.Nested(ChatMessageSchema)
    message_count = fields.Integer()
    awaiting_staff = fields.Boolean(
        metadata={"description": "a message of the user still needs staff"}
    )


class SupportAlertSchema(Schema):
    """``data`` of the ``support.alert`` push to ADMINs."""

    user_id = fields.String()
    message_id = fields.String()
    text = fields.String()
    reason = fields.String(metadata={"enum": ["unanswered", "asked_for_person"]})
