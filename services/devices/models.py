"""devicedb: the sites with their rooms and members, the devices, and the commands
sent to them with their history."""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from services.common.db import utcnow
from services.devices.commands import OPEN

#: The reading interval of a device created without one, in seconds.
DEFAULT_READING_INTERVAL_S = 60


class Base(DeclarativeBase):
    pass


def _new_id() -> str:
    return str(uuid.uuid4())


class Site(Base):
    """Where devices are: the local time, tariff and grid intensity their energy is
    priced and weighed by (``services/devices/sites.py``)."""

    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_new_id)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(500), nullable=True)
    #: Degrees north and east; both or neither.
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: An IANA time zone name: the site's hours, and so its tariff's periods.
    timezone: Mapped[str] = mapped_column(String(64))
    #: ``{currency, import_per_kwh, export_per_kwh, periods}``
    #: (``schemas.TariffSchema``).
    tariff: Mapped[dict] = mapped_column(JSONB)
    co2_kg_per_kwh: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    members: Mapped[list["SiteMember"]] = relationship(
        back_populates="site",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="SiteMember.user_id",
        lazy="selectin",
    )


class SiteMember(Base):
    """A user's role on a site (``policies.SITE_ROLES``)."""

    __tablename__ = "site_members"

    site_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("sites.id", ondelete="CASCADE")
    )
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    role: Mapped[str] = mapped_column(String(16))
    site: Mapped[Site] = relationship(back_populates="members")

    __table_args__ = (PrimaryKeyConstraint("site_id", "user_id"),)


class Room(Base):
    """A room of a site; a device may be in one of its site's rooms."""

    __tablename__ = "rooms"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_new_id)
    site_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("sites.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Device(Base):
    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_new_id)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    #: Its site, and the room of that site it is in, if any. A site's devices are
    #: deleted (and announced) by the service before the site, never by the
    #: database; a room's go out of it with it.
    site_id: Mapped[str] = mapped_column(String(36), ForeignKey("sites.id"), index=True)
    room_id: Mapped[str | None] = mapped_column(
        String(36),
        ForeignKey("rooms.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    )
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    max_hourly_kwh: Mapped[float] = mapped_column(Float)
    #: How often the device sends a reading, in seconds: monitoring takes a device
    #: silent for a few of these intervals to be offline.
    reading_interval_s: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_READING_INTERVAL_S, server_default="60"
    )
    #: Where the device stands, in degrees north and east; both or neither. A PV
    #: device's generation forecast needs it (the installation's location stands in
    #: for a device without one).
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class Command(Base):
    """A command sent to a device, and where it stands now (``commands.STATUSES``).
    It goes with its device."""

    __tablename__ = "commands"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_new_id)
    device_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("devices.id", ondelete="CASCADE")
    )
    #: The device's owner, told of every change.
    user_id: Mapped[str] = mapped_column(String(36))
    type: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16))
    #: Why it stands where it does: the device's word, or the platform's.
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: A user's id, or the service that issued it (``batteries``, ``dr:<event>``).
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: Publishes to the device so far, and when the last one was.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_commands_device_created", "device_id", "created_at"),
        # What the timer looks through: commands still waiting for their device.
        Index(
            "ix_commands_open_expiry",
            "expires_at",
            postgresql_where=status.in_(OPEN),
        ),
    )


class CommandEvent(Base):
    """One change of a command's status, in the order they happened."""

    __tablename__ = "command_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    command_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("commands.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
