"""batterydb access for the batteries service."""

from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from services.batteries.control import AUTO
from services.batteries.exceptions import BatteryExists, BatteryNotFound
from services.batteries.models import Battery, BatteryInterval
from services.batteries.physics import IDLE, State
from services.common.db import Store
from services.common.schemas import is_id

#: PostgreSQL's SQLSTATE for a duplicate key.
UNIQUE_VIOLATION = "23505"
LIMIT_FIELDS = (
    "capacity_kwh",
    "max_charge_kw",
    "max_discharge_kw",
    "efficiency",
    "min_soc",
    "max_soc",
)


class BatteryStore(Store):
    def add_battery(
        self, user_id: str, device_id: str, limits: dict, state: State, at: datetime
    ) -> Battery:
        if self.session.scalar(
            select(Battery.id).where(Battery.device_id == device_id)
        ):
            raise BatteryExists()
        battery = Battery(
            user_id=user_id,
            device_id=device_id,
            **{field: limits[field] for field in LIMIT_FIELDS},
            soc_kwh=state.soc_kwh,
            mode=state.mode,
            power_kw=state.power_kw,
            created_at=at,
            updated_at=at,
        )
        self.session.add(battery)
        # The unique device_id decides between two batteries created for one
        # device at once: the second waits for the first's row, then fails here.
        try:
            self.session.flush()
        except IntegrityError as exc:
            self.session.rollback()
            if getattr(exc.orig, "pgcode", None) == UNIQUE_VIOLATION:
                raise BatteryExists() from exc
            raise
        return battery

    def get_battery(self, battery_id: str, *, for_update: bool = False) -> Battery:
        """The battery; ``for_update`` locks it until the transaction ends, so two
        commands to one battery apply one after the other."""
        battery = None
        if is_id(battery_id):
            query = select(Battery).where(Battery.id == battery_id)
            if for_update:
                query = query.with_for_update()
            battery = self.session.scalar(query)
        if battery is None:
            raise BatteryNotFound()
        return battery

    def list_batteries(self, user_id: str | None = None) -> list[Battery]:
        query = select(Battery).order_by(Battery.created_at, Battery.id)
        if user_id is not None:
            query = query.where(Battery.user_id == user_id)
        return list(self.session.scalars(query))

    def batteries_of(self, user_ids: list[str]) -> list[Battery]:
        query = select(Battery).where(Battery.user_id.in_(list(user_ids)))
        return list(self.session.scalars(query.order_by(Battery.user_id, Battery.id)))

    def batteries_of_or_on(self, user_id: str, device_ids: list[str]) -> list[Battery]:
        """``user_id``'s batteries and those on the devices."""
        query = select(Battery).where(
            or_(Battery.user_id == user_id, Battery.device_id.in_(list(device_ids)))
        )
        return list(self.session.scalars(query.order_by(Battery.user_id, Battery.id)))

    def batteries_on(self, device_ids: list[str]) -> list[Battery]:
        query = select(Battery).where(Battery.device_id.in_(list(device_ids)))
        return list(self.session.scalars(query.order_by(Battery.device_id)))

    def moving_batteries(self) -> list[Battery]:
        """Batteries charging or discharging, locked; those another worker is
        settling already are skipped rather than waited for."""
        query = (
            select(Battery)
            .where(Battery.mode != IDLE)
            .order_by(Battery.id)
            .with_for_update(skip_locked=True)
        )
        return list(self.session.scalars(query))

    def set_state(self, battery: Battery, state: State, at: datetime) -> Battery:
        battery.soc_kwh = state.soc_kwh
        battery.mode = state.mode
        battery.power_kw = state.power_kw
        battery.updated_at = at
        self.session.flush()
        return battery

    def auto_batteries(self) -> list[Battery]:
        """The batteries in auto mode, unlocked: the control timer locks each in
        turn (``lock_battery``) once it knows their reported state."""
        query = select(Battery).where(Battery.control == AUTO).order_by(Battery.id)
        return list(self.session.scalars(query))

    def lock_battery(self, battery_id: str) -> Battery | None:
        """The battery, locked; None if another worker holds it (it is acting on
        it) or it is gone."""
        query = (
            select(Battery)
            .where(Battery.id == battery_id)
            .with_for_update(skip_locked=True)
        )
        return self.session.scalar(query)

    def set_control(
        self, battery: Battery, control: str, plan: dict | None, override_until=None
    ) -> Battery:
        battery.control = control
        battery.plan = plan
        battery.override_until = override_until
        self.session.flush()
        return battery

    def claim_interval(self, battery_id: str, starts_at: datetime, **values) -> bool:
        """Record the control interval of a battery; False if it is recorded
        already. The primary key decides between two processes: the second
        waits for the first's row, then inserts nothing, so a setpoint goes out
        once per interval."""
        inserted = self.session.execute(
            insert(BatteryInterval)
            .values(battery_id=battery_id, starts_at=starts_at, **values)
            .on_conflict_do_nothing()
            .returning(BatteryInterval.battery_id)
        ).first()
        return inserted is not None

    def has_interval(self, battery_id: str, starts_at: datetime) -> bool:
        return self.session.get(BatteryInterval, (battery_id, starts_at)) is not None

    def record_command(
        self, battery_id: str, starts_at: datetime, command_id: str, status: str
    ) -> None:
        interval = self.session.get(BatteryInterval, (battery_id, starts_at))
        interval.command_id = command_id
        interval.command_status = status
        self.session.flush()

    def intervals(self, battery_id: str, since: datetime) -> list[BatteryInterval]:
        """A battery's control intervals from ``since``, oldest first."""
        query = (
            select(BatteryInterval)
            .where(
                BatteryInterval.battery_id == battery_id,
                BatteryInterval.starts_at >= since,
            )
            .order_by(BatteryInterval.starts_at)
        )
        return list(self.session.scalars(query))

    def delete_battery(self, battery: Battery) -> None:
        self.session.delete(battery)
        self.session.flush()

    def delete_batteries_of(self, user_id: str) -> int:
        """Delete every battery of ``user_id``; how many there were."""
        result = self.session.execute(delete(Battery).where(Battery.user_id == user_id))
        return result.rowcount

    def delete_battery_of_device(self, device_id: str) -> int:
        result = self.session.execute(
            delete(Battery).where(Battery.device_id == device_id)
        )
        return result.rowcount
