"""monitoringdb access for the monitoring service and its ingest workers."""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, case, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert

from services.common.db import Store
from services.monitoring import partitions
from services.monitoring.energy_storage import EnergyStorage
from services.monitoring.kpi_storage import KpiStorage
from services.monitoring.logic import (
    Alert,
    DeviceLimit,
    Energy,
    ParsedReading,
    TotalChange,
    hour_of,
)
from services.monitoring.models import (
    DailyTotal,
    DeadLetter,
    DeviceState,
    HourlyTotal,
    MonitoredDevice,
    MonthlyTotal,
    Notification,
    Reading,
)
from services.monitoring.status import (
    DEFAULT_READING_INTERVAL_S,
    DeviceStatus,
    OfflineRule,
    Sighting,
    from_state,
)

#: The columns of a device's status, as its row returns them.
STATE_COLUMNS = tuple(DeviceState.__table__.columns)


class MonitoringStore(EnergyStorage, KpiStorage, Store):
    # -- the copy of the devices ----------------------------------------------------

    def put_device(
        self,
        device_id: str,
        user_id: str,
        max_hourly_kwh,
        updated_at: datetime,
        reading_interval_s: int = DEFAULT_READING_INTERVAL_S,
        kind: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
        place: dict | None = None,
    ) -> bool:
        """Record a device as ``ems.sync`` describes it, unless what is stored is
        newer or the device was deleted: events may arrive twice or late.

        ``place``: ``{"site_id", "room_id"}`` as the event gives them (one from
        before sites has neither: what is stored stays). True when this moved the
        device to another site (or to its first): its rollups are then rebuilt.
        The device's row is locked until the commit, so a batch counting its
        readings waits for that rebuild (``sites_of_devices``).
        """
        place = place or {}
        before = self.session.execute(
            select(MonitoredDevice.site_id)
            .where(MonitoredDevice.id == device_id)
            .with_for_update()
        ).one_or_none()
        values = {
            "id": device_id,
            "user_id": user_id,
            "max_hourly_kwh": Decimal(str(max_hourly_kwh)),
            "reading_interval_s": int(reading_interval_s),
            "kind": kind,
            "latitude": latitude,
            "longitude": longitude,
            "updated_at": updated_at,
            "deleted": False,
            **place,
        }
        statement = insert(MonitoredDevice).values(values)
        changed = self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["id"],
                set_={
                    k: statement.excluded[k]
                    for k in (
                        "user_id",
                        "max_hourly_kwh",
                        "reading_interval_s",
                        "kind",
                        "latitude",
                        "longitude",
                        "updated_at",
                        *place,
                    )
                },
                where=(MonitoredDevice.updated_at <= statement.excluded.updated_at)
                & MonitoredDevice.deleted.is_(False),
            ).returning(MonitoredDevice.site_id)
        ).one_or_none()
        if changed is None or changed.site_id is None:
            return False
        return before is None or before.site_id != changed.site_id

    def forget_device(self, device_id: str, user_id: str, updated_at: datetime) -> None:
        """Purge a deleted device's data and keep a tombstone of it."""
        for model in (
            Reading,
            HourlyTotal,
            DailyTotal,
            MonthlyTotal,
            Notification,
            DeviceState,
        ):
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
            row.id: DeviceLimit(
                row.user_id,
                row.max_hourly_kwh,
                row.deleted,
                row.reading_interval_s,
                row.kind,
                row.latitude,
                row.longitude,
            )
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
                # A reading id is unique within its hour (the partition key must
                # be in the key): a repeated reading has the same timestamp, so
                # the same hour, and is dropped here.
                .on_conflict_do_nothing(index_elements=["reading_id", "hour"])
                .returning(Reading.reading_id)
            )
        )
        return [r for r in readings if r.reading_id in inserted]

    # -- the readings' partitions -------------------------------------------------

    def reading_partitions(self, connection=None) -> list[str]:
        """The names of the partitions ``readings`` has."""
        return list(
            (connection or self.session).scalars(
                text(
                    "SELECT c.relname FROM pg_inherits i "
                    "JOIN pg_class c ON c.oid = i.inhrelid "
                    "WHERE i.inhparent = 'readings'::regclass ORDER BY c.relname"
                )
            )
        )

    def create_partitions(self, wanted: list[partitions.Partition]) -> list[str]:
        """Create those of ``wanted`` that do not exist yet; their names.

        In a transaction of its own, committed at once, under the partitions' lock:
        two processes wanting the same partition create it once and both go on,
        and the session's own transaction holds no lock on ``readings`` for it.
        """
        if not wanted:
            return []
        if not _missing(wanted, self.reading_partitions()):
            return []
        with self.session.get_bind().begin() as connection:
            _lock(connection)
            missing = _missing(wanted, self.reading_partitions(connection))
            for partition in missing:
                _create(connection, partition)
        return [partition.name for partition in missing]

    def maintain_partitions(
        self, now: datetime, retention
    ) -> tuple[list[str], list[str]] | None:
        """Create the partitions due ahead and drop those wholly past ``retention``;
        the names created and dropped, or None when another process is at it.

        Hourly totals are not touched: they stay, exact, once the readings they
        were counted from are gone.
        """
        with self.session.get_bind().begin() as connection:
            if not connection.scalar(
                text("SELECT pg_try_advisory_xact_lock(hashtextextended(:key, 0))"),
                {"key": partitions.LOCK},
            ):
                return None
            existing = self.reading_partitions(connection)
            created = _missing(partitions.ahead(now), existing)
            for partition in created:
                _create(connection, partition)
            dropped = partitions.due_to_drop(existing, now, retention)
            for name in dropped:
                connection.execute(text(f'DROP TABLE IF EXISTS "{name}"'))
        return [partition.name for partition in created], dropped

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

    # -- device status --------------------------------------------------------------

    def see_devices(self, seen: list[Sighting], now: datetime) -> list[DeviceStatus]:
        """Record what a batch of readings tells of its devices, in one statement
        (rows locked in device id order, as every batch locks them); the statuses
        of the devices it brought online.

        ``last_seen`` only moves forward, and the newest power and state of charge
        are replaced only by newer ones, whatever order batches commit in. A device
        comes online with a fresh reading stamped after it went offline: a reading
        sent before a device's connection dropped, but counted after its will,
        does not bring it back. Whether this statement changed ``online`` shows in
        ``since``, which it sets to ``now`` only then.
        """
        if not seen:
            return []
        statement = insert(DeviceState).values(
            [
                {
                    "device_id": sighting.device_id,
                    "last_seen": sighting.seen_at,
                    "online": sighting.fresh,
                    "since": now if sighting.fresh else None,
                    "power_w": sighting.power_w,
                    "power_at": sighting.power_at,
                    "soc_kwh": sighting.soc_kwh,
                    "soc_at": sighting.soc_at,
                }
                for sighting in seen
            ]
        )
        new = statement.excluded
        back = new.online & or_(
            DeviceState.since.is_(None), new.last_seen > DeviceState.since
        )

        def newer(at_new, at_old):
            return and_(at_new.is_not(None), or_(at_old.is_(None), at_new > at_old))

        rows = self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["device_id"],
                set_={
                    "last_seen": func.greatest(DeviceState.last_seen, new.last_seen),
                    "online": DeviceState.online | back,
                    "since": case(
                        (~DeviceState.online & back, new.since),
                        else_=DeviceState.since,
                    ),
                    "power_w": case(
                        (newer(new.power_at, DeviceState.power_at), new.power_w),
                        else_=DeviceState.power_w,
                    ),
                    "power_at": func.greatest(DeviceState.power_at, new.power_at),
                    "soc_kwh": case(
                        (newer(new.soc_at, DeviceState.soc_at), new.soc_kwh),
                        else_=DeviceState.soc_kwh,
                    ),
                    "soc_at": func.greatest(DeviceState.soc_at, new.soc_at),
                },
            ).returning(*STATE_COLUMNS)
        )
        devices = {sighting.device_id: sighting for sighting in seen}
        return [
            from_state(
                row,
                row.device_id,
                devices[row.device_id].user_id,
                devices[row.device_id].reading_interval_s,
            )
            for row in rows
            if row.online and row.since == now
        ]

    def set_presence(self, device_id: str, online: bool, now: datetime):
        """What a device said of itself: online (heard from now) or offline (its
        connection dropped); its row if that changed ``online``, else None."""
        if online:
            statement = insert(DeviceState).values(
                device_id=device_id, last_seen=now, online=True, since=now
            )
            row = self.session.execute(
                statement.on_conflict_do_update(
                    index_elements=["device_id"],
                    set_={
                        "last_seen": func.greatest(DeviceState.last_seen, now),
                        "online": True,
                        "since": case(
                            (DeviceState.online, DeviceState.since), else_=now
                        ),
                    },
                ).returning(*STATE_COLUMNS)
            ).one()
            return row if row.since == now else None
        # The device's row is locked by the update: the status check, or another
        # process handling the same message, waits and then finds it offline.
        return self.session.execute(
            update(DeviceState)
            .where(DeviceState.device_id == device_id, DeviceState.online)
            .values(online=False, since=now)
            .returning(*STATE_COLUMNS)
        ).one_or_none()

    def mark_silent_offline(
        self, now: datetime, rule: OfflineRule, limit: int
    ) -> list[DeviceStatus]:
        """Mark offline the online devices silent for longer than ``rule`` allows
        their reading interval (at most ``limit`` of them); those, as they are now.

        One statement, which locks the rows it changes and skips those another
        transaction holds: two processes checking at once, or a batch of readings
        bringing a device back meanwhile, never make one change announced twice.
        """
        silence = func.make_interval(
            0,
            0,
            0,
            0,
            0,
            0,
            MonitoredDevice.reading_interval_s * rule.intervals
            + rule.grace.total_seconds(),
        )
        silent = (
            select(DeviceState.device_id)
            .join(MonitoredDevice, MonitoredDevice.id == DeviceState.device_id)
            .where(DeviceState.online, DeviceState.last_seen < now - silence)
            .order_by(DeviceState.device_id)
            .limit(limit)
            .with_for_update(of=DeviceState, skip_locked=True)
        )
        rows = self.session.execute(
            update(DeviceState)
            .where(
                DeviceState.device_id == MonitoredDevice.id,
                DeviceState.device_id.in_(silent),
                DeviceState.online,
            )
            .values(online=False, since=now)
            .returning(
                *STATE_COLUMNS,
                MonitoredDevice.user_id,
                MonitoredDevice.reading_interval_s,
            )
        )
        return [
            from_state(row, row.device_id, row.user_id, row.reading_interval_s)
            for row in rows
        ]

    def add_status_notifications(self, changes: list[DeviceStatus]) -> None:
        """Store a notification of each device that went offline or came online."""
        if changes:
            self.session.execute(
                insert(Notification).values(
                    [
                        {
                            "id": str(uuid.uuid4()),
                            "user_id": change.user_id,
                            "device_id": change.device_id,
                            "reason": change.reason,
                            "last_seen": change.last_seen,
                        }
                        for change in changes
                    ]
                )
            )

    def device_statuses(
        self,
        user_id: str | None = None,
        device_id: str | None = None,
        device_ids: list[str] | None = None,
    ) -> list[DeviceStatus]:
        """The status of every device that is not deleted (``user_id``'s, or the
        one ``device_id``), in device id order; a device never heard from is
        offline and never seen."""
        query = (
            select(MonitoredDevice, DeviceState)
            .outerjoin(DeviceState, DeviceState.device_id == MonitoredDevice.id)
            .where(MonitoredDevice.deleted.is_(False))
            .order_by(MonitoredDevice.id)
        )
        if user_id is not None:
            query = query.where(MonitoredDevice.user_id == user_id)
        if device_id is not None:
            query = query.where(MonitoredDevice.id == device_id)
        if device_ids is not None:
            query = query.where(MonitoredDevice.id.in_(list(device_ids)))
        return [
            from_state(state, device.id, device.user_id, device.reading_interval_s)
            for device, state in self.session.execute(query)
        ]

    # -- reports ------------------------------------------------------------------

    def hourly_totals(
        self, device_id: str, start: datetime, end: datetime, export: bool = False
    ) -> dict[datetime, Decimal]:
        """A device's energy drawn (``export``: exported) in each hour of the range
        that has a total."""
        column = HourlyTotal.export_kwh if export else HourlyTotal.kwh
        rows = self.session.execute(
            select(HourlyTotal.hour, column.label("energy")).where(
                HourlyTotal.device_id == device_id,
                HourlyTotal.hour >= start,
                HourlyTotal.hour < end,
            )
        )
        return {row.hour: row.energy for row in rows}

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

    def power_floor(
        self, device_ids: list[str], since: datetime
    ) -> dict[str, tuple[float, datetime, int]]:
        """The lowest power each device reported after ``since``, when it first
        reported one then, and how many readings had power: ``{device_id: (lowest
        W, first timestamp, count)}``; devices without such readings are missing."""
        rows = self.session.execute(
            select(
                Reading.device_id,
                func.min(Reading.power_w),
                func.min(Reading.timestamp),
                func.count(),
            )
            .where(
                Reading.device_id.in_(device_ids),
                # The partitions of the window's hours only.
                Reading.hour >= hour_of(since),
                Reading.timestamp > since,
                Reading.power_w.is_not(None),
            )
            .group_by(Reading.device_id)
        )
        return {row[0]: (row[1], row[2], row[3]) for row in rows}

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


def _missing(wanted, existing) -> list[partitions.Partition]:
    existing = set(existing)
    return [partition for partition in wanted if partition.name not in existing]


def _lock(connection) -> None:
    connection.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
        {"key": partitions.LOCK},
    )


def _create(connection, partition: partitions.Partition) -> None:
    # Names and bounds are made here from a date, never from input.
    connection.execute(
        text(
            f'CREATE TABLE IF NOT EXISTS "{partition.name}" '
            f"PARTITION OF {partitions.PARENT} "
            f"FOR VALUES FROM ('{partition.start.isoformat()}') "
            f"TO ('{partition.end.isoformat()}')"
        )
    )
