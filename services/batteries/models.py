"""batterydb: the batteries and their last recorded state."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Float, Index, String
from sqlalchemy import text as sql
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
        # The settling timer looks for batteries that are moving; few are.
        Index("ix_batteries_moving", "id", postgresql_where=sql("mode <> 'idle'")),
    )
