"""batterydb: the batteries and their last recorded state."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Float, ForeignKey, Index, String
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import utcnow


class Base(DeclarativeBase):
    pass


class Battery(Base):
    """A battery on a ``battery`` device, one per device.

    ``soc_kwh``, ``mode`` and ``power_kw`` are the state recorded at
    ``updated_at`` (a command, or a bound that stopped it); the state now is
    worked out from them (``physics.evolve``), so nothing has to tick.
    """

    __tablename__ = "batteries"

    id: Mapped[str] = mapped_column(
        String(36), primary_key=True, default=lambda: str(uuid.uuid4())
    )
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    device_id: Mapped[str] = mapped_column(String(36), unique=True)
    capacity_kwh: Mapped[float] = mapped_column(Float)
    max_charge_kw: Mapped[float] = mapped_column(Float)
    max_discharge_kw: Mapped[float] = mapped_column(Float)
    #: Round-trip; √efficiency is lost charging and again discharging.
    efficiency: Mapped[float] = mapped_column(Float)
    #: Bounds of the charge, as fractions of the capacity.
    min_soc: Mapped[float] = mapped_column(Float)
    max_soc: Mapped[float] = mapped_column(Float)
    soc_kwh: Mapped[float] = mapped_column(Float)
    mode: Mapped[str] = mapped_column(String(16))
    power_kw: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    #: When the state was recorded; set with it, never by the ORM on its own.
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: ``manual``: only commands move it; ``auto``: its plan does (``control.py``).
    control: Mapped[str] = mapped_column(
        String(8), default="manual", server_default="manual"
    )
    #: Auto mode's plan (``control.stored_plan``): its steps and the prices and
    #: load it came from.
    plan: Mapped[dict | None] = mapped_column(JSONB, nullable=True)
    #: Until when a manual command holds a battery in auto mode.
    override_until: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )

    __table_args__ = (
        CheckConstraint("capacity_kwh > 0", name="ck_batteries_capacity"),
        CheckConstraint(
            "max_charge_kw > 0 AND max_discharge_kw > 0", name="ck_batteries_power"
        ),
        CheckConstraint(
            "efficiency > 0 AND efficiency <= 1", name="ck_batteries_efficiency"
        ),
        CheckConstraint(
            "min_soc >= 0 AND min_soc < max_soc AND max_soc <= 1",
            name="ck_batteries_soc_bounds",
        ),
        CheckConstraint(
            "mode IN ('idle', 'charging', 'discharging')", name="ck_batteries_mode"
        ),
        CheckConstraint("control IN ('manual', 'auto')", name="ck_batteries_control"),
        # The settling timer looks for batteries that are moving; few are.
        Index("ix_batteries_moving", "id", postgresql_where=sql("mode <> 'idle'")),
        # The control timer looks for batteries in auto mode every few seconds.
        Index("ix_batteries_auto", "id", postgresql_where=sql("control = 'auto'")),
    )


class BatteryInterval(Base):
    """A control interval of a battery in auto mode: what the plan set, what was
    sent, and the charge the device reported, to chart plan against execution.

    The key (battery, interval start) is what makes a setpoint go out once per
    interval however many processes run the control timer.
    """

    __tablename__ = "battery_intervals"

    battery_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("batteries.id", ondelete="CASCADE"), primary_key=True
    )
    starts_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), primary_key=True
    )
    #: The plan's setpoint (+ charges, − discharges) and charge at the start.
    planned_power_kw: Mapped[float] = mapped_column(Float)
    planned_soc_kwh: Mapped[float] = mapped_column(Float)
    #: What the device reported when the interval began; None if nothing.
    reported_soc_kwh: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: Why the plan was worked out again at this interval, if it was.
    replanned: Mapped[str | None] = mapped_column(String(16), nullable=True)
    #: The devices service's command and its status when issued (None: not sent).
    command_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    command_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
