"""monitoring: hourly consumption reports and notifications, and the copy of the
devices it keeps from ``ems.sync``. Readings are counted by the ingest workers
(``services/monitoring/worker.py``)."""

from datetime import date, datetime

from nameko.rpc import rpc

from services.common.db import Database
from services.common.errors import EXPECTED
from services.common.health import HealthMixin
from services.common.messaging import consume
from services.common.topology import sync_queue
from services.monitoring import logic
from services.monitoring.schemas import (
    ConsumptionDaySchema,
    HourSchema,
    NotificationSchema,
)
from services.monitoring.storage import MonitoringStore

consumption_schema = ConsumptionDaySchema()
notification_schema = NotificationSchema()
hour_schema = HourSchema()


class MonitoringService(HealthMixin):
    name = "monitoring"

    storage = Database(MonitoringStore)

    @rpc(expected_exceptions=EXPECTED)
    def consumption_day(self, device_id, day):
        """``day`` (``YYYY-MM-DD``) of a device, hour by hour in UTC, zero-filled.

        Access is the caller's business: the gateway asks devices first.
        """
        day = date.fromisoformat(day)
        start, end = logic.day_bounds(day)
        hours = logic.day_series(day, self.storage.hourly_totals(device_id, start, end))
        return consumption_schema.dump(
            {
                "device_id": device_id,
                "date": day,
                "hours": hours,
                "total_kwh": sum(hour["kwh"] for hour in hours),
            }
        )

    @rpc(expected_exceptions=EXPECTED)
    def hourly_series(self, device_id, start, end):
        """A device's energy in each UTC hour from ``start`` (included) to ``end``
        (excluded), ISO-8601 hour starts, zero-filled: ``[{hour, kwh}]``. For other
        services (forecasts, baselines, settlement); access is the caller's
        business."""
        start, end = logic.hour_range(start, end)
        totals = self.storage.hourly_totals(device_id, start, end)
        return hour_schema.dump(logic.series(start, end, totals), many=True)

    @rpc(expected_exceptions=EXPECTED)
    def list_notifications(self, user_id, limit=50):
        return notification_schema.dump(
            self.storage.notifications(user_id, limit), many=True
        )

    @consume(
        sync_queue("monitoring", "device.created", "device.updated", purpose="devices")
    )
    def handle_device_changed(self, body):
        """Keep each device's owner and limit.

        Changes and deletions arrive on two queues, so their order is not
        guaranteed: a change older than what is stored, or of a deleted device,
        is ignored.
        """
        device = body["device"]
        self.storage.put_device(
            device["id"],
            device["user_id"],
            device["max_hourly_kwh"],
            datetime.fromisoformat(device["updated_at"]),
        )
        self.storage.commit()

    @consume(sync_queue("monitoring", "device.deleted", purpose="deleted-devices"))
    def handle_device_deleted(self, body):
        """Purge a deleted device's readings, totals and notifications."""
        device = body["device"]
        self.storage.forget_device(
            device["id"],
            device["user_id"],
            datetime.fromisoformat(device["updated_at"]),
        )
        self.storage.commit()
