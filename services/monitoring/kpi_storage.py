"""monitoringdb queries of the dashboards' figures (``kpis.py``): a portfolio's
days and months by site in one query each, and the alerts of some devices."""

from datetime import date, datetime

from sqlalchemy import func, select

from services.monitoring.energy_storage import FIGURES, ROLLUPS
from services.monitoring.models import MonitoredDevice, Notification
from services.monitoring.rollups import Amounts

#: The notifications that are alerts: a device over its hourly limit.
ALERT_REASONS = ("reading", "hourly")


class KpiStorage:
    def rollups_by_site(
        self, resolution: str, condition, keys: list[date]
    ) -> dict[tuple[str | None, date], Amounts]:
        """The days (months) ``keys`` of the devices that meet ``condition``,
        summed per site: ``{(site_id, key): Amounts}``. Sites in several time
        zones have their today on several dates; the caller picks each one's."""
        model, key = ROLLUPS[resolution]
        rows = self.session.execute(
            select(
                MonitoredDevice.site_id,
                key,
                *(func.sum(getattr(model, name)) for name in FIGURES),
            )
            .join(MonitoredDevice, MonitoredDevice.id == model.device_id)
            .where(condition, MonitoredDevice.deleted.is_(False), key.in_(keys))
            .group_by(MonitoredDevice.site_id, key)
        )
        return {(row[0], row[1]): Amounts(*row[2:]) for row in rows}

    def alerts_since(self, device_ids: list[str], since: datetime) -> dict[str, int]:
        """How many alerts each of the devices raised from ``since`` on."""
        rows = self.session.execute(
            select(Notification.device_id, func.count())
            .where(
                Notification.device_id.in_(list(device_ids)),
                Notification.reason.in_(ALERT_REASONS),
                Notification.created_at >= since,
            )
            .group_by(Notification.device_id)
        )
        return dict(rows.all())

    def alerts_between(
        self, device_ids: list[str], start: datetime, end: datetime
    ) -> list[Notification]:
        """The devices' alerts in ``[start, end)``, newest first."""
        return list(
            self.session.scalars(
                select(Notification)
                .where(
                    Notification.device_id.in_(list(device_ids)),
                    Notification.reason.in_(ALERT_REASONS),
                    Notification.created_at >= start,
                    Notification.created_at < end,
                )
                .order_by(Notification.created_at.desc(), Notification.id.desc())
            )
        )
