"""monitoringdb access for the monitoring service and its ingest workers."""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert

from services.common.db import Store
from services.monitoring.logic import (
    Alert,
    DeviceLimit,
    Energy,
    ParsedReading,
    TotalChange,
)
from services.monitoring.models import (
    DeadLetter,
    HourlyTotal,
    MonitoredDevice,
    Notification,
    Reading,
)


class MonitoringStore(Store):
    # -- the copy of the devices ----------------------------------------------------

    def put_device(
        self, device_id: str, user_id: str, max_hourly_kwh, updated_at: datetime
    ) -> None:
        """Record a device as ``ems.sync`` describes it, unless what is stored is
        newer or the device was deleted: events may arrive twice or late."""
        values = {
            "id": device_id,
            "user_id": user_id,
            "max_hourly_kwh": Decimal(str(max_hourly_kwh)),
            "updated_at": updated_at,
            "deleted": False,
        }
        statement = insert(MonitoredDevice).values(values)
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["id"],
                set_={
                    k: statement.excluded[k]
                    for k in ("user_id", "max_hourly_kwh", "updated_at")
                },
                where=(MonitoredDevice.updated_at <= statement.excluded.updated_at)
                & MonitoredDevice.deleted.is_(False),
            )
        )

    def forget_device(self, device_id: str, user_id: str, updated_at: datetime) -> None:
        """Purge a deleted device's data and keep a tombstone of it."""
        for model in (Reading, HourlyTotal, Notification):
            self.session.execute(delete(model).where(model.device_id == device_id))
        statement = insert(MonitoredDevice).values(
            id=device_id,
            user_id=user_id,
            max_hourly_kwh=0,
            updated_at=updated_at,
            deleted=True,
        )
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["id"], set_={"deleted": True}
            )
        )

    def device_limits(self, device_ids) -> dict[str, DeviceLimit]:
        rows = self.session.scalars(
            select(MonitoredDevice).where(MonitoredDevice.id.in_(list(device_ids)))
        )
        return {
            row.id: DeviceLimit(row.user_id, row.max_hourly_kwh, row.deleted)
            for row in rows
        }

    def owner_of(self, device_id: str) -> MonitoredDevice | None:
        device = self.session.get(MonitoredDevice, device_id)
        return None if device is None or device.deleted else device

    # -- readings and totals ------------------------------------------------------

    def insert_readings(self, readings: list[ParsedReading]) -> list[ParsedReading]:
        """Store readings not seen before; return those, in order."""
        if not readings:
            return []
        inserted = set(
            self.session.scalars(
                insert(Reading)
                .values(
                    [
                        {
                            "reading_id": r.reading_id,
                            "device_id": r.device_id,
                            "timestamp": r.timestamp,
                            "hour": r.hour,
                            "kwh": r.kwh,
                            "export_kwh": r.export_kwh,
                            "power_w": r.power_w,
                            "soc_kwh": r.soc_kwh,
                            "measurements": r.measurements,
                        }
                        for r in readings
                    ]
                )
                .on_conflict_do_nothing(index_elements=["reading_id"])
                .returning(Reading.reading_id)
            )
        )
        return [r for r in readings if r.reading_id in inserted]

    def add_to_totals(
        self, added: dict[tuple[str, datetime], Energy]
    ) -> list[TotalChange]:
        """Add energy, drawn and exported, to device-hours; what each became."""
        if not added:
            return []
        # Rows are locked in one order by every worker, so two batches touching the
        # same device-hours wait for each other instead of deadlocking.
        keys = sorted(added)
        statement = insert(HourlyTotal).values(
            [
                {
                    "device_id": d,
                    "hour": h,
                    "kwh": added[(d, h)].kwh,
                    "export_kwh": added[(d, h)].export_kwh,
                    "alerted": False,
                }
                for d, h in keys
            ]
        )
        rows = self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["device_id", "hour"],
                set_={
                    "kwh": HourlyTotal.kwh + statement.excluded.kwh,
                    "export_kwh": HourlyTotal.export_kwh
                    + statement.excluded.export_kwh,
                },
            ).returning(
                HourlyTotal.device_id,
                HourlyTotal.hour,
                HourlyTotal.kwh,
                HourlyTotal.export_kwh,
                HourlyTotal.alerted,
            )
        )
        return [
            TotalChange(
                row.device_id,
                row.hour,
                row.kwh - added[(row.device_id, row.hour)].kwh,
                row.kwh,
                row.alerted,
                row.export_kwh,
            )
            for row in rows
        ]

    def mark_alerted(self, keys: list[tuple[str, datetime]]) -> None:
        for device_id, hour in keys:
            self.session.execute(
                update(HourlyTotal)
                .where(HourlyTotal.device_id == device_id, HourlyTotal.hour == hour)
                .values(alerted=True)
            )

    def add_notifications(self, alerts: list[Alert]) -> list[dict]:
        """Store the alerts not stored before; return those as stored."""
        stored = []
        for alert in alerts:
            row = self.session.execute(
                insert(Notification)
                .values(
                    id=str(uuid.uuid4()),
                    user_id=alert.user_id,
                    device_id=alert.device_id,
                    hour=alert.hour,
                    kwh=alert.kwh,
                    limit_kwh=alert.limit_kwh,
                    reason=alert.reason,
                    reading_id=alert.reading_id,
                )
                .on_conflict_do_nothing()
                .returning(Notification)
            ).scalar_one_or_none()
            if row is not None:
                stored.append(row)
        return stored

    # -- reports ------------------------------------------------------------------

    def hourly_totals(
        self, device_id: str, start: datetime, end: datetime
    ) -> dict[datetime, Decimal]:
        """A device's energy drawn in each hour of the range that has any."""
        rows = self.session.execute(
            select(HourlyTotal.hour, HourlyTotal.kwh).where(
                HourlyTotal.device_id == device_id,
                HourlyTotal.hour >= start,
                HourlyTotal.hour < end,
            )
        )
        return {row.hour: row.kwh for row in rows}

    def hourly_energy(
        self, device_ids: list[str], start: datetime, end: datetime
    ) -> dict[str, dict[datetime, Energy]]:
        """Energy drawn and exported by several devices in each hour of the range,
        in one query, by device id; devices without totals in the range are
        missing."""
        rows = self.session.execute(
            select(
                HourlyTotal.device_id,
                HourlyTotal.hour,
                HourlyTotal.kwh,
                HourlyTotal.export_kwh,
            ).where(
                HourlyTotal.device_id.in_(device_ids),
                HourlyTotal.hour >= start,
                HourlyTotal.hour < end,
            )
        )
        totals: dict[str, dict[datetime, Energy]] = {}
        for row in rows:
            totals.setdefault(row.device_id, {})[row.hour] = Energy(
                row.kwh, row.export_kwh
            )
        return totals

    def notifications(self, user_id: str, limit: int) -> list[Notification]:
        return list(
            self.session.scalars(
                select(Notification)
                .where(Notification.user_id == user_id)
                .order_by(Notification.created_at.desc(), Notification.id.desc())
                .limit(limit)
            )
        )

    # -- dead letters ---------------------------------------------------------------

    def add_dead_letter(self, values: dict, kept: int) -> str:
        """Store a dead letter; drop the oldest beyond the newest ``kept``."""
        dead_letter_id = str(uuid.uuid4())
        self.session.add(DeadLetter(id=dead_letter_id, **values))
        self.session.flush()
        oldest_kept = (
            select(DeadLetter.received_at)
            .order_by(DeadLetter.received_at.desc())
            .offset(kept - 1)
            .limit(1)
            .scalar_subquery()
        )
        self.session.execute(
            delete(DeadLetter).where(DeadLetter.received_at < oldest_kept)
        )
        return dead_letter_id

    def dead_letters(self, reason: str | None, limit: int) -> list[DeadLetter]:
        """Newest first; ``reason``: only those whose reason contains it."""
        query = select(DeadLetter).order_by(DeadLetter.received_at.desc())
        if reason:
            query = query.where(DeadLetter.reason.contains(reason, autoescape=True))
        return list(self.session.scalars(query.limit(limit)))

    def dead_letter(self, dead_letter_id: str, lock: bool = False) -> DeadLetter | None:
        query = select(DeadLetter).where(DeadLetter.id == dead_letter_id)
        if lock:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def delete_dead_letters(
        self, dead_letter_id: str | None = None, reason: str | None = None
    ) -> int:
        """Delete one dead letter, or all (whose reason contains ``reason``)."""
        statement = delete(DeadLetter)
        if dead_letter_id is not None:
            statement = statement.where(DeadLetter.id == dead_letter_id)
        if reason:
            statement = statement.where(
                DeadLetter.reason.contains(reason, autoescape=True)
            )
        return self.session.execute(statement).rowcount
