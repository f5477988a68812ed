"""support: each user's support conversation, answered by rules, an AI model, or
staff. Every message is pushed over ``ems.ws`` as ``chat.message`` to its user and to
the ADMINs; a message nothing could answer also raises ``support.alert`` to ADMINs.

Every RPC takes the ``caller`` it acts for; who may read or answer which
conversation is ``services/support/policies.py``'s.
"""

from nameko.dependency_providers import Config
from nameko.rpc import rpc

from services.common import pushes
from services.common.db import Database, utcnow
from services.common.errors import EXPECTED, Forbidden, ValidationFailed
from services.common.health import HealthMixin
from services.common.messaging import Pusher, consume
from services.common.schemas import load
from services.common.topology import SUPPORT_USER_DELETED
from services.support import logic, policies
from services.support.assistant import AssistantProvider
from services.support.exceptions import ConversationNotFound
from services.support.schemas import (
    AdminReplySchema,
    ChatMessageSchema,
    ConversationSchema,
    HistoryQuerySchema,
    PostResultSchema,
    SupportMessageSchema,
)
from services.support.storage import SupportStore

message_schema = ChatMessageSchema()
conversation_schema = ConversationSchema()
post_result_schema = PostResultSchema()

DEFAULT_HISTORY_FOR_AI = 10


def _limit(limit) -> int | None:
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValidationFailed("invalid limit", {"limit": ["a positive integer"]})
    return limit


class SupportService(HealthMixin):
    name = "support"

    storage = Database(SupportStore)
    assistant = AssistantProvider()
    push = Pusher()
    config = Config()

    @rpc(expected_exceptions=EXPECTED)
    def post_message(self, caller, body):
        """Store the caller's message (``{"text"}``) in their conversation and
        answer it: ``{"message", "reply"}``.

        The message is committed (and pushed) before an answer is looked for, and
        stays flagged as awaiting staff until one is stored: the model may take
        seconds, and no database transaction is held open meanwhile; if this
        worker dies in between, the question still shows up in staff's inbox.

        A user sending more than ``max_messages_per_minute`` gets
        ``TooManyMessages`` (429, with ``retry_after``) and nothing is stored. Past
        ``max_ai_calls_per_hour`` questions for the model, a question is not put
        to it: it waits for staff as if the model had no answer.
        """
        question = load(SupportMessageSchema(), body)["text"]
        user_id = caller["user_id"]
        quotas = logic.Quotas.from_config(self.config)
        now = utcnow()
        # The user's messages are counted and stored one at a time, in every
        # support process: two sent at once cannot both fit under a quota.
        self.storage.lock_conversation(user_id)
        logic.check_message_rate(
            self.storage.last_questions(user_id, quotas.messages_per_minute),
            quotas,
            now,
        )
        ask_model = logic.may_ask_model(
            question,
            self.storage.last_questions(
                user_id, quotas.ai_calls_per_hour, asked_ai=True
            ),
            quotas,
            now,
        )
        recent = message_schema.dump(
            self.storage.history(user_id, limit=self._history_for_ai()), many=True
        )
        message = self.storage.add_message(
            user_id, "user", question, awaiting_staff=True, asked_ai=ask_model
        )
        self.storage.commit()
        self._push(message)

        answer = logic.answer(question, recent, self.assistant, ask_model)
        self.storage.lock_conversation(user_id)
        if not self.storage.message_exists(message.id):
            # The conversation was purged (its user deleted) while we looked for
            # an answer: there is no one left to answer.
            self.storage.commit()
            return post_result_schema.dump({"message": message, "reply": None})
        reply = None
        if answer.text is not None:
            reply = self.storage.add_message(user_id, answer.author, answer.text)
        if not answer.needs_staff:
            self.storage.settle_message(message.id)
        self.storage.commit()

        if reply is not None:
            self._push(reply)
        if answer.needs_staff:
            self._alert(message, answer.alert_reason)
        return post_result_schema.dump({"message": message, "reply": reply})

    @rpc(expected_exceptions=EXPECTED)
    def history(self, caller, query, limit=None):
        """The caller's conversation, or that of the query's ``user_id`` (ADMIN),
        oldest first (``[]`` if none); with ``limit``, its last ``limit`` messages.
        """
        user_id = load(HistoryQuerySchema(), query).get("user_id", caller["user_id"])
        policies.READ_CONVERSATION.require(
            caller,
            user_id,
            refusal=Forbidden("only ADMIN and VIEWER read another user's conversation"),
        )
        return message_schema.dump(
            self.storage.history(user_id, _limit(limit)), many=True
        )

    @rpc(expected_exceptions=EXPECTED)
    def admin_reply(self, caller, body):
        """Staff answer the conversation of ``body``'s ``user_id`` with its
        ``text``; nothing of it awaits them any more. A user who never wrote has no
        conversation to answer."""
        policies.REPLY.require(caller, refusal=Forbidden("only ADMIN answers as staff"))
        data = load(AdminReplySchema(), body)
        self.storage.lock_conversation(data["user_id"])
        if not self.storage.has_conversation(data["user_id"]):
            raise ConversationNotFound()
        message = self.storage.add_message(
            data["user_id"], "staff", data["text"], staff_id=caller["user_id"]
        )
        self.storage.settle_conversation(data["user_id"])
        self.storage.commit()
        self._push(message)
        return message_schema.dump(message)

    @rpc(expected_exceptions=EXPECTED)
    def conversations(self, caller, limit=None):
        """ADMIN's inbox: one row per user, those awaiting staff first, then the
        most recently active."""
        policies.READ_INBOX.require(
            caller, refusal=Forbidden("only ADMIN and VIEWER see the support inbox")
        )
        return conversation_schema.dump(
            self.storage.conversations(_limit(limit)), many=True
        )

    @consume(SUPPORT_USER_DELETED)
    def handle_user_deleted(self, body):
        """A deleted user's conversation goes with them (again harmlessly if the
        event is redelivered)."""
        self.storage.delete_conversation(body["user"]["id"])
        self.storage.commit()

    def _history_for_ai(self) -> int:
        support = self.config.get("SUPPORT") or {}
        return int(support.get("history_for_ai", DEFAULT_HISTORY_FOR_AI))

    def _push(self, message) -> None:
        self.push(pushes.CHAT_MESSAGE, message, message.user_id)

    def _alert(self, message, reason: str) -> None:
        self.push(
            pushes.SUPPORT_ALERT,
            {
                "user_id": message.user_id,
                "message_id": message.id,
                "text": message.text,
                "reason": reason,
            },
        )
