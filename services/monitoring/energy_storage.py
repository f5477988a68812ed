"""monitoringdb access for energy over ranges: the copy of the sites, the day and
month rollups the ingest keeps and a site's change rebuilds, and the queries of
``/api/energy`` and its exports.

The race between a rebuild and the ingest is settled by row locks: a batch reads
its devices and their sites ``FOR SHARE`` before it adds to any total
(``sites_of_devices``, ``site_terms``), and a change writes the site's (or the
device's) row before it rebuilds. A batch that read the old terms has committed
before the rebuild reads the hourly totals; a batch that comes after waits for the
rebuild's commit and reads the new terms.
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Numeric, and_, case, cast, delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert

from services.monitoring.logic import hour_of
from services.monitoring.models import (
    DailyTotal,
    HourlyTotal,
    MonitoredDevice,
    MonitoredSite,
    MonthlyTotal,
    Reading,
)
from services.monitoring.rollups import Amounts
from services.monitoring.tariffs import DEFAULT, SiteTerms

#: The rollup table of each resolution, and its key column.
ROLLUPS = {
    "day": (DailyTotal, DailyTotal.day),
    "month": (MonthlyTotal, MonthlyTotal.month),
}
FIGURES = ("import_kwh", "export_kwh", "cost", "co2_kg")


def terms_of(site: MonitoredSite | None) -> SiteTerms:
    if site is None or site.deleted:
        return DEFAULT
    return SiteTerms.of_site(
        {
            "timezone": site.timezone,
            "tariff": site.tariff,
            "co2_kg_per_kwh": site.co2_kg_per_kwh,
        }
    )


class EnergyStorage:
    # -- the copy of the sites ------------------------------------------------------

    def put_site(self, site: dict, updated_at: datetime) -> bool:
        """Keep a site as ``ems.sync`` dumps it, unless what is stored is newer or
        the site was deleted; True when its terms (time zone, tariff, CO2) are now
        other than what its figures were computed by: its rollups are to be
        rebuilt, in this transaction. The site's row stays locked until the
        commit, so the ingest waits for the rebuild."""
        before = self.session.scalars(
            select(MonitoredSite)
            .where(MonitoredSite.id == site["id"])
            .with_for_update()
        ).one_or_none()
        if before is not None and (before.deleted or before.updated_at > updated_at):
            return False
        old = terms_of(before)
        values = {
            "id": site["id"],
            "timezone": site.get("timezone") or DEFAULT.timezone,
            "tariff": site.get("tariff") or {},
            "co2_kg_per_kwh": Decimal(
                str(site.get("co2_kg_per_kwh", DEFAULT.co2_kg_per_kwh))
            ),
            "members": site.get("members") or [],
            "updated_at": updated_at,
            "deleted": False,
        }
        statement = insert(MonitoredSite).values(values)
        written = self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["id"],
                set_={k: statement.excluded[k] for k in values if k != "id"},
                where=(MonitoredSite.updated_at <= statement.excluded.updated_at)
                & MonitoredSite.deleted.is_(False),
            ).returning(MonitoredSite.id)
        ).one_or_none()
        return written is not None and terms_of(MonitoredSite(**values)) != old

    def forget_site(self, site_id: str, updated_at: datetime) -> None:
        """Keep a tombstone of a deleted site (its devices go with their own
        ``device.deleted``)."""
        statement = insert(MonitoredSite).values(
            id=site_id,
            timezone=DEFAULT.timezone,
            tariff={},
            co2_kg_per_kwh=DEFAULT.co2_kg_per_kwh,
            members=[],
            updated_at=updated_at,
            deleted=True,
        )
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["id"], set_={"deleted": True, "members": []}
            )
        )

    def site(self, site_id: str) -> MonitoredSite | None:
        """A site that is not deleted; None if unknown (or deleted: ``known``
        tells the two apart)."""
        site = self.session.get(MonitoredSite, site_id)
        return None if site is None or site.deleted else site

    def site_known(self, site_id: str) -> bool:
        return self.session.get(MonitoredSite, site_id) is not None

    def sites_of_devices(self, device_ids) -> dict[str, str | None]:
        """``{device_id: site_id}``, the devices' rows locked ``FOR SHARE`` (in
        one order) until the commit: a device's move waits for the batch."""
        rows = self.session.execute(
            select(MonitoredDevice.id, MonitoredDevice.site_id)
            .where(MonitoredDevice.id.in_(sorted(device_ids)))
            .order_by(MonitoredDevice.id)
            .with_for_update(read=True)
        )
        return {row.id: row.site_id for row in rows}

    def site_terms(self, site_ids, lock: bool = True) -> dict[str, SiteTerms]:
        """The terms of the known sites among ``site_ids`` (a deleted one's: the
        default), their rows locked ``FOR SHARE`` unless ``lock`` is false."""
        if not site_ids:
            return {}
        query = (
            select(MonitoredSite)
            .where(MonitoredSite.id.in_(sorted(site_ids)))
            .order_by(MonitoredSite.id)
        )
        if lock:
            query = query.with_for_update(read=True)
        return {site.id: terms_of(site) for site in self.session.scalars(query)}

    def readable_sites(self, user_id: str | None) -> list[str]:
        """The ids of the sites ``user_id`` is a member of; every site's for
        None."""
        query = select(MonitoredSite.id).where(MonitoredSite.deleted.is_(False))
        if user_id is not None:
            query = query.where(MonitoredSite.members.contains([{"user_id": user_id}]))
        return list(self.session.scalars(query.order_by(MonitoredSite.id)))

    def devices_where(self, condition) -> list[MonitoredDevice]:
        """The devices (not deleted) that meet ``condition``."""
        return list(
            self.session.scalars(
                select(MonitoredDevice)
                .where(condition, MonitoredDevice.deleted.is_(False))
                .order_by(MonitoredDevice.id)
            )
        )

    # -- the rollups ---------------------------------------------------------------

    def add_to_rollups(self, days: dict, months: dict) -> None:
        """Add a batch's increments to its devices' days and months (one order of
        rows in every worker, as ``add_to_totals``)."""
        for model, key, added in (
            (DailyTotal, "day", days),
            (MonthlyTotal, "month", months),
        ):
            if not added:
                continue
            statement = insert(model).values(
                [
                    {
                        "device_id": device_id,
                        key: when,
                        **{name: getattr(amounts, name) for name in FIGURES},
                    }
                    for (device_id, when), amounts in sorted(added.items())
                ]
            )
            self.session.execute(
                statement.on_conflict_do_update(
                    index_elements=["device_id", key],
                    set_={
                        name: getattr(model, name) + statement.excluded[name]
                        for name in FIGURES
                    },
                )
            )

    def devices_of_site(self, site_id: str) -> list[str]:
        return list(
            self.session.scalars(
                select(MonitoredDevice.id)
                .where(
                    MonitoredDevice.site_id == site_id,
                    MonitoredDevice.deleted.is_(False),
                )
                .order_by(MonitoredDevice.id)
            )
        )

    def rebuild_rollups(self, device_ids: list[str], terms: SiteTerms) -> None:
        """Compute the devices' days and months again from their hourly totals,
        under ``terms``: the rules of ``rollups`` and ``tariffs``, in SQL."""
        if not device_ids:
            return
        zone = terms.zone.key
        local = func.timezone(zone, HourlyTotal.hour)
        day = cast(local, Date)
        local_hour = func.extract("hour", local)

        def price(flat, which):
            periods = terms.tariff.periods
            if not periods:
                return literal(flat, Numeric())
            return case(
                *(
                    (
                        and_(local_hour >= p.start_hour, local_hour < p.end_hour),
                        literal(getattr(p, which), Numeric()),
                    )
                    for p in periods
                ),
                else_=literal(flat, Numeric()),
            )

        imported = price(terms.tariff.import_per_kwh, "import_per_kwh")
        exported = price(terms.tariff.export_per_kwh, "export_per_kwh")
        for model in (DailyTotal, MonthlyTotal):
            self.session.execute(delete(model).where(model.device_id.in_(device_ids)))
        self.session.execute(
            insert(DailyTotal).from_select(
                ["device_id", "day", *FIGURES],
                select(
                    HourlyTotal.device_id,
                    day,
                    func.sum(HourlyTotal.kwh),
                    func.sum(HourlyTotal.export_kwh),
                    func.sum(
                        HourlyTotal.kwh * imported - HourlyTotal.export_kwh * exported
                    ),
                    func.sum(
                        HourlyTotal.kwh * literal(terms.co2_kg_per_kwh, Numeric())
                    ),
                )
                .where(HourlyTotal.device_id.in_(device_ids))
                .group_by(HourlyTotal.device_id, day),
            )
        )
        month = cast(func.date_trunc("month", DailyTotal.day), Date)
        self.session.execute(
            insert(MonthlyTotal).from_select(
                ["device_id", "month", *FIGURES],
                select(
                    DailyTotal.device_id,
                    month,
                    *(func.sum(getattr(DailyTotal, name)) for name in FIGURES),
                )
                .where(DailyTotal.device_id.in_(device_ids))
                .group_by(DailyTotal.device_id, month),
            )
        )

    # -- energy over a range -------------------------------------------------------

    def rollup_amounts(
        self, resolution: str, condition, start: date, end: date
    ) -> dict[date, Amounts]:
        """The days (months) ``[start, end)`` of the devices that meet
        ``condition``, summed over them, by date."""
        model, key = ROLLUPS[resolution]
        rows = self.session.execute(
            select(key, *(func.sum(getattr(model, name)) for name in FIGURES))
            .join(MonitoredDevice, MonitoredDevice.id == model.device_id)
            .where(
                condition,
                MonitoredDevice.deleted.is_(False),
                key >= start,
                key < end,
            )
            .group_by(key)
        )
        return {row[0]: Amounts(*row[1:]) for row in rows}

    def site_hours(
        self, condition, start: datetime, end: datetime
    ) -> list[tuple[str | None, datetime, Decimal, Decimal]]:
        """The hourly totals ``[start, end)`` of the devices that meet
        ``condition``, summed per site and hour: ``(site_id, hour, kwh,
        export_kwh)``, each priced by its site's terms."""
        rows = self.session.execute(
            select(
                MonitoredDevice.site_id,
                HourlyTotal.hour,
                func.sum(HourlyTotal.kwh),
                func.sum(HourlyTotal.export_kwh),
            )
            .join(MonitoredDevice, MonitoredDevice.id == HourlyTotal.device_id)
            .where(
                condition,
                MonitoredDevice.deleted.is_(False),
                HourlyTotal.hour >= start,
                HourlyTotal.hour < end,
            )
            .group_by(MonitoredDevice.site_id, HourlyTotal.hour)
        )
        return [tuple(row) for row in rows]

    def readings_page(
        self,
        device_id: str,
        start: datetime,
        end: datetime,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Reading]:
        """At most ``limit`` of a device's raw readings stamped in ``[start,
        end)``, in order of timestamp and id, after the key ``after`` (keyset
        pagination: each page is one index range, however deep). The range of
        ``hour`` lets PostgreSQL read only the partitions that may hold them."""
        query = select(Reading).where(
            Reading.device_id == device_id,
            Reading.hour >= hour_of(start),
            Reading.hour <= hour_of(end),
            Reading.timestamp >= start,
            Reading.timestamp < end,
        )
        if after is not None:
            stamp, reading_id = after
            query = query.where(
                func.row(Reading.timestamp, Reading.reading_id)
                > func.row(stamp, reading_id)
            )
        return list(
            self.session.scalars(
                query.order_by(Reading.timestamp, Reading.reading_id).limit(limit)
            )
        )
