"""monitoring: hourly consumption reports and notifications, the devices' status,
and the copy of the devices it keeps from ``ems.sync``. Readings are counted by the
ingest workers (``services/monitoring/worker.py``), which also tell when a device
is heard from; this service marks offline the devices that fall silent and follows
their presence messages (``services/monitoring/status.py``). It also keeps the
platform's dead letters (``services/monitoring/dead_letters.py``).

A device's consumption, forecasts and status are its owner's and staff's to see
(``services/monitoring/policies.py``), decided from that copy of the devices."""

import base64
import json
import logging
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

import numpy as np
from eventlet import tpool
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.dependency_providers import Config
from nameko.rpc import rpc

from services.common import pushes
from services.common.db import Database
from services.common.envelope import MAX_BODY_BYTES
from services.common.errors import EXPECTED, ValidationFailed
from services.common.health import HealthMixin
from services.common.messaging import (
    Pusher,
    RawMessage,
    consume,
    consume_keyed,
    consume_raw,
    republish,
)
from services.common.metrics import DEAD_LETTERS, reason_label
from services.common.rpc import TimedRpcProxy
from services.common.schemas import is_id, load
from services.common.timers import configured_timer
from services.common.topology import (
    DEAD,
    MONITORING_DEVICE_CHANGED,
    MONITORING_DEVICE_DELETED,
    MONITORING_PRESENCE,
    MONITORING_SITES,
    iso_utc,
)
from services.monitoring import (
    dashboards,
    dead_letters,
    energy,
    forecast,
    generation,
    logic,
    partitions,
    policies,
    scopes,
    status,
)
from services.monitoring.devices import (
    described_device,
    known_devices,
    put_device,
    put_site,
)
from services.monitoring.exceptions import (
    DeadLettersForbidden,
    InvalidPresence,
    NoSuchDeadLetter,
    NoSuchDevice,
    NotReplayable,
)
from services.monitoring.schemas import (
    BacktestQuerySchema,
    BacktestSchema,
    ConsumptionDaySchema,
    ConsumptionQuerySchema,
    DeadLetterDetailSchema,
    DeadLetterPurgeQuerySchema,
    DeadLetterPurgeSchema,
    DeadLetterQuerySchema,
    DeadLetterReplaySchema,
    DeadLetterSchema,
    DeviceStatusQuerySchema,
    DeviceStatusSchema,
    EnergyHourSchema,
    EnergyQuerySchema,
    EnergySchema,
    ForecastQuerySchema,
    ForecastSchema,
    GenerationBacktestSchema,
    GenerationForecastSchema,
    HorizonSchema,
    KpiQuerySchema,
    KpiSchema,
    NetLoadSchema,
    NotificationQuerySchema,
    NotificationSchema,
    PowerFloorSchema,
    ReadingsExportQuerySchema,
    ReportQuerySchema,
)
from services.monitoring.storage import MonitoringStore
from services.monitoring.weather import Weather, WeatherUnavailable

log = logging.getLogger(__name__)

consumption_schema = ConsumptionDaySchema()
status_schema = DeviceStatusSchema()
notification_schema = NotificationSchema()
energy_hour_schema = EnergyHourSchema()
forecast_schema = ForecastSchema()
backtest_schema = BacktestSchema()
generation_schema = GenerationForecastSchema()
generation_backtest_schema = GenerationBacktestSchema()
net_load_schema = NetLoadSchema()
energy_schema = EnergySchema()
kpi_schema = KpiSchema()
dead_letter_schema = DeadLetterSchema()
dead_letter_detail_schema = DeadLetterDetailSchema()
replay_schema = DeadLetterReplaySchema()
purge_schema = DeadLetterPurgeSchema()
#: Dead letters kept when ``DEAD_LETTERS_KEPT`` is not set.
DEAD_LETTERS_KEPT = 10_000

#: History a forecast reads: the model's window.
FORECAST_HISTORY = timedelta(days=forecast.WINDOW_DAYS)
#: History a backtest reads: its folds (two weeks of origins) each still see most of
#: the model's window.
BACKTEST_HISTORY = timedelta(days=42)
BACKTEST_FOLDS = 14
#: The kind of device that has generation forecasts, and the kind whose energy a
#: household's net load leaves out (a battery's plan decides it).
PV_KIND = "pv"
BATTERY_KIND = "battery"
#: The installation's place when ``FORECAST`` does not say (Greenwich).
DEFAULT_PLACE = (51.48, 0.0)
#: Seconds between status checks when ``STATUS_CHECK_SECONDS`` is not set, and the
#: most devices one check marks offline (the next check goes on).
STATUS_CHECK_SECONDS = 10
#: Seconds between the readings' partition maintenance runs; the first at start.
PARTITION_MAINTENANCE_SECONDS = 3600
STATUS_CHECK_BATCH = 1000
#: The most rows one page of an export carries.
EXPORT_PAGE = 5000


def _now(now_iso: str | None) -> datetime:
    """``now_iso`` (for tests and replays), or the clock."""
    if now_iso is None:
        return datetime.now(UTC)
    try:
        now = datetime.fromisoformat(now_iso)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed("now must be an ISO-8601 datetime") from exc
    if now.tzinfo is None:
        raise ValidationFailed("now needs a time zone")
    return now.astimezone(UTC)


class MonitoringService(HealthMixin):
    name = "monitoring"

    storage = Database(MonitoringStore)
    devices_rpc = TimedRpcProxy("devices")
    batteries_rpc = TimedRpcProxy("batteries")
    alarms_rpc = TimedRpcProxy("alarms")
    push = Pusher()
    config = Config()
    weather = Weather()

    @rpc(expected_exceptions=EXPECTED)
    def consumption_day(self, caller, query):
        """A day (``date``, ``YYYY-MM-DD``) of a device the caller may see, hour
        by hour in UTC, zero-filled: energy drawn and exported."""
        query = load(ConsumptionQuerySchema(), query)
        device_id, day = query["device_id"], query["date"]
        self._require_visible(caller, device_id)
        start, end = logic.day_bounds(day)
        totals = self.storage.hourly_energy([device_id], start, end)
        hours = logic.day_series(day, totals.get(device_id, {}))
        return consumption_schema.dump(
            {
                "device_id": device_id,
                "date": day,
                "hours": hours,
                "total_kwh": sum(hour["kwh"] for hour in hours),
                "total_export_kwh": sum(hour["export_kwh"] for hour in hours),
            }
        )

    @rpc(expected_exceptions=EXPECTED)
    def hourly_series(self, device_id, start, end):
        """A device's energy in each UTC hour from ``start`` (included) to ``end``
        (excluded), ISO-8601 hour starts, zero-filled: ``[{hour, kwh, export_kwh}]``
        (drawn, exported). For other services (forecasts, baselines, settlement);
        access is the caller's business."""
        start, end = logic.hour_range(start, end)
        totals = self.storage.hourly_energy([device_id], start, end)
        return energy_hour_schema.dump(
            logic.series(start, end, totals.get(device_id, {})), many=True
        )

    @rpc(expected_exceptions=EXPECTED)
    def hourly_series_of(self, device_ids, start, end):
        """``hourly_series`` of several devices in one call: ``{device_id:
        [{hour, kwh, export_kwh}]}``, one entry per id asked for (zero-filled for a
        device with no readings). For a caller that needs a whole household's
        load."""
        device_ids = logic.device_ids(device_ids)
        start, end = logic.hour_range(start, end)
        totals = self.storage.hourly_energy(device_ids, start, end)
        return {
            device_id: energy_hour_schema.dump(
                logic.series(start, end, totals.get(device_id, {})), many=True
            )
            for device_id in device_ids
        }

    @rpc(expected_exceptions=EXPECTED)
    def forecast(self, caller, query):
        """``forecast_consumption`` of a device the caller may see (``device_id``,
        ``hours``)."""
        query = load(ForecastQuerySchema(), query)
        self._require_visible(caller, query["device_id"])
        return self._forecast(query["device_id"], query["hours"], datetime.now(UTC))

    @rpc(expected_exceptions=EXPECTED)
    def backtest(self, caller, query):
        """``backtest_consumption`` of a device the caller may see (``device_id``,
        ``horizon``)."""
        query = load(BacktestQuerySchema(), query)
        self._require_visible(caller, query["device_id"])
        return self._backtest(query["device_id"], query["horizon"], datetime.now(UTC))

    @rpc(expected_exceptions=EXPECTED)
    def forecast_consumption(self, device_id, hours=24, now_iso=None):
        """A device's energy in each of the next ``hours`` UTC hours (1 to 48),
        learned from its last 28 days (``services/monitoring/forecast.py``).

        The first hour forecast is the current one, whole: its total so far is
        incomplete, so it is not history, and it is forecast like the hours after
        it. For other services, which have decided who may see it (``forecast`` is
        the caller's).
        """
        query = load(ForecastQuerySchema(), {"device_id": device_id, "hours": hours})
        return self._forecast(device_id, query["hours"], _now(now_iso))

    @rpc(expected_exceptions=EXPECTED)
    def backtest_consumption(self, device_id, horizon=24, now_iso=None):
        """How the forecast would have done on a device's last six weeks, against
        seasonal-naive (the same hour a week earlier): MAE and MAPE of each over
        up to 14 daily origins (``forecast.backtest``). For other services, as
        ``forecast_consumption`` (``backtest`` is the caller's)."""
        query = load(
            BacktestQuerySchema(), {"device_id": device_id, "horizon": horizon}
        )
        return self._backtest(device_id, query["horizon"], _now(now_iso))

    def _forecast(self, device_id, hours, now):
        start = forecast.hour_start(now)
        history = self._history(device_id, start - FORECAST_HISTORY, start)
        result = forecast.forecast(history, start, hours)
        return forecast_schema.dump(
            {
                "device_id": device_id,
                "method": result.method,
                "fallback": result.fallback,
                "note": forecast.METHODS[result.method],
                "history_hours": result.history_hours,
                "generated_at": now,
                "hours": [
                    {"hour": start + i * logic.HOUR, "kwh": float(kwh)}
                    for i, kwh in enumerate(result.values)
                ],
            }
        )

    def _backtest(self, device_id, horizon, now):
        end = forecast.hour_start(now)
        history = self._history(device_id, end - BACKTEST_HISTORY, end)
        result = forecast.backtest(history, end, horizon, BACKTEST_FOLDS)
        return backtest_schema.dump(
            _backtest_view(device_id, result, len(history), "profile", now)
        )

    # -- generation forecasts ---------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def generation_forecast(self, caller, query):
        """``forecast_generation`` of a PV device the caller may see
        (``device_id``, ``hours``)."""
        query = load(ForecastQuerySchema(), query)
        device = self._require_visible(caller, query["device_id"])
        return self._generation(
            query["device_id"], device, query["hours"], datetime.now(UTC)
        )

    @rpc(expected_exceptions=EXPECTED)
    def generation_backtest(self, caller, query):
        """``backtest_generation`` of a PV device the caller may see
        (``device_id``, ``horizon``)."""
        query = load(BacktestQuerySchema(), query)
        device = self._require_visible(caller, query["device_id"])
        return self._generation_backtest(
            query["device_id"], device, query["horizon"], datetime.now(UTC)
        )

    @rpc(expected_exceptions=EXPECTED)
    def forecast_generation(self, device_id, hours=24, now_iso=None):
        """A PV device's expected export in each of the next ``hours`` UTC hours
        (1 to 48), from the current one: the clear sky at its place scaled by its
        export history, and by the cloud cover when a weather provider is
        configured (``services/monitoring/generation.py``). For other services,
        which have decided who may see it (``generation_forecast`` is the
        caller's)."""
        query = load(ForecastQuerySchema(), {"device_id": device_id, "hours": hours})
        device = self._device(device_id)
        return self._generation(device_id, device, query["hours"], _now(now_iso))

    @rpc(expected_exceptions=EXPECTED)
    def backtest_generation(self, device_id, horizon=24, now_iso=None):
        """How the generation forecast (without weather) would have done on a PV
        device's last six weeks, against the same hour a day earlier. For other
        services, as ``forecast_generation``."""
        query = load(
            BacktestQuerySchema(), {"device_id": device_id, "horizon": horizon}
        )
        device = self._device(device_id)
        return self._generation_backtest(
            device_id, device, query["horizon"], _now(now_iso)
        )

    @rpc(expected_exceptions=EXPECTED)
    def forecast_net_load(self, device_ids, hours=24, now_iso=None):
        """A household's net load in each of the next ``hours`` UTC hours: the
        consumption forecasts of ``device_ids`` (batteries among them left out:
        what they draw is what a battery's plan decides) minus the generation
        forecasts of those that are PV. Negative: a surplus. For other services
        (batteries' plans), which have decided whose devices these are."""
        ids = [
            device_id for device_id in logic.device_ids(device_ids) if is_id(device_id)
        ]
        hours = load(HorizonSchema(), {"hours": hours})["hours"]
        now = _now(now_iso)
        start = forecast.hour_start(now)
        consumption, produced = np.zeros(hours), np.zeros(hours)
        loads, pvs, fallbacks = [], [], []
        for device_id in ids:
            device = described_device(self.storage, self.devices_rpc, device_id)
            self.storage.commit()
            if device is None or device.deleted or device.kind == BATTERY_KIND:
                continue
            loads.append(device_id)
            drawn = self._forecast(device_id, hours, now)
            consumption += [hour["kwh"] for hour in drawn["hours"]]
            if drawn["fallback"]:
                fallbacks.append(device_id)
            if device.kind == PV_KIND:
                pvs.append(device_id)
                made = self._generation(device_id, device, hours, now)
                produced += [hour["kwh"] for hour in made["hours"]]
                if made["fallback"] and device_id not in fallbacks:
                    fallbacks.append(device_id)
        return net_load_schema.dump(
            {
                "device_ids": loads,
                "pv_device_ids": pvs,
                "fallbacks": fallbacks,
                "generated_at": now,
                "hours": [
                    {
                        "hour": start + i * logic.HOUR,
                        "consumption_kwh": float(consumption[i]),
                        "generation_kwh": float(produced[i]),
                        "net_kwh": float(consumption[i] - produced[i]),
                    }
                    for i in range(hours)
                ],
            }
        )

    def _device(self, device_id):
        """The device, as ``_require_visible`` finds it, for a service."""
        device = is_id(device_id) and described_device(
            self.storage, self.devices_rpc, device_id
        )
        self.storage.commit()
        if not device or device.deleted:
            raise NoSuchDevice()
        return device

    def _pv(self, device):
        """Where a PV device stands (a 400 for a device of another kind)."""
        if device.kind != PV_KIND:
            raise ValidationFailed(
                "generation is forecast for PV devices only",
                {"device_id": [f"a device of kind pv, not {device.kind}"]},
            )
        if device.latitude is not None and device.longitude is not None:
            return {
                "latitude": device.latitude,
                "longitude": device.longitude,
                "source": "device",
            }
        settings = self.config.get("FORECAST") or {}
        place = (settings.get("latitude"), settings.get("longitude"))
        latitude, longitude = DEFAULT_PLACE if None in place else place
        return {
            "latitude": float(latitude),
            "longitude": float(longitude),
            "source": "installation",
        }

    def _generation(self, device_id, device, hours, now):
        place = self._pv(device)
        start = forecast.hour_start(now)
        history = self._history(device_id, start - FORECAST_HISTORY, start, True)
        # No transaction stays open while pvlib and the weather provider work.
        self.storage.commit()
        # pvlib works for a while in numpy and pandas: in an OS thread, so the
        # service's other workers go on meanwhile.
        clear_history, clear_ahead = tpool.execute(
            _clear_skies, place, start, len(history), hours
        )
        cover, weather = self._cloud_cover(place, start, hours)
        result = generation.forecast(
            history,
            clear_history,
            clear_ahead,
            float(device.max_hourly_kwh),
            cover,
        )
        if cover is not None and result.method == "clear_sky_scaled":
            weather = weather | {
                "status": "too_little_history",
                "detail": f"the weather needs {generation.MIN_WEATHER_DAYS} whole "
                "days of export history",
            }
        return generation_schema.dump(
            {
                "device_id": device_id,
                "method": result.method,
                "fallback": result.fallback or weather["status"] == "unavailable",
                "note": generation.METHODS[result.method],
                "history_hours": result.history_hours,
                "scale": result.scale,
                "location": place,
                "weather": weather,
                "generated_at": now,
                "hours": [
                    {"hour": start + i * logic.HOUR, "kwh": float(kwh)}
                    for i, kwh in enumerate(result.values)
                ],
            }
        )

    def _cloud_cover(self, place, start, hours):
        """The cloud cover of the hours ahead, or None, and what became of it."""
        if self.weather is None:
            return None, {"provider": None, "status": "off", "detail": None}
        use = {"provider": self.weather.name}
        try:
            cover = self.weather.cloud_cover(
                place["latitude"], place["longitude"], start, hours
            )
        except WeatherUnavailable as exc:
            log.warning("no weather from %s: %s", self.weather.name, exc)
            return None, use | {"status": "unavailable", "detail": str(exc)}
        return cover, use | {"status": "used", "detail": None}

    def _generation_backtest(self, device_id, device, horizon, now):
        place = self._pv(device)
        end = forecast.hour_start(now)
        history = self._history(device_id, end - BACKTEST_HISTORY, end, True)
        self.storage.commit()
        clear_history, _ = tpool.execute(_clear_skies, place, end, len(history), 0)
        result = generation.backtest(
            history,
            clear_history,
            float(device.max_hourly_kwh),
            horizon,
            BACKTEST_FOLDS,
        )
        return generation_backtest_schema.dump(
            _backtest_view(device_id, result, len(history), "clear_sky_scaled", now)
        )

    def _require_visible(self, caller, device_id, policy=policies.READ_CONSUMPTION):
        """The device, as monitoring keeps it; ``NoSuchDevice`` unless it exists
        and ``policy`` lets the caller see it: a device of someone else's is
        missing to them too."""
        device = is_id(device_id) and described_device(
            self.storage, self.devices_rpc, device_id
        )
        # A device first heard of from devices is kept in the copy.
        self.storage.commit()
        if not device or device.deleted:
            raise NoSuchDevice()
        if not policy.allows(caller, device.user_id) and not self._on_a_site_of(
            caller, device_id
        ):
            raise NoSuchDevice()
        return device

    def _on_a_site_of(self, caller, device_id) -> bool:
        """Whether the device is in a site the caller is a member of (any role:
        every member reads a site's devices)."""
        row = self.storage.owner_of(device_id)
        site = row is not None and row.site_id and self.storage.site(row.site_id)
        return bool(site) and scopes.member(site, caller["user_id"])

    def _history(self, device_id, start, end, export=False):
        """Complete hours from the device's first total after ``start`` to ``end``:
        energy drawn, or ``export``ed."""
        return forecast.history_from_totals(
            self.storage.hourly_totals(device_id, start, end, export), end
        )

    # -- device status ----------------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def device_statuses(self, caller, query):
        """The status of every device the caller may see (their own and their
        sites'; staff and VIEWER: everyone's), or of the one ``device_id``, in
        device id order."""
        query = load(DeviceStatusQuerySchema(), query)
        if policies.READ_STATUS.allows(caller):
            statuses = self.storage.device_statuses(None, query.get("device_id"))
        else:
            # Their own devices and those of the sites they are members of.
            readable = scopes.resolve(
                self.storage, self.devices_rpc, caller, "portfolio", None
            )
            ids = [
                device.id for device in self.storage.devices_where(readable.condition)
            ]
            statuses = self.storage.device_statuses(
                device_id=query.get("device_id"), device_ids=ids
            )
        return status_schema.dump(statuses, many=True)

    @rpc(expected_exceptions=EXPECTED)
    def device_states(self, device_ids):
        """What is known of each device now, for a service acting for no one
        (batteries' auto mode): ``{device_id: status}``, each as
        ``device_status`` answers it with ``reported_at``, when its newest
        charge was reported. Unknown and deleted devices are left out."""
        ids = [device_id for device_id in device_ids if is_id(device_id)]
        if not ids:
            return {}
        return {
            state.device_id: status_schema.dump(state)
            | {"reported_at": status_schema.dump(state)["soc_at"]}
            for state in self.storage.device_statuses(device_ids=ids)
        }

    @rpc(expected_exceptions=EXPECTED)
    def power_floor(self, device_ids, minutes, now_iso=None):
        """The lowest power each device reported in the last ``minutes`` (1 to 10
        080), for a service acting for no one (alarms' rules): ``{device_id:
        {lowest_w, first_at, readings}}``; a device that reported no power then is
        left out."""
        query = load(PowerFloorSchema(), {"minutes": minutes})
        ids = [
            device_id for device_id in logic.device_ids(device_ids) if is_id(device_id)
        ]
        if not ids:
            return {}
        since = _now(now_iso) - timedelta(minutes=query["minutes"])
        return {
            device_id: {
                "lowest_w": lowest,
                "first_at": iso_utc(first_at),
                "readings": count,
            }
            for device_id, (lowest, first_at, count) in self.storage.power_floor(
                ids, since
            ).items()
        }

    @rpc(expected_exceptions=EXPECTED)
    def device_status(self, caller, device_id):
        """The status of a device the caller may see."""
        self._require_visible(caller, device_id, policies.READ_STATUS)
        [device] = self.storage.device_statuses(device_id=device_id)
        return status_schema.dump(device)

    @configured_timer("STATUS_CHECK_SECONDS", STATUS_CHECK_SECONDS)
    def check_silent_devices(self):
        """Mark offline the devices silent for longer than their reading interval
        allows (``status.OfflineRule``), tell their owners, and push it.

        Every monitoring process runs this; the statement that marks them skips
        the rows another holds, so each change is announced once.
        """
        now = datetime.now(UTC)
        offline = self.storage.mark_silent_offline(
            now, status.OfflineRule.from_settings(self.config), STATUS_CHECK_BATCH
        )
        self.storage.add_status_notifications(offline)
        self.storage.commit()
        for device in offline:
            self.push(pushes.DEVICE_STATUS, device, device.user_id)

    @configured_timer(
        "PARTITION_MAINTENANCE_SECONDS", PARTITION_MAINTENANCE_SECONDS, eager=True
    )
    def maintain_readings(self):
        """Create the readings' partitions of today and the next days, and drop
        those wholly older than ``READINGS_RETENTION_DAYS``
        (``services/monitoring/partitions.py``). Every monitoring process runs
        this; one at a time does the work, the others skip their turn."""
        retention = timedelta(
            days=float(
                self.config.get("READINGS_RETENTION_DAYS", partitions.RETENTION.days)
            )
        )
        self.storage.maintain_partitions(datetime.now(UTC), retention)

    @consume_keyed(MONITORING_PRESENCE, expected_exceptions=(InvalidPresence,))
    def handle_device_presence(self, body, routing_key):
        """A device says it is online (it connected) or offline (its will: the
        connection dropped): its status changes at once. A message that names no
        device, or an unknown one, is dead-lettered with why."""
        presence = status.parse_presence(body, routing_key)
        device = known_devices(
            self.storage, self.devices_rpc, {presence.device_id}
        ).get(presence.device_id)
        if device is None:
            raise InvalidPresence("unknown device")
        if device.deleted:
            # Deleting a device closes its connections, and the broker then
            # publishes its will: expected, and nothing to keep.
            return
        now = datetime.now(UTC)
        row = self.storage.set_presence(presence.device_id, presence.online, now)
        changed = []
        if row is not None:
            changed.append(
                status.from_state(
                    row, presence.device_id, device.user_id, device.reading_interval_s
                )
            )
        self.storage.add_status_notifications(changed)
        self.storage.commit()
        for change in changed:
            self.push(pushes.DEVICE_STATUS, change, change.user_id)

    @rpc(expected_exceptions=EXPECTED)
    def list_notifications(self, caller, query):
        """The caller's own notifications, newest first: overconsumption, and their
        devices going offline or coming online."""
        query = load(NotificationQuerySchema(), query)
        return notification_schema.dump(
            self.storage.notifications(caller["user_id"], query["limit"]), many=True
        )

    @consume(MONITORING_DEVICE_CHANGED)
    def handle_device_changed(self, body):
        """Keep each device's owner, limit, reading interval, site and room (a
        device moved to another site has its rollups rebuilt).

        Changes and deletions arrive on two queues, so their order is not
        guaranteed: a change older than what is stored, or of a deleted device,
        is ignored.
        """
        put_device(self.storage, body["device"], self.devices_rpc)
        self.storage.commit()

    @consume_keyed(MONITORING_SITES)
    def handle_site_event(self, body, routing_key):
        """Keep each site's time zone, tariff, CO2 intensity and members; a change
        of the first three rebuilds its devices' rollups. One queue carries a
        site's changes and its deletion, in order; a change older than what is
        stored, or of a deleted site, is ignored."""
        site = body["site"]
        if routing_key == "site.deleted":
            self.storage.forget_site(
                site["id"], datetime.fromisoformat(site["updated_at"])
            )
        else:
            put_site(self.storage, site)
        self.storage.commit()

    # -- energy over a range ----------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def energy(self, caller, query):
        """Energy drawn and exported, net, cost and CO2 of a device, room, site or
        the caller's portfolio over a range, by UTC hour or local day or month
        (``services/monitoring/energy.py``, ``scopes.py``)."""
        return self._energy(caller, query, None, None)

    @rpc(expected_exceptions=EXPECTED)
    def energy_page(self, caller, query, after=None, limit=EXPORT_PAGE):
        """``energy``'s series, at most ``limit`` buckets after the bucket
        ``after`` (its key: an ISO hour or date), for an export that pages
        through it; ``next`` is the key to ask after next, None at the end."""
        return self._energy(caller, query, after, limit)

    def _energy(self, caller, query, after, limit):
        query = load(EnergyQuerySchema(), query)
        scope = scopes.resolve(
            self.storage, self.devices_rpc, caller, query["scope"], query.get("id")
        )
        self.storage.commit()
        window = energy.resolve(
            query["resolution"],
            query["from_"],
            query["to"],
            scope.zone,
            datetime.now(UTC),
        )
        whole = window
        if limit is not None:
            window = energy.page(window, after, min(int(limit), EXPORT_PAGE))
        amounts = scopes.amounts(self.storage, scope, window)
        zone = scope.zone if scope.timezone else None
        series = energy.series(window, amounts, zone)
        answer = {
            "scope": scope.kind,
            "id": scope.id,
            "resolution": window.resolution,
            "timezone": scope.timezone,
            "currency": scope.currency,
            "from_": energy.bucket_start(whole.resolution, whole.start, zone),
            "to": energy.bucket_start(whole.resolution, whole.end, zone),
            "series": series,
            "totals": energy.row("", energy.total(amounts.values())),
        }
        if scope.currency is None:
            for figures in (*series, answer["totals"]):
                figures["cost"] = None
        dumped = energy_schema.dump(answer)
        if limit is not None:
            keys = window.keys()
            dumped["next"] = (
                keys[-1].isoformat() if keys and window.end < whole.end else None
            )
        return dumped

    @rpc(expected_exceptions=EXPECTED)
    def readings_page(self, caller, query, after=None, limit=EXPORT_PAGE):
        """A device's raw readings stamped in ``[from, to)`` (default: the last day), at
        most ``limit`` after the key ``after`` (``[timestamp, reading_id]``), in
        order, with ``next`` to ask after next (None at the end). Readings older
        than the retention window are gone: only their hourly totals remain."""
        query = load(ReadingsExportQuerySchema(), query)
        self._require_visible(caller, query["device_id"], policies.READ_CONSUMPTION)
        now = datetime.now(UTC)
        start, end = energy.instants(query["from_"], query["to"], now)
        if after is not None:
            after = (datetime.fromisoformat(after[0]), str(after[1]))
        limit = max(1, min(int(limit), EXPORT_PAGE))
        rows = self.storage.readings_page(query["device_id"], start, end, after, limit)
        page = [
            {
                "timestamp": iso_utc(row.timestamp),
                "reading_id": row.reading_id,
                "kwh": _text(row.kwh),
                "export_kwh": _text(row.export_kwh),
                "power_w": row.power_w,
                "soc_kwh": row.soc_kwh,
            }
            for row in rows
        ]
        return {
            "readings": page,
            "next": [page[-1]["timestamp"], page[-1]["reading_id"]]
            if len(rows) == limit
            else None,
        }

    # -- dashboards and reports -------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def kpis(self, caller, query):
        """A site's or the caller's portfolio's figures now: energy, cost and CO2
        today and this month, the peak hour, self-consumption and
        self-sufficiency, power, devices online, alerts, the battery fleet and
        the flexibility available (``services/monitoring/dashboards.py``)."""
        query = load(KpiQuerySchema(), query)
        scope = scopes.resolve(
            self.storage, self.devices_rpc, caller, query["scope"], query.get("id")
        )
        figures = dashboards.figures(
            self.storage,
            self.batteries_rpc.fleet_of,
            scope,
            datetime.now(UTC),
            self.alarms_rpc.active_alarm_counts,
        )
        self.storage.commit()
        return kpi_schema.dump(figures)

    @rpc(expected_exceptions=EXPECTED)
    def site_report(self, caller, site_id, query=None):
        """A site's monthly report as a PDF, base64 text (an RPC carries JSON);
        the last whole month unless ``month`` (``YYYY-MM``) says which."""
        query = load(ReportQuerySchema(), query or {})
        scope = scopes.resolve(self.storage, self.devices_rpc, caller, "site", site_id)
        self.storage.commit()
        now = datetime.now(UTC)
        month = (
            date.fromisoformat(f"{query['month']}-01")
            if query["month"]
            else (now.astimezone(scope.zone).date().replace(day=1) - timedelta(days=1))
        ).replace(day=1)
        site = self.devices_rpc.describe_site(site_id)
        names = {
            device["id"]: device["name"]
            for device in self.devices_rpc.list_devices(caller, {"site_id": site_id})
        }
        pdf = dashboards.site_report(self.storage, scope, site, month, names, now)
        self.storage.commit()
        return {
            "filename": f"report-{month:%Y-%m}-{site_id[:8]}.pdf",
            "pdf": base64.b64encode(pdf).decode("ascii"),
        }

    @consume(MONITORING_DEVICE_DELETED)
    def handle_device_deleted(self, body):
        """Purge a deleted device's readings, totals, notifications and status."""
        device = body["device"]
        self.storage.forget_device(
            device["id"],
            device["user_id"],
            datetime.fromisoformat(device["updated_at"]),
        )
        self.storage.commit()

    # -- dead letters (ADMIN's) -------------------------------------------------------

    @consume_raw(DEAD)
    def handle_dead_letter(self, message: RawMessage):
        """Move a message from ``ems.dead`` into the table, undecoded: a dead letter
        may be anything, and is kept as it came."""
        kept = int(self.config.get("DEAD_LETTERS_KEPT", DEAD_LETTERS_KEPT))
        body_bytes = int(self.config.get("DEAD_LETTER_BODY_BYTES", MAX_BODY_BYTES))
        record = dead_letters.record(message, body_bytes)
        self.storage.add_dead_letter(record, kept)
        self.storage.commit()
        DEAD_LETTERS.labels(
            reason=reason_label(record["reason"]), service=record["service"]
        ).inc()

    @rpc(expected_exceptions=EXPECTED)
    def list_dead_letters(self, caller, query):
        """The newest dead letters (``limit``; whose reason contains ``reason``)."""
        policies.MANAGE_DEAD_LETTERS.require(caller, refusal=DeadLettersForbidden())
        query = load(DeadLetterQuerySchema(), query)
        rows = self.storage.dead_letters(query.get("reason"), query["limit"])
        return dead_letter_schema.dump([_dead_letter(row) for row in rows], many=True)

    @rpc(expected_exceptions=EXPECTED)
    def get_dead_letter(self, caller, dead_letter_id):
        policies.MANAGE_DEAD_LETTERS.require(caller, refusal=DeadLettersForbidden())
        row = self._dead_letter(dead_letter_id)
        return dead_letter_detail_schema.dump(_dead_letter(row, detail=True))

    @rpc(expected_exceptions=EXPECTED)
    def replay_dead_letter(self, caller, dead_letter_id):
        """Publish a dead letter again where it was first published, with the
        headers it had then, and remove it. Replayed readings are counted once
        however often they are replayed (readings are idempotent by id)."""
        policies.MANAGE_DEAD_LETTERS.require(caller, refusal=DeadLettersForbidden())
        row = self._dead_letter(dead_letter_id, lock=True)
        why_not = dead_letters.why_not_replayable(row.exchange, row.truncated)
        if why_not:
            raise NotReplayable(f"cannot replay: {why_not}")
        republish(
            self.config[AMQP_URI_CONFIG_KEY],
            row.exchange,
            row.routing_key,
            row.body,
            dead_letters.replay_headers(json.loads(row.headers)),
            row.content_type,
            row.content_encoding,
        )
        # Removed after the publish was confirmed: a failure in between leaves it
        # here to replay again, never lost.
        self.storage.delete_dead_letters(row.id)
        self.storage.commit()
        return replay_schema.dump(row)

    @rpc(expected_exceptions=EXPECTED)
    def delete_dead_letter(self, caller, dead_letter_id):
        policies.MANAGE_DEAD_LETTERS.require(caller, refusal=DeadLettersForbidden())
        self._dead_letter(dead_letter_id)
        self.storage.delete_dead_letters(dead_letter_id)
        self.storage.commit()

    @rpc(expected_exceptions=EXPECTED)
    def purge_dead_letters(self, caller, query):
        """Delete every dead letter (whose reason contains ``reason``)."""
        policies.MANAGE_DEAD_LETTERS.require(caller, refusal=DeadLettersForbidden())
        query = load(DeadLetterPurgeQuerySchema(), query)
        deleted = self.storage.delete_dead_letters(reason=query.get("reason"))
        self.storage.commit()
        return purge_schema.dump({"deleted": deleted})

    def _dead_letter(self, dead_letter_id, lock=False):
        row = is_id(dead_letter_id) and self.storage.dead_letter(dead_letter_id, lock)
        if not row:
            raise NoSuchDeadLetter()
        return row


def _text(value) -> str | None:
    """An exact kWh figure as decimal text."""
    return None if value is None else format(value, "f")


def _clear_skies(place: dict, start: datetime, past: int, ahead: int):
    """The clear sky of one kW of peak at ``place`` in the ``past`` hours before
    ``start`` and the ``ahead`` hours from it."""
    both = generation.clear_sky_kwh(
        place["latitude"], place["longitude"], start - past * logic.HOUR, past + ahead
    )
    return both[:past], both[past:]


def _backtest_view(device_id, result, history_hours: int, method: str, now) -> dict:
    """A backtest as the API answers it."""
    if result.folds:
        note = (
            f"{result.folds} forecasts of {result.horizon} h, issued a day "
            "apart, each from the hours before it only"
        )
    else:
        note = (
            f"not enough history: {history_hours} h, a backtest needs "
            f"{result.min_history_hours} h"
        )
    return {
        "device_id": device_id,
        "horizon": result.horizon,
        "folds": result.folds,
        "hours_evaluated": result.hours_evaluated,
        "hours_excluded_from_mape": result.hours_excluded_from_mape,
        "history_hours": history_hours,
        "min_history_hours": result.min_history_hours,
        "seasonal_period_hours": result.seasonal_period_hours,
        "model": {"method": method, **asdict(result.model)},
        "seasonal_naive": {
            "method": f"same hour {result.seasonal_period_hours} h earlier",
            **asdict(result.seasonal_naive),
        },
        "skill": result.skill,
        "note": note,
        "generated_at": now,
    }


def _dead_letter(row, detail: bool = False) -> dict:
    view = {
        column: getattr(row, column)
        for column in (
            "id",
            "received_at",
            "reason",
            "service",
            "exchange",
            "routing_key",
            "content_type",
            "size",
        )
    }
    view["headers"] = json.loads(row.headers)
    view["preview"] = dead_letters.preview(row.body)
    view["replayable"] = not dead_letters.why_not_replayable(
        row.exchange, row.truncated
    )
    if detail:
        view.update(
            content_encoding=row.content_encoding,
            body=row.body.decode("utf-8", "replace"),
            truncated=row.truncated,
        )
    return view
