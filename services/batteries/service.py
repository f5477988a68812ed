"""batteries: batteries on ``battery`` devices, the commands they take, their state
of charge, and the cheapest charge/discharge plan for given prices.

Every call made for someone names its ``caller`` (``{"user_id", "role"}``, from the
verified token) first, and ``policies.py`` decides what they may do: a battery the
caller may not see answers ``BatteryNotFound``, exactly like a missing one. A new
battery's device comes from devices, asked for the caller: it must be theirs (or
ADMIN adds it for its owner) and a ``battery``. A schedule's load, when not given,
is monitoring's forecast for a device devices lets the caller see, or the net load
of the battery owner's devices (their consumption forecasts minus their PV devices'
generation forecasts): with it, the plan charges from the household's own surplus.

A battery's state is recorded when it changes — a command, or a bound that stopped
it — and worked out in between (``physics.state_at``). Each change is pushed as
``battery.state`` to ``user.<owner>.battery.state`` on ``ems.ws``. Every command
also goes to the battery's device as a ``battery_setpoint`` (devices'
``issue_command``).

A battery in ``auto`` control follows its optimal plan: each control interval
(``BATTERIES.control_interval_s``) the control timer sends the plan's setpoint for
it, and works the plan out again from the charge the device reported (monitoring's
``device_states``) when it drifted or ran out (``control.decide``). A manual
command holds an auto battery for ``override_minutes``, then the plan resumes.
"""

import logging
from datetime import UTC, datetime, timedelta

from eventlet import tpool
from nameko.dependency_providers import Config
from nameko.rpc import rpc
from nameko.timer import timer

from services.batteries import control, physics, policies
from services.batteries.exceptions import BatteryNotFound, CommandRefused
from services.batteries.schedule import Target, optimal_schedule
from services.batteries.schemas import (
    BatteryCommandSchema,
    BatteryControlSchema,
    BatteryCreateSchema,
    BatteryPlanSchema,
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
from services.devices import commands
from services.devices.client import commands_now

log = logging.getLogger(__name__)

battery_schema = BatterySchema()
schedule_schema = BatteryScheduleResultSchema()
plan_schema = BatteryPlanSchema()

#: Seconds between two looks for batteries that reached a bound.
SETTLE_INTERVAL = 5
#: Seconds between two looks for auto batteries whose control interval began:
#: short, so that a setpoint goes out soon after its interval starts whatever
#: the interval (the interval key, not the tick, decides what is sent).
CONTROL_TICK = 1
#: Auto mode's settings (``BATTERIES`` in the settings) when not given.
DEFAULTS = {
    "control_interval_s": 900,
    "plan_step_s": 3600,
    "drift_fraction": 0.05,
    "override_minutes": 60,
}
#: How many control intervals ``get_plan`` shows.
INTERVALS_SHOWN = 96
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
    config = Config()
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
        role = None
        if not policies.ADD.allows(caller, device["user_id"]):
            role = self._site_roles(caller, [device["id"]]).get(device["id"])
        policies.ADD.require(
            caller,
            device["user_id"],
            refusal=Forbidden(
                "only the device's owner, those who run its site or ADMIN add "
                "its battery"
            ),
            site_role=role,
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
        """Everyone's batteries (or one owner's) for those who read all; anyone
        else's own and those on the devices of the sites they are members of."""
        now = _now()
        if policies.READ_ALL.allows(caller):
            batteries = self.storage.list_batteries(
                listing_owner(caller, policies.READ_ALL, user_id)
            )
        else:
            batteries = self.storage.batteries_of_or_on(
                caller["user_id"], list(self._site_roles(caller))
            )
        return [
            self._dump(battery, self._state_now(battery, now), caller)
            for battery in batteries
        ]

    @rpc(expected_exceptions=EXPECTED)
    def list_batteries_of(self, user_ids):
        """What the users' batteries could discharge now, for demand response:
        ``[{user_id, battery_id, device_id, max_discharge_kw, available_kwh}]``."""
        now = _now()
        return [
            self._offer(battery, self._state_now(battery, now))
            for battery in self.storage.batteries_of(user_ids)
        ]

    @rpc(expected_exceptions=EXPECTED)
    def fleet_of(self, device_ids):
        """The batteries on these devices as a fleet, for a site's figures: each
        one's offer (as ``list_batteries_of``) with its capacity, its charge now
        and its control."""
        now = _now()
        fleet = []
        for battery in self.storage.batteries_on(device_ids):
            state = self._state_now(battery, now)
            fleet.append(
                {
                    **self._offer(battery, state),
                    "capacity_kwh": battery.capacity_kwh,
                    "soc_kwh": round(state.soc_kwh, 6),
                    "control": battery.control,
                }
            )
        return fleet

    @staticmethod
    def _offer(battery, state: physics.State) -> dict:
        return {
            "user_id": battery.user_id,
            "battery_id": battery.id,
            "device_id": battery.device_id,
            "max_discharge_kw": battery.max_discharge_kw,
            "available_kwh": round(
                physics.deliverable_kwh(physics.Limits.of(battery), state.soc_kwh), 6
            ),
        }

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
        if battery.control == control.AUTO:
            minutes = command.get("override_minutes", self._setting("override_minutes"))
            battery.override_until = now + timedelta(minutes=minutes)
        # The device is told before the state is committed: a command devices
        # refuses (or cannot take) leaves the stored battery as it was.
        self._send_setpoint(
            battery,
            control.signed_power(command["action"], command.get("power_kw") or 0.0),
            caller["user_id"],
        )
        self.storage.commit()
        self._push(battery, state)
        return self._dump(battery, state, caller)

    @rpc(expected_exceptions=EXPECTED)
    def set_control(self, caller, battery_id, body):
        """Switch a battery to ``manual`` or ``auto`` (``BatteryControlSchema``).

        ``auto`` works out the plan for ``body["plan"]`` (as ``schedule_battery``)
        from the battery's charge now, starting with the current control
        interval; the control timer then executes it. ``manual`` drops the plan:
        the battery keeps its last setpoint until commanded.
        """
        request = load(BatteryControlSchema(), body)
        plan = None
        if request["control"] == control.AUTO:
            prices = dict(request["plan"])
            device_id = prices.pop("load_device_id", None)
            if device_id is not None:
                prices["load_kwh"] = self._forecast_load(
                    caller, device_id, len(prices["import_prices"])
                )
            battery = self._readable(caller, battery_id)
            start = prices.pop("start_soc_kwh", None)
            if start is None:
                start = self._state_now(battery).soc_kwh
            limits, owner = physics.Limits.of(battery), battery.user_id
            self.storage.commit()
            if prices.pop("household_net_load", False):
                prices["load_kwh"] = self._household_load(
                    owner, len(prices["import_prices"])
                )
            plan = self._plan(limits, prices, start, _now())
        battery = self._writable(caller, battery_id, policies.COMMAND, for_update=True)
        self.storage.set_control(battery, request["control"], plan)
        self.storage.commit()
        return self._dump(battery, self._state_now(battery), caller)

    @rpc(expected_exceptions=EXPECTED)
    def get_plan(self, caller, battery_id):
        """Auto mode's plan and its latest control intervals, to chart the plan
        against what was sent and reported."""
        battery = self._readable(caller, battery_id)
        interval_s = self._setting("control_interval_s")
        since = _now() - timedelta(seconds=INTERVALS_SHOWN * interval_s)
        intervals = self._with_answers(self.storage.intervals(battery.id, since))
        return plan_schema.dump(
            {
                "battery_id": battery.id,
                "control": battery.control,
                "override_until": battery.override_until,
                "step_s": battery.plan["step_s"] if battery.plan else None,
                "interval_s": interval_s,
                "steps": control.plan_steps(battery.plan) if battery.plan else [],
                "intervals": intervals,
            }
        )

    def _with_answers(self, intervals: list) -> list:
        """``intervals`` with their setpoints' statuses as devices has them now
        (delivered, then acked or rejected), stored; as stored should devices
        not answer."""
        waiting = {
            interval.command_id: interval
            for interval in intervals
            if interval.command_id and interval.command_status in commands.OPEN
        }
        self.storage.commit()  # devices is asked outside a transaction
        for command_id, command in commands_now(
            self.devices_rpc, list(waiting)
        ).items():
            waiting[command_id].command_status = command["status"]
        self.storage.commit()
        return intervals

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
        limits, owner = physics.Limits.of(battery), battery.user_id
        # No transaction stays open while the load is forecast or the plan is
        # worked out.
        self.storage.commit()
        if request.pop("household_net_load", False):
            request["load_kwh"] = self._household_load(
                owner, len(request["import_prices"])
            )
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

    @timer(interval=CONTROL_TICK)
    def control_batteries(self):
        """Send each auto battery the setpoint of the control interval that began,
        once: the battery is locked (one skipped when another process holds it)
        and the interval recorded under its key before the setpoint goes out."""
        batteries = [
            (battery.id, battery.device_id) for battery in self.storage.auto_batteries()
        ]
        self.storage.commit()
        if not batteries:
            return
        now = _now()
        at = control.interval_start(now, self._setting("control_interval_s"))
        reported = self._reported_states([device for _, device in batteries])
        for battery_id, device_id in batteries:
            self._control(battery_id, at, now, reported.get(device_id) or {})

    def _control(self, battery_id, at: datetime, now: datetime, reported: dict):
        battery = self.storage.lock_battery(battery_id)
        if (
            battery is None
            or battery.control != control.AUTO
            or self.storage.has_interval(battery.id, at)
        ):
            self.storage.commit()
            return
        if battery.override_until is not None and not control.overridden(
            battery.override_until, now
        ):
            battery.override_until = None  # the override ended: the plan resumes
        limits = physics.Limits.of(battery)
        reported_soc = reported.get("soc_kwh")
        decision = control.decide(
            battery.plan,
            at,
            modelled_soc_kwh=self._state_now(battery, now).soc_kwh,
            reported_soc_kwh=reported_soc,
            capacity_kwh=battery.capacity_kwh,
            drift_fraction=self._setting("drift_fraction"),
            override_until=battery.override_until,
        )
        replanned = None
        if isinstance(decision, control.Replan):
            replanned = decision.reason
            battery.plan = self._replan(battery, limits, decision.soc_kwh, at)
            decision = control.decide(
                battery.plan,
                at,
                modelled_soc_kwh=decision.soc_kwh,
                reported_soc_kwh=None,
                capacity_kwh=battery.capacity_kwh,
                drift_fraction=self._setting("drift_fraction"),
            )
        if not isinstance(decision, control.Send):
            self.storage.commit()
            return
        step = decision.step
        claimed = self.storage.claim_interval(
            battery.id,
            at,
            planned_power_kw=step.power_kw,
            planned_soc_kwh=control.expected_soc(step, battery.plan["step_s"], at),
            reported_soc_kwh=reported_soc,
            replanned=replanned,
        )
        if claimed:
            self._execute(battery, limits, step.power_kw, at, now)
        self.storage.commit()
        if claimed:
            self._push(battery, _recorded(battery))

    def _execute(self, battery, limits, setpoint_kw: float, at, now) -> None:
        """Send the setpoint and keep the stored battery in step with it."""
        try:
            command = self._send_setpoint(battery, setpoint_kw, control.ISSUER)
        except EXPECTED as exc:
            # The interval stays recorded, unsent: the next one tries again.
            log.warning("battery %s: setpoint not sent: %s", battery.id, exc)
            return
        self.storage.record_command(battery.id, at, command["id"], command["status"])
        action, power = control.action_of(setpoint_kw)
        before = self._state_now(battery, now)
        try:
            state = physics.command(limits, before, action, power)
        except CommandRefused:
            # Full or empty already: the device holds at its bound, and so does
            # the stored battery.
            state = physics.State(before.soc_kwh)
        self.storage.set_state(battery, state, now)

    def _send_setpoint(self, battery, setpoint_kw: float, issued_by: str) -> dict:
        return self.devices_rpc.issue_command(
            battery.device_id,
            control.SETPOINT,
            {"power_kw": round(setpoint_kw, 6)},
            max(1, round(self._setting("control_interval_s"))),
            issued_by,
        )

    def _reported_states(self, device_ids) -> dict:
        """What monitoring knows of the devices now; nothing if it cannot say, and
        the plan goes on from the modelled charge."""
        try:
            return self.monitoring_rpc.device_states(device_ids)
        except Exception as exc:  # noqa: BLE001 - a timer must outlive monitoring
            log.warning("no device states from monitoring: %s", exc)
            return {}

    def _replan(self, battery, limits, soc_kwh: float, at: datetime) -> dict | None:
        """The plan worked out again from ``soc_kwh`` at ``at``, for the prices and
        load of its request from where the old plan had got to."""
        if not battery.plan:
            return None
        old = battery.plan
        started = datetime.fromisoformat(old["started_at"])
        elapsed = int((at - started).total_seconds() // old["step_s"])
        prices = control.rotated(old["request"], elapsed)
        return self._plan(limits, prices, soc_kwh, at)

    def _plan(self, limits, prices: dict, soc_kwh: float, at: datetime) -> dict:
        start = min(max(soc_kwh, limits.soc_min_kwh), limits.soc_max_kwh)
        target = prices.get("target")
        schedule = tpool.execute(
            optimal_schedule,
            limits,
            prices["import_prices"],
            prices["export_prices"],
            prices["load_kwh"],
            start,
            Target(**target) if target else None,
        )
        interval_s = self._setting("control_interval_s")
        # The plan begins with the control interval under way.
        started = control.interval_start(at, interval_s)
        # A target holds for the first plan only: re-plans repeat the prices.
        repeated = {key: value for key, value in prices.items() if key != "target"}
        return control.stored_plan(
            schedule, started, self._setting("plan_step_s"), repeated
        )

    def _setting(self, name: str):
        return (self.config.get("BATTERIES") or {}).get(name, DEFAULTS[name])

    def _state_now(self, battery, now: datetime | None = None) -> physics.State:
        return physics.state_at(
            physics.Limits.of(battery),
            _recorded(battery),
            battery.updated_at,
            now or _now(),
        )

    def _readable(self, caller, battery_id):
        return self._writable(caller, battery_id, policies.READ)

    def _writable(self, caller, battery_id, policy, for_update=False):
        """The battery, if ``policy`` lets the caller act on it: as its owner, by
        their global role, or by their role on its device's site (asked of
        devices only when the first two do not do)."""
        battery = self.storage.get_battery(battery_id, for_update=for_update)
        role = None
        if not policy.allows(caller, battery.user_id):
            role = self._site_roles(caller, [battery.device_id]).get(battery.device_id)
        policy.require(
            caller, battery.user_id, refusal=BatteryNotFound(), site_role=role
        )
        return battery

    def _site_roles(self, caller, device_ids=None) -> dict[str, str]:
        """``{device_id: role}`` of the caller on the sites of the devices (None:
        every device of their sites), kept for this worker's answer
        (``_dump``'s permissions)."""
        roles = self.devices_rpc.site_roles(caller["user_id"], device_ids)
        self._roles = {**getattr(self, "_roles", {}), **roles}
        return roles

    def _forecast_load(self, caller, device_id, hours) -> list[float]:
        """The ``hours`` next hours of a device's use, as monitoring forecasts it."""
        self.devices_rpc.get_device(caller, device_id)  # 404 unless visible
        forecast = self.monitoring_rpc.forecast_consumption(device_id, hours)
        load = [hour["kwh"] for hour in forecast["hours"]][:hours]
        if len(load) < hours:
            raise Unavailable("the load forecast is shorter than the prices")
        return load

    def _household_load(self, owner_id, hours) -> list[float]:
        """The ``hours`` next hours of the net load of a battery owner's devices,
        as monitoring forecasts it: their use minus their PV devices' generation
        (batteries, this one among them, left out: the plan decides what they
        draw). Negative in the hours of a surplus."""
        devices = self.devices_rpc.devices_of(owner_id)
        net = self.monitoring_rpc.forecast_net_load(
            [device["id"] for device in devices], hours
        )
        load = [hour["net_kwh"] for hour in net["hours"]][:hours]
        if len(load) < hours:
            raise Unavailable("the net load forecast is shorter than the prices")
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
                "control": battery.control,
                "override_until": battery.override_until,
                "permissions": permissions(
                    caller,
                    battery.user_id,
                    *policies.ON_A_BATTERY,
                    site_role=getattr(self, "_roles", {}).get(battery.device_id),
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
