"""batterydb access for the batteries service."""

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from services.batteries.exceptions import BatteryExists, BatteryNotFound
from services.batteries.models import Battery
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
