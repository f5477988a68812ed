"""batteries' checks before it acts, with its storage and every service it asks
replaced by mocks: a new battery's device, and where a forecast load comes from."""

from datetime import UTC, datetime

import pytest
from nameko.testing.services import worker_factory

from services.batteries import service as module
from services.batteries.models import Battery
from services.batteries.physics import IDLE, State
from services.batteries.service import BatteriesService
from services.batteries.storage import LIMIT_FIELDS
from services.common.errors import Forbidden, Unavailable, ValidationFailed
from services.devices.exceptions import DeviceNotFound

USER = {"user_id": "6f1c9d2e-0000-4000-8000-000000000001", "role": "USER"}
OTHER_ID = "6f1c9d2e-0000-4000-8000-000000000002"
DEVICE_ID = "6f1c9d2e-0000-4000-8000-0000000000dd"
METER_ID = "6f1c9d2e-0000-4000-8000-0000000000ee"
BATTERY_ID = "6f1c9d2e-0000-4000-8000-0000000000bb"
NEW_BATTERY = {
    "device_id": DEVICE_ID,
    "capacity_kwh": 10,
    "max_charge_kw": 5,
    "max_discharge_kw": 5,
}
SCHEDULE = {"import_prices": [0.1, 0.4], "export_prices": [0.0, 0.0]}


def device(owner=USER["user_id"], kind="battery", device_id=DEVICE_ID):
    return {"id": device_id, "user_id": owner, "kind": kind, "name": "Home battery"}


def stored(user_id, device_id, limits, state, at):
    """What storage gives back for a battery it adds."""
    return Battery(
        id=BATTERY_ID,
        user_id=user_id,
        device_id=device_id,
        **{field: limits[field] for field in LIMIT_FIELDS},
        soc_kwh=state.soc_kwh,
        mode=state.mode,
        power_kw=state.power_kw,
        updated_at=at,
        created_at=at,
    )


@pytest.fixture
def batteries():
    service = worker_factory(BatteriesService)
    service.config = {}
    service.devices_rpc.get_device.return_value = device()
    service.storage.add_battery.side_effect = stored
    service.storage.get_battery.return_value = stored(
        USER["user_id"],
        DEVICE_ID,
        {"capacity_kwh": 10, "max_charge_kw": 5, "max_discharge_kw": 5}
        | {"efficiency": 0.9, "min_soc": 0.1, "max_soc": 0.9},
        State(5.0, IDLE, 0.0),
        datetime.now(UTC),
    )
    return service


@pytest.fixture
def plans(monkeypatch):
    """The arguments of each plan worked out, instead of working it out."""
    made = []

    def execute(function, *arguments):
        made.append(arguments)
        return {"hours": []}

    monkeypatch.setattr(module.tpool, "execute", execute)
    return made


def test_a_battery_goes_on_the_callers_battery_device(batteries):
    battery = batteries.create_battery(USER, NEW_BATTERY)
    assert battery["id"] == BATTERY_ID
    batteries.devices_rpc.get_device.assert_called_once_with(USER, DEVICE_ID)
    owner, device_id, data, _, _ = batteries.storage.add_battery.call_args.args
    assert owner == USER["user_id"]
    assert device_id == data["device_id"] == DEVICE_ID and data["efficiency"] == 0.9


def test_a_device_of_another_kind_is_refused(batteries):
    batteries.devices_rpc.get_device.return_value = device(kind="meter")
    with pytest.raises(ValidationFailed) as refused:
        batteries.create_battery(USER, NEW_BATTERY)
    assert refused.value.details == {
        "device_id": ["a device of kind battery, not meter"]
    }
    batteries.storage.add_battery.assert_not_called()


def test_a_device_the_caller_may_not_see_is_not_found(batteries):
    batteries.devices_rpc.get_device.side_effect = DeviceNotFound()
    with pytest.raises(DeviceNotFound):
        batteries.create_battery(USER, NEW_BATTERY)
    batteries.storage.add_battery.assert_not_called()


def test_an_operator_reads_another_users_device_but_adds_no_battery_to_it(batteries):
    batteries.devices_rpc.get_device.return_value = device(owner=OTHER_ID)
    with pytest.raises(Forbidden):
        batteries.create_battery({"user_id": "o-1", "role": "OPERATOR"}, NEW_BATTERY)
    batteries.storage.add_battery.assert_not_called()


def test_admin_adds_a_battery_for_the_devices_owner(batteries):
    batteries.devices_rpc.get_device.return_value = device(owner=OTHER_ID)
    batteries.create_battery({"user_id": "a-1", "role": "ADMIN"}, NEW_BATTERY)
    assert batteries.storage.add_battery.call_args.args[0] == OTHER_ID


def test_a_schedule_without_load_uses_the_forecast_of_the_named_device(
    batteries, plans
):
    batteries.devices_rpc.get_device.return_value = device(
        kind="meter", device_id=METER_ID
    )
    batteries.monitoring_rpc.forecast_consumption.return_value = {
        "method": "profile",
        "hours": [
            {"hour": "2026-11-22T18:00:00Z", "kwh": 0.7},
            {"hour": "2026-11-22T19:00:00Z", "kwh": 1.2},
        ],
    }
    body = dict(SCHEDULE, load_device_id=METER_ID)
    batteries.schedule_battery(USER, BATTERY_ID, body)
    batteries.devices_rpc.get_device.assert_called_once_with(USER, METER_ID)
    batteries.monitoring_rpc.forecast_consumption.assert_called_once_with(METER_ID, 2)
    batteries.storage.get_battery.assert_called_once_with(BATTERY_ID, for_update=False)
    [(_, import_prices, export_prices, load, _, _)] = plans
    assert {
        "import_prices": import_prices,
        "export_prices": export_prices,
        "load_kwh": load,
    } == {
        "import_prices": [0.1, 0.4],
        "export_prices": [0.0, 0.0],
        "load_kwh": [0.7, 1.2],
    }


def test_the_forecast_of_a_device_the_caller_may_not_see_is_not_found(batteries, plans):
    batteries.devices_rpc.get_device.side_effect = DeviceNotFound()
    with pytest.raises(DeviceNotFound):
        batteries.schedule_battery(
            USER, BATTERY_ID, dict(SCHEDULE, load_device_id=METER_ID)
        )
    batteries.monitoring_rpc.forecast_consumption.assert_not_called()
    assert plans == []


def test_a_forecast_shorter_than_the_prices_is_unavailable(batteries, plans):
    batteries.monitoring_rpc.forecast_consumption.return_value = {
        "hours": [{"hour": "2026-11-22T18:00:00Z", "kwh": 0.7}]
    }
    body = {"import_prices": [0.1, 0.4], "export_prices": [0, 0]}
    body["load_device_id"] = METER_ID
    with pytest.raises(Unavailable):
        batteries.schedule_battery(USER, BATTERY_ID, body)
    assert plans == []


def test_a_schedule_on_the_household_s_net_load_asks_for_the_owner_s_devices(
    batteries, plans
):
    operator = {"user_id": "o-1", "role": "OPERATOR"}
    batteries.devices_rpc.devices_of.return_value = [
        device(),
        device(kind="meter", device_id=METER_ID),
    ]
    batteries.monitoring_rpc.forecast_net_load.return_value = {
        "hours": [
            {"hour": "2026-06-22T12:00:00Z", "net_kwh": -2.5},
            {"hour": "2026-06-22T13:00:00Z", "net_kwh": 0.4},
        ]
    }
    batteries.schedule_battery(
        operator, BATTERY_ID, dict(SCHEDULE, household_net_load=True)
    )
    # The battery's owner's household, whoever asks.
    batteries.devices_rpc.devices_of.assert_called_once_with(USER["user_id"])
    batteries.monitoring_rpc.forecast_net_load.assert_called_once_with(
        [DEVICE_ID, METER_ID], 2
    )
    assert [load for _, _, _, load, _, _ in plans] == [[-2.5, 0.4]]


def test_a_net_load_shorter_than_the_prices_is_unavailable(batteries, plans):
    batteries.devices_rpc.devices_of.return_value = [device()]
    batteries.monitoring_rpc.forecast_net_load.return_value = {
        "hours": [{"hour": "2026-06-22T12:00:00Z", "net_kwh": -2.5}]
    }
    with pytest.raises(Unavailable):
        batteries.schedule_battery(
            USER, BATTERY_ID, dict(SCHEDULE, household_net_load=True)
        )
    assert plans == []


def test_a_schedule_with_its_load_asks_no_forecast(batteries, plans):
    body = {"import_prices": [0.1], "export_prices": [0], "load_kwh": [2]}
    batteries.schedule_battery(USER, BATTERY_ID, body)
    batteries.monitoring_rpc.forecast_consumption.assert_not_called()
    batteries.devices_rpc.get_device.assert_not_called()
    assert [load for _, _, _, load, _, _ in plans] == [[2]]


def test_a_battery_says_what_its_caller_may_do_with_it(batteries):
    mine = batteries.get_battery(USER, BATTERY_ID)
    assert mine["permissions"] == {"command": True, "delete": True}
    operator = {"user_id": "o-1", "role": "OPERATOR"}
    seen = batteries.get_battery(operator, BATTERY_ID)
    assert seen["permissions"] == {"command": False, "delete": False}


# -- auto mode -------------------------------------------------------------------------

AUTO_SETTINGS = {
    "BATTERIES": {
        "control_interval_s": 900,
        "plan_step_s": 3600,
        "drift_fraction": 0.05,
        "override_minutes": 60,
    }
}
COMMAND = {"id": "c0", "status": "pending"}


def auto_battery(now, plan_soc_end=7.0, override_until=None):
    """A battery in auto mode whose plan began with the hour of ``now``: 5 kWh
    charging to ``plan_soc_end`` at 2 kW."""
    battery = stored(
        USER["user_id"],
        DEVICE_ID,
        {"capacity_kwh": 10, "max_charge_kw": 5, "max_discharge_kw": 5}
        | {"efficiency": 0.9, "min_soc": 0.1, "max_soc": 0.9},
        State(5.0, IDLE, 0.0),
        now,
    )
    battery.control = "auto"
    battery.override_until = override_until
    battery.plan = {
        "started_at": now.replace(minute=0, second=0, microsecond=0).isoformat(),
        "step_s": 3600,
        "start_soc_kwh": 5.0,
        "hours": [{"power_kw": 2.0, "soc_kwh_end": plan_soc_end}],
        "request": {
            "import_prices": [0.1, 0.4],
            "export_prices": [0.0, 0.0],
            "load_kwh": [0.5, 3.0],
        },
    }
    return battery


@pytest.fixture
def auto(batteries, monkeypatch):
    now = datetime(2026, 12, 2, 10, 0, 5, tzinfo=UTC)
    monkeypatch.setattr(module, "_now", lambda: now)
    batteries.config = AUTO_SETTINGS
    battery = auto_battery(now)
    batteries.storage.auto_batteries.return_value = [battery]
    batteries.storage.lock_battery.return_value = battery
    batteries.storage.has_interval.return_value = False
    batteries.storage.claim_interval.return_value = True
    batteries.devices_rpc.issue_command.return_value = COMMAND
    batteries.monitoring_rpc.device_states.return_value = {
        DEVICE_ID: {"online": True, "soc_kwh": 5.0}
    }
    return batteries


def test_auto_sends_the_intervals_setpoint_once_recorded(auto):
    auto.control_batteries()
    auto.devices_rpc.issue_command.assert_called_once_with(
        DEVICE_ID, "battery_setpoint", {"power_kw": 2.0}, 900, "batteries"
    )
    starts_at = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    claim = auto.storage.claim_interval.call_args
    assert claim.args == (BATTERY_ID, starts_at)
    assert claim.kwargs["planned_power_kw"] == 2.0
    assert claim.kwargs["reported_soc_kwh"] == 5.0
    assert claim.kwargs["replanned"] is None
    auto.storage.record_command.assert_called_once_with(
        BATTERY_ID, starts_at, "c0", "pending"
    )
    # The stored battery follows its setpoint.
    state = auto.storage.set_state.call_args.args[1]
    assert (state.mode, state.power_kw) == ("charging", 2.0)


def test_an_interval_claimed_by_another_process_sends_nothing(auto):
    auto.storage.claim_interval.return_value = False
    auto.control_batteries()
    auto.devices_rpc.issue_command.assert_not_called()


def test_an_interval_already_recorded_is_not_planned_again(auto):
    auto.storage.has_interval.return_value = True
    auto.control_batteries()
    auto.storage.claim_interval.assert_not_called()
    auto.devices_rpc.issue_command.assert_not_called()


def test_a_battery_another_process_holds_is_skipped(auto):
    auto.storage.lock_battery.return_value = None
    auto.control_batteries()
    auto.devices_rpc.issue_command.assert_not_called()


def test_a_drifted_charge_replans_from_the_reported_one(auto, monkeypatch):
    auto.monitoring_rpc.device_states.return_value = {DEVICE_ID: {"soc_kwh": 8.0}}
    planned = []

    def execute(function, limits, imports, exports, load, start, target):
        planned.append((imports, start))
        return function(limits, imports, exports, load, start, target)

    monkeypatch.setattr(module.tpool, "execute", execute)
    auto.control_batteries()
    assert planned == [([0.1, 0.4], 8.0)]
    assert auto.storage.claim_interval.call_args.kwargs["replanned"] == "drift"
    battery = auto.storage.lock_battery.return_value
    assert battery.plan["start_soc_kwh"] == 8.0
    # The new plan's first step goes out: with 8 kWh it serves this hour's load.
    sent = auto.devices_rpc.issue_command.call_args.args[2]["power_kw"]
    assert sent == battery.plan["hours"][0]["power_kw"] == pytest.approx(-0.5, 0.02)


def test_no_states_from_monitoring_goes_on_from_the_plan(auto):
    auto.monitoring_rpc.device_states.side_effect = RuntimeError("no such method")
    auto.control_batteries()
    assert auto.devices_rpc.issue_command.call_args.args[2] == {"power_kw": 2.0}


def test_an_override_holds_the_battery_then_expires(auto, monkeypatch):
    battery = auto.storage.lock_battery.return_value
    battery.override_until = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)
    auto.control_batteries()
    auto.devices_rpc.issue_command.assert_not_called()

    later = datetime(2026, 12, 2, 10, 30, 1, tzinfo=UTC)
    monkeypatch.setattr(module, "_now", lambda: later)
    auto.monitoring_rpc.device_states.return_value = {DEVICE_ID: {"soc_kwh": 6.0}}
    auto.control_batteries()
    assert battery.override_until is None
    auto.devices_rpc.issue_command.assert_called_once()


def test_a_manual_command_sends_a_setpoint_and_holds_an_auto_battery(auto):
    battery = auto.storage.lock_battery.return_value
    auto.storage.get_battery.return_value = battery
    command = {"action": "discharge", "power_kw": 1.5, "override_minutes": 5}
    auto.command_battery(USER, BATTERY_ID, command)
    auto.devices_rpc.issue_command.assert_called_once_with(
        DEVICE_ID, "battery_setpoint", {"power_kw": -1.5}, 900, USER["user_id"]
    )
    assert battery.override_until == datetime(2026, 12, 2, 10, 5, 5, tzinfo=UTC)
    auto.storage.commit.assert_called()


def test_a_command_devices_refuses_changes_nothing(batteries):
    batteries.devices_rpc.issue_command.side_effect = ValidationFailed("offline", {})
    with pytest.raises(ValidationFailed):
        batteries.command_battery(USER, BATTERY_ID, {"action": "idle"})
    batteries.storage.commit.assert_not_called()
