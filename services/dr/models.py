"""drdb: demand-response events, the invitations to them, and the commands their
dispatch sent to devices."""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import utcnow


class Base(DeclarativeBase):
    pass


class Event(Base):
    """A window in which participants are asked to use less. Its status is not
    stored: it follows from the time and from ``cancelled_at``."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(
        String(36), primary_key=True, default=lambda: str(uuid.uuid4())
    )
    name: Mapped[str] = mapped_column(String(200))
    #: Whole UTC hours; ``end`` is excluded.
    start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    target_reduction_kw: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    incentive_per_kwh: Mapped[Decimal] = mapped_column(Numeric(12, 6))
    #: The OPERATOR or ADMIN who announced it.
    created_by: Mapped[str] = mapped_column(String(36))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: When its results were settled (``ParticipantResult``); they never change after.
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: When the participants' devices were sent their start commands, and when
    #: they were released (at the end, or on cancellation): each happens once.
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    __table_args__ = (
        CheckConstraint('"end" > start', name="ck_events_window"),
        Index("ix_events_start", "start"),
    )


class Invitation(Base):
    """A user asked to take part in an event, and their answer."""

    __tablename__ = "invitations"

    event_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    #: ``invited``, ``opted_in`` or ``opted_out`` (``logic.INVITATION_STATUSES``).
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    # A user's invitations are looked up by user: their event list, their
    # excluded baseline days, the cascade when they are deleted.
    __table_args__ = (Index("ix_invitations_user", "user_id"),)


class ParticipantResult(Base):
    """A participant's outcome of an event, stored when the event's results were
    settled, so that readings arriving later do not change it."""

    __tablename__ = "participant_results"

    event_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)
    #: The outcome as ``DrParticipantResultSchema`` dumps it (JSON).
    result: Mapped[str] = mapped_column(Text)


class Dispatch(Base):
    """A command an event sent to a participant's device: at its ``start``, or at
    its ``end`` to release it. ``status`` is the command's, as last read from the
    devices service (``failed`` if devices would not issue it)."""

    __tablename__ = "dispatches"

    id: Mapped[str] = mapped_column(
        String(36), primary_key=True, default=lambda: str(uuid.uuid4())
    )
    event_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("events.id", ondelete="CASCADE")
    )
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    device_id: Mapped[str] = mapped_column(String(36))
    #: ``start`` or ``end`` (``dispatch.PHASES``).
    phase: Mapped[str] = mapped_column(String(8))
    type: Mapped[str] = mapped_column(String(32))
    #: The command's parameters (JSON).
    params: Mapped[str] = mapped_column(Text)
    #: The devices service's command, None if it was not issued.
    command_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    # One command per device and phase of an event: a dispatch run twice (two dr
    # processes, a retried round) cannot store a second.
    __table_args__ = (
        UniqueConstraint("event_id", "device_id", "phase", name="uq_dispatches"),
    )
