"""The ingest worker: counts readings into hourly totals and raises overconsumption.

One program, several processes: each consumes its own ingest queue (the balancer
round-robins readings between them), named by ``INGEST_QUEUE``. A batch of readings
is inserted and added to its device-hours in one transaction, and acked after the
commit; a reading already stored (same ``reading_id``) adds nothing, so a redelivered
batch counts once. Readings that can never be counted are dead-lettered with why.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from nameko.dependency_providers import Config

import services.devices.exceptions  # noqa: F401 - RPC errors arrive as themselves
from services.common.batching import consume_batch
from services.common.db import Database
from services.common.errors import NotFound
from services.common.messaging import Dispatcher
from services.common.rpc import TimedRpcProxy
from services.common.topology import (
    WS,
    client_message,
    ingest_queue_named,
    user_message_key,
)
from services.monitoring import logic
from services.monitoring.exceptions import InvalidReading
from services.monitoring.schemas import ConsumptionUpdateSchema, OverconsumptionSchema
from services.monitoring.storage import MonitoringStore

overconsumption_schema = OverconsumptionSchema()
update_schema = ConsumptionUpdateSchema()


class MonitoringWorker:
    name = "monitoring_worker"

    storage = Database(MonitoringStore)
    devices_rpc = TimedRpcProxy("devices")
    dispatch = Dispatcher(WS)
    config = Config()

    @consume_batch("INGEST_QUEUE", ingest_queue_named)
    def ingest(self, deliveries):
        now = datetime.now(UTC)
        max_kwh = Decimal(str(self.config["MAX_READING_KWH"]))
        backfill = timedelta(
            days=float(self.config.get("BACKFILL_DAYS", logic.BACKFILL.days))
        )
        ahead = timedelta(
            seconds=float(
                self.config.get("MAX_AHEAD_SECONDS", logic.MAX_AHEAD.total_seconds())
            )
        )
        rejected, parsed = {}, []
        for index, delivery in enumerate(deliveries):
            try:
                reading = logic.parse_reading(
                    delivery.body, delivery.routing_key, now, max_kwh, backfill, ahead
                )
            except InvalidReading as exc:
                rejected[index] = str(exc)
            else:
                parsed.append((index, reading))

        devices = self._devices({reading.device_id for _, reading in parsed})
        counted = []
        for index, reading in parsed:
            device = devices.get(reading.device_id)
            if device is None:
                rejected[index] = "unknown device"
            elif device.deleted:
                rejected[index] = "device deleted"
            else:
                counted.append(reading)

        inserted = self.storage.insert_readings(logic.unique(counted))
        changes = self.storage.add_to_totals(logic.increments(inserted))
        self.storage.mark_alerted(logic.newly_over(changes, devices))
        notifications = self.storage.add_notifications(
            logic.alerts(inserted, changes, devices)
        )
        self.storage.commit()

        # Pushed after the commit: a push may be lost if this process dies right
        # here, but never announces what was not stored (the notification list
        # keeps it either way).
        for notification in notifications:
            self.dispatch(
                user_message_key(notification.user_id, "overconsumption"),
                client_message(
                    "overconsumption", overconsumption_schema.dump(notification)
                ),
            )
        # One message per owner and batch, so open charts follow the readings.
        for user_id, totals in logic.totals_by_owner(changes, devices).items():
            self.dispatch(
                user_message_key(user_id, logic.CONSUMPTION_UPDATED),
                client_message(
                    logic.CONSUMPTION_UPDATED, update_schema.dump({"totals": totals})
                ),
            )
        return rejected

    def _devices(self, device_ids: set[str]) -> dict[str, logic.DeviceLimit]:
        """The devices of a batch; one not yet seen on ``ems.sync`` (its event is
        still on the way) is asked of the devices service."""
        known = self.storage.device_limits(device_ids)
        for device_id in device_ids - known.keys():
            try:
                device = self.devices_rpc.describe_device(device_id)
            except NotFound:
                continue
            updated_at = datetime.fromisoformat(device["updated_at"])
            self.storage.put_device(
                device_id, device["user_id"], device["max_hourly_kwh"], updated_at
            )
            known[device_id] = logic.DeviceLimit(
                device["user_id"], Decimal(str(device["max_hourly_kwh"]))
            )
        return known
