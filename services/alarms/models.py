"""alarmdb: alarm rules, the alarms they raise, each user's notification
preferences, and the copy of the devices, rooms and sites the rules apply to."""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import utcnow


def _uuid() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    pass


class KnownDevice(Base):
    """A device as ``ems.sync`` last told of it: whose it is, what it is and where
    it stands, so that rules find their devices and alarms their people."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(32))
    site_id: Mapped[str | None] = mapped_column(String(36), index=True)
    room_id: Mapped[str | None] = mapped_column(String(36), index=True)
    max_hourly_kwh: Mapped[Decimal] = mapped_column(Numeric(14, 6))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class KnownSite(Base):
    """A site's name, time zone and members (``[{user_id, role}]``)."""

    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    members: Mapped[list] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class KnownRoom(Base):
    __tablename__ = "rooms"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(36), index=True)
    name: Mapped[str] = mapped_column(String(200))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class AlarmRule(Base):
    """When to raise an alarm of ``type``: on one device, a room's devices, a
    site's (only those of ``kind`` if given), or every device of ``kind``.
    ``device_limit``: the rule of a device's own hourly limit, kept from the
    device's ``max_hourly_kwh``."""

    __tablename__ = "alarm_rules"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    #: Who made it; for a device's own rule, the device's owner.
    user_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    device_id: Mapped[str | None] = mapped_column(String(36), index=True)
    room_id: Mapped[str | None] = mapped_column(String(36), index=True)
    site_id: Mapped[str | None] = mapped_column(String(36), index=True)
    kind: Mapped[str | None] = mapped_column(String(32))
    threshold: Mapped[Decimal | None] = mapped_column(Numeric(16, 6))
    duration_min: Mapped[int | None] = mapped_column(Integer)
    device_limit: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    __table_args__ = (
        # A device has one rule of its own limit, whoever keeps it.
        Index(
            "uq_alarm_rules_device_limit",
            "device_id",
            unique=True,
            postgresql_where=sql("device_limit"),
        ),
    )


class Alarm(Base):
    """A condition a rule watches, raised on a device or a site: active until the
    condition ends or someone clears it, acknowledged or not meanwhile."""

    __tablename__ = "alarms"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_uuid)
    type: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    originator_type: Mapped[str] = mapped_column(String(8))
    originator_id: Mapped[str] = mapped_column(String(36))
    originator_name: Mapped[str] = mapped_column(String(200))
    #: Whose device or site it is, and the site it stands in: who may see it.
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    site_id: Mapped[str | None] = mapped_column(String(36), index=True)
    device_id: Mapped[str | None] = mapped_column(String(36), index=True)
    rule_id: Mapped[str | None] = mapped_column(String(36))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    value: Mapped[Decimal | None] = mapped_column(Numeric(16, 6))
    threshold: Mapped[Decimal | None] = mapped_column(Numeric(16, 6))
    unit: Mapped[str | None] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[dict | None] = mapped_column(JSONB)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cleared_by: Mapped[dict | None] = mapped_column(JSONB)
    comment: Mapped[str | None] = mapped_column(Text)
    #: False while an alarm someone cleared by hand still has its condition: no
    #: new alarm of its kind is raised on its originator until the condition ends.
    rearmed: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        # At most one active alarm per originator and type, whichever process
        # raises it and however often: the database refuses a second.
        Index(
            "uq_alarms_active",
            "originator_id",
            "type",
            unique=True,
            postgresql_where=sql("active"),
        ),
        Index("ix_alarms_started", "started_at", "id"),
        Index(
            "ix_alarms_held",
            "originator_id",
            "type",
            postgresql_where=sql("NOT rearmed"),
        ),
    )


class Preferences(Base):
    """What reaches a user of their alarms: the severities shown in the app and
    e-mailed, quiet hours (local, e-mail waits until they end), a daily digest."""

    __tablename__ = "preferences"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    app_severities: Mapped[list] = mapped_column(JSONB)
    email_severities: Mapped[list] = mapped_column(JSONB)
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    digest_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    digest_hour: Mapped[int] = mapped_column(Integer, default=8)
    #: The local day the last digest was sent for.
    digest_sent_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class HeldEmail(Base):
    """An alarm e-mail waiting for its user's quiet hours to end."""

    __tablename__ = "held_emails"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    alarm_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    held_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
