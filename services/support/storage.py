"""supportdb access for the support service."""

from datetime import datetime

from sqlalchemy import delete, exists, func, select, text, update

from services.common.db import Store
from services.support.models import Message


class SupportStore(Store):
    def lock_conversation(self, user_id: str) -> None:
        """Serialise changes to one conversation until the transaction ends.

        A reply stored while the user's conversation is being purged must not
        survive the purge: both take this lock first, so the purge's DELETE sees
        every reply committed before it, and a reply after it finds its question
        gone. A row lock would not do: a DELETE never sees rows inserted after it
        started, even if it waited for them.
        """
        self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"support:{user_id}"},
        )

    def add_message(
        self,
        user_id: str,
        author: str,
        text: str,
        *,
        staff_id: str | None = None,
        awaiting_staff: bool = False,
        asked_ai: bool = False,
    ) -> Message:
        message = Message(
            user_id=user_id,
            author=author,
            text=text,
            staff_id=staff_id,
            awaiting_staff=awaiting_staff,
            asked_ai=asked_ai,
        )
        self.session.add(message)
        self.session.flush()
        return message

    def last_questions(
        self, user_id: str, count: int, asked_ai: bool = False
    ) -> list[datetime]:
        """When the user wrote their last ``count`` messages (with ``asked_ai``,
        those the AI model was asked about), oldest first: what the quotas count.

        Read from supportdb, so every support process counts the same messages;
        the caller holds the conversation's lock, so two messages of one user
        are counted one after the other.
        """
        query = select(Message.created_at).where(
            Message.user_id == user_id, Message.author == "user"
        )
        if asked_ai:
            query = query.where(Message.asked_ai.is_(True))
        times = self.session.scalars(query.order_by(Message.seq.desc()).limit(count))
        return list(reversed(times.all()))

    def message_exists(self, message_id: str) -> bool:
        return self.session.scalar(select(exists().where(Message.id == message_id)))

    def has_conversation(self, user_id: str) -> bool:
        return self.session.scalar(select(exists().where(Message.user_id == user_id)))

    def settle_message(self, message_id: str) -> None:
        """A user's message was answered: it no longer awaits staff."""
        self.session.execute(
            update(Message).where(Message.id == message_id).values(awaiting_staff=False)
        )

    def settle_conversation(self, user_id: str) -> None:
        """Staff answered: nothing of this user awaits them any more."""
        self.session.execute(
            update(Message)
            .where(Message.user_id == user_id, Message.awaiting_staff.is_(True))
            .values(awaiting_staff=False)
        )

    def history(self, user_id: str, limit: int | None = None) -> list[Message]:
        """The conversation, oldest first; with ``limit``, its last messages."""
        query = (
            select(Message)
            .where(Message.user_id == user_id)
            .order_by(Message.seq.desc())
        )
        if limit is not None:
            query = query.limit(limit)
        return list(reversed(self.session.scalars(query).all()))

    def conversations(self, limit: int | None = None) -> list[dict]:
        """One row per conversation: those awaiting staff first, then the most
        recently active."""
        stats = (
            select(
                Message.user_id,
                func.count().label("message_count"),
                func.bool_or(Message.awaiting_staff).label("awaiting_staff"),
                func.max(Message.seq).label("last_seq"),
            )
            .group_by(Message.user_id)
            .subquery()
        )
        query = (
            select(Message, stats.c.message_count, stats.c.awaiting_staff)
            .join(stats, Message.seq == stats.c.last_seq)
            .order_by(stats.c.awaiting_staff.desc(), Message.seq.desc())
        )
        if limit is not None:
            query = query.limit(limit)
        return [
            {
                "user_id": message.user_id,
                "last_message": message,
                "message_count": count,
                "awaiting_staff": awaiting,
            }
            for message, count, awaiting in self.session.execute(query)
        ]

    def delete_conversation(self, user_id: str) -> int:
        """Delete every message of ``user_id``; how many there were."""
        self.lock_conversation(user_id)
        result = self.session.execute(delete(Message).where(Message.user_id == user_id))
        return result.rowcount
