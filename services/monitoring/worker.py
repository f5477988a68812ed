"""The ingest worker: counts readings into hourly totals, raises overconsumption, and
keeps the devices' status.

One program, several processes: each consumes its own ingest queue (the balancer
round-robins readings between them), named by ``INGEST_QUEUE``. A batch of readings
is inserted and added to its device-hours, and to their local days and months
(``services/monitoring/rollups.py``), in one transaction, with what it tells of
its devices' status (``services/monitoring/status.py``), and acked after the commit;
a reading already stored (same ``reading_id`` in the same hour, which a redelivered
or repeated reading has: its timestamp is the same) adds nothing, so a redelivered
batch counts once. Before it writes, a batch has a partition of ``readings`` for each
of its days (``services/monitoring/partitions.py``). Readings that can never be
counted are dead-lettered with why.
"""

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from nameko.dependency_providers import Config

from services.common import pushes
from services.common.batching import consume_batch
from services.common.db import Database
from services.common.messaging import Pusher
from services.common.rpc import TimedRpcProxy
from services.common.topology import ingest_queue_named
from services.monitoring import logic, partitions, rollups, status
from services.monitoring.devices import device_terms, known_devices
from services.monitoring.exceptions import InvalidReading
from services.monitoring.ingest_metrics import record_batch
from services.monitoring.storage import MonitoringStore


class MonitoringWorker:
    name = "monitoring_worker"

    storage = Database(MonitoringStore)
    devices_rpc = TimedRpcProxy("devices")
    push = Pusher()
    config = Config()

    @consume_batch("INGEST_QUEUE", ingest_queue_named)
    def ingest(self, deliveries):
        now = datetime.now(UTC)
        max_kwh = Decimal(str(self.config["MAX_READING_KWH"]))
        backfill, window = partitions.ingest_window(
            timedelta(
                days=float(self.config.get("BACKFILL_DAYS", logic.BACKFILL.days))
            ),
            timedelta(
                days=float(
                    self.config.get(
                        "READINGS_RETENTION_DAYS", partitions.RETENTION.days
                    )
                )
            ),
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
                    delivery.body,
                    delivery.routing_key,
                    now,
                    max_kwh,
                    backfill,
                    ahead,
                    window,
                )
            except InvalidReading as exc:
                rejected[index] = str(exc)
            else:
                parsed.append((index, reading))

        devices = known_devices(
            self.storage, self.devices_rpc, {reading.device_id for _, reading in parsed}
        )
        counted = []
        for index, reading in parsed:
            device = devices.get(reading.device_id)
            if device is None:
                rejected[index] = "unknown device"
            elif device.deleted:
                rejected[index] = "device deleted"
            else:
                counted.append(reading)

        # Every hour of the batch has its partition before the transaction writes:
        # created apart, under the partitions' lock, if the maintenance has not yet.
        unique = logic.unique(counted)
        self.storage.create_partitions(
            partitions.needed(reading.hour for reading in unique)
        )
        # The devices' sites are read (and held) before any total changes: a
        # site's change rebuilds their rollups either wholly before this batch or
        # wholly after it (``services/monitoring/energy_storage.py``).
        terms = device_terms(
            self.storage, self.devices_rpc, {reading.device_id for reading in unique}
        )
        inserted = self.storage.insert_readings(unique)
        added = logic.increments(inserted)
        changes = self.storage.add_to_totals(added)
        # Days and months get what the hours got, in the same transaction: a
        # reading counted once in its hour is counted once in its day and month.
        self.storage.add_to_rollups(*rollups.increments(added, terms))
        self.storage.mark_alerted(logic.newly_over(changes, devices))
        notifications = self.storage.add_notifications(
            logic.alerts(inserted, changes, devices)
        )
        # Every valid reading says when its device was heard from, a redelivered
        # one too: what it says is the same the second time.
        online = self.storage.see_devices(
            status.sightings(
                counted, devices, now, status.OfflineRule.from_settings(self.config)
            ),
            now,
        )
        self.storage.add_status_notifications(online)
        self.storage.commit()
        record_batch(deliveries, parsed, inserted, rejected, time.time())

        # Pushed after the commit: a push may be lost if this process dies right
        # here, but never announces what was not stored (the notification list
        # keeps it either way).
        for notification in notifications:
            self.push(pushes.OVERCONSUMPTION, notification, notification.user_id)
        # One message per owner and batch, so open charts follow the readings.
        for user_id, totals in logic.totals_by_owner(changes, devices).items():
            self.push(pushes.CONSUMPTION_UPDATED, {"totals": totals}, user_id)
        for device in online:
            self.push(pushes.DEVICE_STATUS, device, device.user_id)
        return rejected
