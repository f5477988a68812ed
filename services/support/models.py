"""supportdb: the messages of each user's support conversation."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Identity, Index, String, Text
from sqlalchemy import text as sql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import utcnow

#: Who wrote a message: the user, a rule (``bot``), the AI model, or an ADMIN.
AUTHORS = ("user", "bot", "ai", "staff")


class Base(DeclarativeBase):
    pass


class Message(Base):
    """One message of a conversation; a user has exactly one conversation, so
    ``user_id`` names it."""

    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(
        String(36), primary_key=True, default=lambda: str(uuid.uuid4())
    )
    #: Insertion order. A question and its reply are stamped within microseconds
    #: of each other, and clocks may step, so the conversation is ordered by this
    #: sequence rather than by ``created_at``.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    user_id: Mapped[str] = mapped_column(String(36))
    author: Mapped[str] = mapped_column(String(8))
    #: The ADMIN who wrote a ``staff`` message.
    staff_id: Mapped[str | None] = mapped_column(String(36))
    text: Mapped[str] = mapped_column(Text)
    #: A user's message that staff still have to answer: nothing answered it, the
    #: answer is still being looked for, or the user asked for a person. Cleared
    #: when staff reply in the conversation.
    awaiting_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    #: A user's message the AI model was asked to answer: what the per-user
    #: quota of AI calls counts, whatever the model answered.
    asked_ai: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sql("false")
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )

    __table_args__ = (
        Index("ix_messages_user_seq", "user_id", "seq"),
        # The inbox asks which conversations await staff; few messages do.
        Index(
            "ix_messages_awaiting",
            "user_id",
            postgresql_where=sql("awaiting_staff"),
        ),
        # The AI quota asks for a user's last questions that went to the model.
        Index(
            "ix_messages_asked_ai", "user_id", "seq", postgresql_where=sql("asked_ai")
        ),
    )
