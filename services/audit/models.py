"""auditdb: the audit log, one row per record, never changed nor deleted.

A trigger of the migration refuses UPDATE, DELETE and TRUNCATE on the table, so
not even the service's own code can rewrite what happened; a deleted user's
records stay, under their id.
"""

from datetime import datetime

from sqlalchemy import DateTime, Index, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import utcnow


class Base(DeclarativeBase):
    pass


class AuditRecord(Base):
    """What happened: ``action`` by ``actor`` (None: the platform itself) on the
    object ``object_type``/``object_id``, at ``at``, from ``client``."""

    __tablename__ = "audit_records"

    #: Given by the service that recorded it: the same record delivered twice is
    #: stored once.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    #: When it happened, as the service that recorded it saw it.
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[str | None] = mapped_column(String(36))
    actor_role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSONB)
    client: Mapped[str | None] = mapped_column(String(64))
    #: When the audit service stored it.
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )

    __table_args__ = (
        # Newest first, and the next page after a record: every listing.
        Index("ix_audit_records_at_id", "at", "id"),
        Index("ix_audit_records_actor_at", "actor_id", "at"),
        # Exact actions and prefixes (``devices.``) alike: LIKE 'devices.%' can use
        # a pattern-ops index whatever the database's collation.
        Index(
            "ix_audit_records_action_at",
            "action",
            "at",
            postgresql_ops={"action": "varchar_pattern_ops"},
        ),
        Index("ix_audit_records_object_at", "object_type", "object_id", "at"),
    )
