"""batteries: batteries on ``battery`` devices, the commands they take, their state
of charge, and the cheapest charge/discharge plan for given prices.

Every call names its ``viewer`` (``{"user_id", "role"}``, from the verified token):
another user's battery answers ``BatteryNotFound``, exactly like a missing one.
The gateway checks a new battery's device (that it is visible, the caller's and a
``battery``) before calling: this service never asks devices.

A battery's state is recorded when it changes — a command, or a bound that stopped
it — and worked out in between (``logic.state_at``). Each change is pushed as
``battery.state`` to ``user.<owner>.battery.state`` on ``ems.ws``.
"""

from datetime import UTC, datetime

from eventlet import tpool
from nameko.rpc import rpc
from nameko.timer import timer

from services.batteries import logic
from services.batteries.exceptions import BatteryNotFound
from services.batteries.schemas import (
    BatteryCommandSchema,
    BatteryCreateSchema,
    BatteryScheduleResultSchema,
    BatteryScheduleSchema,
    BatterySchema,
    BatteryStateSchema,
)
from services.batteries.storage import LIMIT_FIELDS, BatteryStore
from services.common import access
from services.common.db import Database
from services.common.errors import EXPECTED
from services.common.health import HealthMixin
from services.common.messaging import Dispatcher, consume
from services.common.schemas import load
from services.common.topology import (
    BATTERIES_DEVICE_DELETED,
    BATTERIES_USER_DELETED,
    WS,
    client_message,
    user_message_key,
)

battery_schema = BatterySchema()
state_schema = BatteryStateSchema()
schedule_schema = BatteryScheduleResultSchema()

#: Seconds between two looks for batteries that reached a bound.
SETTLE_INTERVAL = 5


def _now() -> datetime:
    return datetime.now(UTC)


def _recorded(battery) -> logic.State:
    return logic.State(battery.soc_kwh, battery.mode, battery.power_kw)


class BatteriesService(HealthMixin):
    name = "batteries"

    storage = Database(BatteryStore)
    dispatch = Dispatcher(WS)

    @rpc(expected_exceptions=EXPECTED)
    def create_battery(self, data, owner_id):
        """A battery on device ``data["device_id"]`` of ``owner_id``, idle, holding
        ``soc_kwh`` (its minimum charge if not given)."""
        data = load(BatteryCreateSchema(), data)
        limits = logic.Limits(**{field: data[field] for field in LIMIT_FIELDS})
        state = logic.State(data.get("soc_kwh", limits.soc_min_kwh))
        battery = self.storage.add_battery(
            owner_id, data["device_id"], data, state, _now()
        )
        self.storage.commit()
        self._push(battery, state)
        return self._dump(battery, state)

    @rpc(expected_exceptions=EXPECTED)
    def get_battery(self, battery_id, viewer):
        battery = self._readable(battery_id, viewer)
        return self._dump(battery, self._state_now(battery))

    @rpc(expected_exceptions=EXPECTED)
    def list_batteries(self, viewer, user_id=None):
        owner = access.listing_owner(viewer, user_id)
        now = _now()
        return [
            self._dump(battery, self._state_now(battery, now))
            for battery in self.storage.list_batteries(owner)
        ]

    @rpc(expected_exceptions=EXPECTED)
    def list_batteries_of(self, user_ids):
        """What the users' batteries could discharge now, for demand response:
        ``[{user_id, battery_id, max_discharge_kw, available_kwh}]``."""
        now = _now()
        offered = []
        for battery in self.storage.batteries_of(user_ids):
            limits = logic.Limits.of(battery)
            state = self._state_now(battery, now)
            offered.append(
                {
                    "user_id": battery.user_id,
                    "battery_id": battery.id,
                    "max_discharge_kw": battery.max_discharge_kw,
                    "available_kwh": round(
                        logic.deliverable_kwh(limits, state.soc_kwh), 6
                    ),
                }
            )
        return offered

    @rpc(expected_exceptions=EXPECTED)
    def command_battery(self, battery_id, command, viewer):
        """Charge or discharge at ``power_kw``, or stop: ``{"action", "power_kw"}``.

        The battery is locked while its state now is worked out and the command
        applied, so two commands at once apply one after the other.
        """
        command = load(BatteryCommandSchema(), command)
        battery = self._writable(battery_id, viewer, for_update=True)
        now = _now()
        state = logic.command(
            logic.Limits.of(battery),
            self._state_now(battery, now),
            command["action"],
            command.get("power_kw"),
        )
        self.storage.set_state(battery, state, now)
        self.storage.commit()
        self._push(battery, state)
        return self._dump(battery, state)

    @rpc(expected_exceptions=EXPECTED)
    def schedule_battery(self, battery_id, request, viewer):
        """The cheapest plan for the hours of ``request`` (prices, load, optional
        start and target; ``BatteryScheduleSchema``). Nothing is stored."""
        request = load(BatteryScheduleSchema(), request)
        battery = self._readable(battery_id, viewer)
        start = request.get("start_soc_kwh")
        if start is None:
            start = self._state_now(battery).soc_kwh
        limits = logic.Limits.of(battery)
        # No transaction stays open while the plan is worked out.
        self.storage.commit()
        target = request.get("target")
        # The plan takes tens of milliseconds of numpy: in an OS thread, so the
        # service's other workers go on meanwhile.
        schedule = tpool.execute(
            logic.optimal_schedule,
            limits,
            request["import_prices"],
            request["export_prices"],
            request["load_kwh"],
            start,
            logic.Target(**target) if target else None,
        )
        return schedule_schema.dump(schedule)

    @rpc(expected_exceptions=EXPECTED)
    def delete_battery(self, battery_id, viewer):
        self.storage.delete_battery(self._writable(battery_id, viewer))
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
            limits = logic.Limits.of(battery)
            state = logic.state_at(limits, _recorded(battery), battery.updated_at, now)
            if state.mode == logic.IDLE:
                stopped = logic.stopped_at(
                    limits, _recorded(battery), battery.updated_at
                )
                settled.append(self.storage.set_state(battery, state, stopped))
        self.storage.commit()
        for battery in settled:
            self._push(battery, _recorded(battery))

    def _state_now(self, battery, now: datetime | None = None) -> logic.State:
        return logic.state_at(
            logic.Limits.of(battery),
            _recorded(battery),
            battery.updated_at,
            now or _now(),
        )

    def _readable(self, battery_id, viewer):
        battery = self.storage.get_battery(battery_id)
        if not access.can_read(viewer, battery.user_id):
            raise BatteryNotFound()
        return battery

    def _writable(self, battery_id, viewer, for_update=False):
        battery = self.storage.get_battery(battery_id, for_update=for_update)
        if not access.can_write(viewer, battery.user_id):
            raise BatteryNotFound()
        return battery

    def _dump(self, battery, state: logic.State) -> dict:
        limits = logic.Limits.of(battery)
        return battery_schema.dump(
            {
                "id": battery.id,
                "user_id": battery.user_id,
                "device_id": battery.device_id,
                **{field: getattr(battery, field) for field in LIMIT_FIELDS},
                "soc_kwh": state.soc_kwh,
                "soc_fraction": logic.soc_fraction(limits, state.soc_kwh),
                "mode": state.mode,
                "power_kw": state.power_kw,
                "updated_at": battery.updated_at,
                "created_at": battery.created_at,
            }
        )

    def _push(self, battery, state: logic.State) -> None:
        data = state_schema.dump(
            {
                "battery_id": battery.id,
                "soc_kwh": state.soc_kwh,
                "soc_fraction": logic.soc_fraction(
                    logic.Limits.of(battery), state.soc_kwh
                ),
                "mode": state.mode,
                "power_kw": state.power_kw,
            }
        )
        self.dispatch(
            user_message_key(battery.user_id, logic.BATTERY_STATE),
            client_message(logic.BATTERY_STATE, data),
        )
