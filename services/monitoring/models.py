"""monitoringdb: readings, hourly totals, notifications, and a copy of the devices."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Double,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import utcnow

#: kWh are stored exactly, to the micro-kWh: totals are sums, and sums of binary
#: floats drift.
KWH = Numeric(18, 6)
#: Cost and CO2 are exact products of kWh and a price or intensity, kept to every
#: digit (unconstrained NUMERIC), so a day's is exactly the sum of its hours'.
EXACT = Numeric()


class Base(DeclarativeBase):
    pass


class MonitoredDevice(Base):
    """What monitoring knows of a device, kept from ``ems.sync``. A deleted device
    stays as a tombstone so its late readings are recognised and refused."""

    __tablename__ = "monitored_devices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    max_hourly_kwh: Mapped[Decimal] = mapped_column(KWH)
    #: Seconds between the device's readings: how long it may be silent.
    reading_interval_s: Mapped[int] = mapped_column(
        Integer, default=60, server_default="60"
    )
    #: What the device is (``pv`` has generation forecasts); None for a device kept
    #: before the copy held kinds, until devices is asked again.
    kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    #: Where the device stands, degrees north and east; None: the installation's.
    latitude: Mapped[float | None] = mapped_column(Double, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Double, nullable=True)
    #: The site and room the device is in; None until devices says (an event
    #: from before sites): then its figures are counted in UTC at the default
    #: tariff.
    site_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    room_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class MonitoredSite(Base):
    """What monitoring knows of a site, kept from ``ems.sync``: what its figures
    are computed by (time zone, tariff, CO2 intensity) and who may read them. A
    deleted site stays as a tombstone, so a late update does not bring it back."""

    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    #: As the devices service dumps it: currency, flat prices, time-of-use periods.
    tariff: Mapped[dict] = mapped_column(JSONB)
    co2_kg_per_kwh: Mapped[Decimal] = mapped_column(EXACT)
    #: ``[{"user_id", "role"}]``.
    members: Mapped[list] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)


class DeviceState(Base):
    """A device's status: when it was last heard from, whether it is online, and
    the newest power and state of charge it reported. A device never heard from
    has no row (offline, never seen)."""

    __tablename__ = "device_states"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    #: The newest reading's timestamp (never later than when it was counted), or
    #: when the device last said it is online.
    last_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    #: When ``online`` last changed; None if the device was never online.
    since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    power_w: Mapped[float | None] = mapped_column(Double)
    #: The timestamp of the reading ``power_w`` comes from.
    power_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    soc_kwh: Mapped[float | None] = mapped_column(Double)
    #: The timestamp of the reading ``soc_kwh`` comes from.
    soc_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # What the status check scans for: online devices, oldest heard first.
        Index(
            "ix_device_states_online_last_seen",
            "last_seen",
            postgresql_where=text("online"),
        ),
    )


class Reading(Base):
    """A raw reading, kept for the retention window (``services/monitoring/
    partitions.py``): the table is partitioned by range of ``hour``, one partition
    per UTC day, and a reading id is unique within its hour."""

    __tablename__ = "readings"

    reading_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(36))
    timestamp: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The UTC hour the reading counts in (its start); the partition key.
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    #: Energy drawn from the grid in the interval.
    kwh: Mapped[Decimal] = mapped_column(KWH)
    #: Energy generated or fed to the grid in the interval (None: not reported).
    export_kwh: Mapped[Decimal | None] = mapped_column(KWH)
    #: Instantaneous power at ``timestamp`` (negative: exporting).
    power_w: Mapped[float | None] = mapped_column(Double)
    #: A battery's state of charge at ``timestamp``.
    soc_kwh: Mapped[float | None] = mapped_column(Double)
    #: Other instantaneous values, ``{name: number}``.
    measurements: Mapped[dict | None] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )

    __table_args__ = (
        Index("ix_readings_device_hour", "device_id", "hour"),
        {"postgresql_partition_by": "RANGE (hour)"},
    )


class HourlyTotal(Base):
    __tablename__ = "hourly_totals"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    #: Energy drawn from the grid in the hour.
    kwh: Mapped[Decimal] = mapped_column(KWH)
    #: Energy generated or fed to the grid in the hour, counted apart.
    export_kwh: Mapped[Decimal] = mapped_column(
        KWH, default=Decimal(0), server_default="0"
    )
    #: Whether this device-hour's crossing of the limit was already announced.
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)


class DailyTotal(Base):
    """A device's local day (``services/monitoring/rollups.py``): the sums of the
    hourly totals of the hours that start in it, with their cost and CO2 under the
    site's current terms."""

    __tablename__ = "daily_totals"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    import_kwh: Mapped[Decimal] = mapped_column(KWH)
    export_kwh: Mapped[Decimal] = mapped_column(KWH)
    cost: Mapped[Decimal] = mapped_column(EXACT)
    co2_kg: Mapped[Decimal] = mapped_column(EXACT)

    __table_args__ = (Index("ix_daily_totals_day", "day"),)


class MonthlyTotal(Base):
    """A device's local month, keyed by its first day: the sums of its days."""

    __tablename__ = "monthly_totals"

    device_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    import_kwh: Mapped[Decimal] = mapped_column(KWH)
    export_kwh: Mapped[Decimal] = mapped_column(KWH)
    cost: Mapped[Decimal] = mapped_column(EXACT)
    co2_kg: Mapped[Decimal] = mapped_column(EXACT)


class Notification(Base):
    """What a user is told of their devices: overconsumption (reasons ``reading``
    and ``hourly``, with the hour, its energy and the limit) and a device going
    ``offline`` or coming ``online`` (with when it was last heard from)."""

    __tablename__ = "notifications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36))
    device_id: Mapped[str] = mapped_column(String(36), index=True)
    hour: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    kwh: Mapped[Decimal | None] = mapped_column(KWH)
    limit_kwh: Mapped[Decimal | None] = mapped_column(KWH)
    reason: Mapped[str] = mapped_column(String(16))
    #: The reading that exceeded the limit on its own (reason ``reading``).
    reading_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: ``offline`` and ``online``: when the device was last heard from.
    last_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )

    __table_args__ = (
        Index("ix_notifications_user_created", "user_id", "created_at"),
        # At most one "hourly" notification per device-hour, whoever raises it.
        Index(
            "uq_notifications_device_hour",
            "device_id",
            "hour",
            unique=True,
            postgresql_where=text("reason = 'hourly'"),
        ),
    )


class DeadLetter(Base):
    """A message rejected to ``ems.dead``, moved here to be listed, inspected,
    replayed or purged by id (``services/monitoring/dead_letters.py``)."""

    __tablename__ = "dead_letters"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    reason: Mapped[str] = mapped_column(String(500))
    service: Mapped[str] = mapped_column(String(100))
    #: Where a replay publishes it; None when that cannot be told.
    exchange: Mapped[str | None] = mapped_column(String(255))
    routing_key: Mapped[str] = mapped_column(String(255))
    #: The message's headers as ASCII JSON.
    headers: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(String(100))
    content_encoding: Mapped[str | None] = mapped_column(String(100))
    #: The body's size as it arrived; ``body`` holds at most its first 64 KiB.
    size: Mapped[int] = mapped_column(Integer)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
