"""batteries: batteries on ``battery`` devices, the commands they take, their state
of charge, and the cheapest charge/discharge plan for given prices.

Every call made for someone names its ``caller`` (``{"user_id", "role"}``, from the
verified token) first, and ``policies.py`` decides what they may do: a battery the
caller may not see answers ``BatteryNotFound``, exactly like a missing one. A new
battery's device comes from devices, asked for the caller: it must be theirs (or
ADMIN adds it for its owner) and a ``battery``. A schedule's load, when not given,
is monitoring's forecast for a device devices lets the caller see.

A battery's state is recorded when it changes — a command, or a bound that stopped
it — and worked out in between (``physics.state_at``). Each change is pushed as
``battery.state`` to ``user.<owner>.battery.state`` on ``ems.ws``.
"""

from datetime import UTC, datetime

from eventlet import tpool
from nameko.rpc import rpc
from nameko.timer import timer

from services.batteries import physics, policies
from services.batteries.exceptions import BatteryNotFound
from services.batteries.schedule import Target, optimal_schedule
from services.batteries.schemas import (
    BatteryCommandSchema,
    BatteryCreateSchema,
    BatteryScheduleRequestSchema,
    BatteryScheduleResultSchema,
    BatterySchema,
)
from services.batteries.storage import LIMIT_FIELDS, BatteryStore
from services.common import pushes
from services.common.db import Database
from services.common.errors import EXPECTED, Forbidden, Unavailable, ValidationFailed
from services.common.health import HealthMixin
from services.common.messaging import Pusher, consume
from services.common.policy import listing_owner, permissions
from services.common.rpc import TimedRpcProxy
from services.common.schemas import load
from services.common.topology import BATTERIES_DEVICE_DELETED, BATTERIES_USER_DELETED

battery_schema = BatterySchema()
schedule_schema = BatteryScheduleResultSchema()

#: Seconds between two looks for batteries that reached a bound.
SETTLE_INTERVAL = 5
#: The kind of device a battery sits on.
BATTERY_KIND = "battery"


def _now() -> datetime:
    return datetime.now(UTC)


def _recorded(battery) -> physics.State:
    return physics.State(battery.soc_kwh, battery.mode, battery.power_kw)


class BatteriesService(HealthMixin):
    name = "batteries"

    storage = Database(BatteryStore)
    push = Pusher()
    # Someone waits for the answer: a service that does not reply is given up.
    devices_rpc = TimedRpcProxy("devices")
    monitoring_rpc = TimedRpcProxy("monitoring")

    @rpc(expected_exceptions=EXPECTED)
    def create_battery(self, caller, body):
        """A battery on device ``body["device_id"]``, for the device's owner, idle,
        holding ``soc_kwh`` (its minimum charge if not given)."""
        policies.CREATE.require(caller)
        data = load(BatteryCreateSchema(), body)
        # Another user's device answers 404, like a missing one.
        device = self.devices_rpc.get_device(caller, data["device_id"])
        policies.ADD.require(
            caller,
            device["user_id"],
            refusal=Forbidden("only the device's owner or ADMIN adds its battery"),
        )
        if device["kind"] != BATTERY_KIND:
            raise ValidationFailed(
                "not a battery device",
                {"device_id": [f"a device of kind battery, not {device['kind']}"]},
            )
        limits = physics.Limits(**{field: data[field] for field in LIMIT_FIELDS})
        state = physics.State(data.get("soc_kwh", limits.soc_min_kwh))
        battery = self.storage.add_battery(
            device["user_id"], data["device_id"], data, state, _now()
        )
        self.storage.commit()
        self._push(battery, state)
        return self._dump(battery, state, caller)

    @rpc(expected_exceptions=EXPECTED)
    def get_battery(self, caller, battery_id):
        battery = self._readable(caller, battery_id)
        return self._dump(battery, self._state_now(battery), caller)

    @rpc(expected_exceptions=EXPECTED)
    def list_batteries(self, caller, user_id=None):
        owner = listing_owner(caller, policies.READ_ALL, user_id)
        now = _now()
        return [
            self._dump(battery, self._state_now(battery, now), caller)
            for battery in self.storage.list_batteries(owner)
        ]

    @rpc(expected_exceptions=EXPECTED)
    def list_batteries_of(self, user_ids):
        """What the users' batteries could discharge now, for demand response:
        ``[{user_id, battery_id, device_id, max_discharge_kw, available_kwh}]``."""
        now = _now()
        offered = []
        for battery in self.storage.batteries_of(user_ids):
            limits = physics.Limits.of(battery)
            state = self._state_now(battery, now)
            offered.append(
                {
                    "user_id": battery.user_id,
                    "battery_id": battery.id,
                    "device_id": battery.device_id,
                    "max_discharge_kw": battery.max_discharge_kw,
                    "available_kwh": round(
                        physics.deliverable_kwh(limits, state.soc_kwh), 6
                    ),
                }
            )
        return offered

    @rpc(expected_exceptions=EXPECTED)
    def command_battery(self, caller, battery_id, body):
        """Charge or discharge at ``power_kw``, or stop: ``{"action", "power_kw"}``.

        The battery is locked while its state now is worked out and the command
        applied, so two commands at once apply one after the other.
        """
        command = load(BatteryCommandSchema(), body)
        battery = self._writable(caller, battery_id, policies.COMMAND, for_update=True)
        now = _now()
        state = physics.command(
            physics.Limits.of(battery),
            self._state_now(battery, now),
            command["action"],
            command.get("power_kw"),
        )
        self.storage.set_state(battery, state, now)
        self.storage.commit()
        self._push(battery, state)
        return self._dump(battery, state, caller)

    @rpc(expected_exceptions=EXPECTED)
    def schedule_battery(self, caller, battery_id, body):
        """The cheapest plan for the hours of ``body`` (prices, load or the device
        whose forecast it is, optional start and target;
        ``BatteryScheduleRequestSchema``). Nothing is stored."""
        request = load(BatteryScheduleRequestSchema(), body)
        device_id = request.pop("load_device_id", None)
        if device_id is not None:
            request["load_kwh"] = self._forecast_load(
                caller, device_id, len(request["import_prices"])
            )
        battery = self._readable(caller, battery_id)
        start = request.get("start_soc_kwh")
        if start is None:
            start = self._state_now(battery).soc_kwh
        limits = physics.Limits.of(battery)
        # No transaction stays open while the plan is worked out.
        self.storage.commit()
        target = request.get("target")
        # The plan takes tens of milliseconds of numpy: in an OS thread, so the
        # service's other workers go on meanwhile.
        schedule = tpool.execute(
            optimal_schedule,
            limits,
            request["import_prices"],
            request["export_prices"],
            request["load_kwh"],
            start,
            Target(**target) if target else None,
        )
        return schedule_schema.dump(schedule)

    @rpc(expected_exceptions=EXPECTED)
    def delete_battery(self, caller, battery_id):
        self.storage.delete_battery(self._writable(caller, battery_id, policies.DELETE))
        self.storage.commit()

    @consume(BATTERIES_USER_DELETED)
    def handle_user_deleted(self, body):
        """A deleted user's batteries go with them (again harmlessly if the event
        is redelivered)."""
        self.storage.delete_batteries_of(body["user"]["id"])
        self.storage.commit()

    @consume(BATTERIES_DEVICE_DELETED)
    def handle_device_deleted(self, body):
        """A deleted device's battery goes with it."""
        self.storage.delete_battery_of_device(body["device"]["id"])
        self.storage.commit()

    @timer(interval=SETTLE_INTERVAL)
    def settle_batteries(self):
        """Record the batteries that reached a bound and stopped, and push their
        state: their owner learns the battery is full (or empty) without asking.

        Reads would show them stopped anyway; recording it keeps the timer from
        finding them again. Batteries another process is settling are skipped.
        """
        now = _now()
        settled = []
        for battery in self.storage.moving_batteries():
            limits = physics.Limits.of(battery)
            state = physics.state_at(
                limits, _recorded(battery), battery.updated_at, now
            )
            if state.mode == physics.IDLE:
                stopped = physics.stopped_at(
                    limits, _recorded(battery), battery.updated_at
                )
                settled.append(self.storage.set_state(battery, state, stopped))
        self.storage.commit()
        for battery in settled:
            self._push(battery, _recorded(battery))

    def _state_now(self, battery, now: datetime | None = None) -> physics.State:
        return physics.state_at(
            physics.Limits.of(battery),
            _recorded(battery),
            battery.updated_at,
            now or _now(),
        )

    def _readable(self, caller, battery_id):
        battery = self.storage.get_battery(battery_id)
        policies.READ.require(caller, battery.user_id, refusal=BatteryNotFound())
        return battery

    def _writable(self, caller, battery_id, policy, for_update=False):
        battery = self.storage.get_battery(battery_id, for_update=for_update)
        policy.require(caller, battery.user_id, refusal=BatteryNotFound())
        return battery

    def _forecast_load(self, caller, device_id, hours) -> list[float]:
        """The ``hours`` next hours of a device's use, as monitoring forecasts it."""
        self.devices_rpc.get_device(caller, device_id)  # 404 unless visible
        forecast = self.monitoring_rpc.forecast_consumption(device_id, hours)
        load = [hour["kwh"] for hour in forecast["hours"]][:hours]
        if len(load) < hours:
            raise Unavailable("the load forecast is shorter than the prices")
        return load

    def _dump(self, battery, state: physics.State, caller) -> dict:
        limits = physics.Limits.of(battery)
        return battery_schema.dump(
            {
                "id": battery.id,
                "user_id": battery.user_id,
                "device_id": battery.device_id,
                **{field: getattr(battery, field) for field in LIMIT_FIELDS},
                "soc_kwh": state.soc_kwh,
                "soc_fraction": physics.soc_fraction(limits, state.soc_kwh),
                "mode": state.mode,
                "power_kw": state.power_kw,
                "updated_at": battery.updated_at,
                "created_at": battery.created_at,
                "permissions": permissions(
                    caller, battery.user_id, *policies.ON_A_BATTERY
                ),
            }
        )

    def _push(self, battery, state: physics.State) -> None:
        self.push(
            pushes.BATTERY_STATE,
            {
                "battery_id": battery.id,
                "soc_kwh": state.soc_kwh,
                "soc_fraction": physics.soc_fraction(
                    physics.Limits.of(battery), state.soc_kwh
                ),
                "mode": state.mode,
                "power_kw": state.power_kw,
            },
            battery.user_id,
        )
