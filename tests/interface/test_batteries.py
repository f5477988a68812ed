"""batteries in its container, on a real broker and a real database."""

import time
import uuid

import pytest
from kombu import Connection
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import replace_dependencies

from services.batteries.exceptions import (
    BatteryExists,
    BatteryNotFound,
    CommandRefused,
    InfeasibleSchedule,
)
from services.batteries.service import SETTLE_INTERVAL, BatteriesService
from services.common.errors import ValidationFailed
from services.common.topology import SYNC, WS

pytestmark = pytest.mark.usefixtures("clean_databases")

OWNER = {"user_id": "6f1c9d2e-0000-4000-8000-000000000001", "role": "USER"}
OTHER = {"user_id": "6f1c9d2e-0000-4000-8000-000000000002", "role": "USER"}
OPERATOR = {"user_id": "6f1c9d2e-0000-4000-8000-00000000000f", "role": "OPERATOR"}
#: The owner of each ``battery`` device a battery is added on, as devices (not
#: running here) would describe it.
DEVICE_OWNERS = {}


#: ``{user_id: {device_id: role}}``: who has a role on the site of which device.
SITE_ROLES = {}


def get_device(caller, device_id):
    return {"id": device_id, "user_id": DEVICE_OWNERS[device_id], "kind": "battery"}


def site_roles(user_id, device_ids=None):
    roles = SITE_ROLES.get(user_id, {})
    if device_ids is None:
        return dict(roles)
    return {d: role for d, role in roles.items() if d in device_ids}


@pytest.fixture
def config(container_factory, service_config):
    settings = service_config("batteries")
    container = container_factory(BatteriesService, settings)
    devices = replace_dependencies(container, "devices_rpc")
    devices.get_device.side_effect = get_device
    devices.site_roles.side_effect = site_roles
    SITE_ROLES.clear()
    container.start()
    return settings


@pytest.fixture
def batteries_rpc(config):
    with ServiceRpcProxy("batteries", config) as proxy:
        yield proxy


def new_battery(batteries_rpc, owner=OWNER, **fields):
    data = {
        "device_id": str(uuid.uuid4()),
        "capacity_kwh": 10,
        "max_charge_kw": 5,
        "max_discharge_kw": 4,
        "efficiency": 0.81,
        "min_soc": 0.1,
        "max_soc": 0.9,
        **fields,
    }
    DEVICE_OWNERS.setdefault(data["device_id"], owner["user_id"])
    return batteries_rpc.create_battery(owner, data)


def publish(config, routing_key, payload):
    with Connection(config["AMQP_URI"]) as connection:
        producer = connection.Producer()
        for _ in range(2):  # a redelivered event changes nothing
            producer.publish(
                payload,
                exchange=SYNC,
                routing_key=routing_key,
                declare=[SYNC],
                serializer="json",
            )


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_battery_starts_idle_at_its_minimum_and_belongs_to_its_owner(
    batteries_rpc, listen
):
    pushes = listen(WS, "#")
    battery = new_battery(batteries_rpc)
    assert battery["user_id"] == OWNER["user_id"]
    assert (battery["soc_kwh"], battery["soc_fraction"]) == (1.0, 0.1)
    assert (battery["mode"], battery["power_kw"]) == ("idle", 0)
    assert battery["updated_at"].endswith("Z") and battery["created_at"].endswith("Z")
    [(key, message)] = pushes.messages(until=1)
    assert key == f"user.{OWNER['user_id']}.battery.state"
    assert message["type"] == "battery.state"
    assert message["data"] == {
        "battery_id": battery["id"],
        "soc_kwh": 1.0,
        "soc_fraction": 0.1,
        "mode": "idle",
        "power_kw": 0,
    }

    assert batteries_rpc.get_battery(OWNER, battery["id"]) == battery
    assert batteries_rpc.get_battery(OPERATOR, battery["id"])["id"] == battery["id"]
    assert batteries_rpc.list_batteries(OWNER) == [battery]
    assert batteries_rpc.list_batteries(OTHER) == []
    for call in (
        lambda: batteries_rpc.get_battery(OTHER, battery["id"]),
        lambda: batteries_rpc.command_battery(OTHER, battery["id"], {"action": "idle"}),
        lambda: batteries_rpc.command_battery(
            OPERATOR, battery["id"], {"action": "idle"}
        ),
        lambda: batteries_rpc.delete_battery(OTHER, battery["id"]),
        lambda: batteries_rpc.get_battery(OWNER, "not-an-id"),
    ):
        with pytest.raises(BatteryNotFound):
            call()


def test_one_battery_per_device(batteries_rpc):
    battery = new_battery(batteries_rpc, soc_kwh=5)
    assert battery["soc_kwh"] == 5
    with pytest.raises(BatteryExists):
        new_battery(batteries_rpc, device_id=battery["device_id"])
    with pytest.raises(ValidationFailed) as refused:
        new_battery(batteries_rpc, min_soc=0.5, max_soc=0.4)
    assert "max_soc" in refused.value.details


def test_commands_move_the_charge_and_are_pushed(batteries_rpc, listen):
    battery = new_battery(batteries_rpc, soc_kwh=5)
    pushes = listen(WS, f"user.{OWNER['user_id']}.battery.state")
    charging = batteries_rpc.command_battery(
        OWNER, battery["id"], {"action": "charge", "power_kw": 5}
    )
    assert (charging["mode"], charging["power_kw"]) == ("charging", 5)
    [(_, pushed)] = pushes.messages(until=1)
    assert pushed["data"]["mode"] == "charging" and pushed["data"]["power_kw"] == 5

    time.sleep(1.0)
    # 5 kW at 90 % each way stores 4.5 kWh an hour: 1.25 Wh a second.
    later = batteries_rpc.get_battery(OWNER, battery["id"])
    gained = later["soc_kwh"] - charging["soc_kwh"]
    assert 4.5 / 3600 * 0.9 < gained < 4.5 / 3600 * 3
    assert later["mode"] == "charging"

    idle = batteries_rpc.command_battery(OWNER, battery["id"], {"action": "idle"})
    assert idle["mode"] == "idle" and idle["power_kw"] == 0
    assert idle["soc_kwh"] >= later["soc_kwh"]
    [(_, pushed)] = pushes.messages(until=1)
    assert pushed["data"]["soc_kwh"] == idle["soc_kwh"]
    time.sleep(0.3)
    assert batteries_rpc.get_battery(OWNER, battery["id"])["soc_kwh"] == idle["soc_kwh"]


def test_commands_beyond_the_limits_are_refused(batteries_rpc, listen):
    battery = new_battery(batteries_rpc)
    pushes = listen(WS, "#")
    with pytest.raises(CommandRefused) as refused:
        batteries_rpc.command_battery(
            OWNER, battery["id"], {"action": "discharge", "power_kw": 4.5}
        )
    assert refused.value.details == {
        "power_kw": ["above 0 and at most 4 kW for this battery"]
    }
    with pytest.raises(CommandRefused) as refused:  # it is at its minimum
        batteries_rpc.command_battery(
            OWNER, battery["id"], {"action": "discharge", "power_kw": 1}
        )
    assert "action" in refused.value.details
    with pytest.raises(ValidationFailed) as refused:
        batteries_rpc.command_battery(
            OWNER, battery["id"], {"action": "idle", "power_kw": 1}
        )
    assert "power_kw" in refused.value.details
    assert pushes.messages(wait=0.5) == []
    assert batteries_rpc.get_battery(OWNER, battery["id"])["mode"] == "idle"


def test_a_battery_that_fills_up_stops_and_says_so(batteries_rpc, listen):
    battery = new_battery(
        batteries_rpc, capacity_kwh=1, efficiency=1, max_charge_kw=10, soc_kwh=0.899
    )
    pushes = listen(WS, f"user.{OWNER['user_id']}.battery.state")
    batteries_rpc.command_battery(
        OWNER, battery["id"], {"action": "charge", "power_kw": 10}
    )  # full in 0.36 s
    received = pushes.messages(wait=SETTLE_INTERVAL + 5, until=2)
    assert [body["data"]["mode"] for _, body in received] == ["charging", "idle"]
    assert received[1][1]["data"]["soc_kwh"] == 0.9
    settled = batteries_rpc.get_battery(OWNER, battery["id"])
    assert (settled["mode"], settled["soc_kwh"], settled["power_kw"]) == (
        "idle",
        0.9,
        0,
    )
    assert settled["updated_at"] > battery["updated_at"]


def test_the_schedule_starts_from_the_charge_now(batteries_rpc):
    battery = new_battery(batteries_rpc, soc_kwh=9)  # full
    request = {
        "import_prices": [0.1, 0.1, 0.6, 0.1],
        "export_prices": [0.0] * 4,
        "load_kwh": [3.0] * 4,
    }
    schedule = batteries_rpc.schedule_battery(OWNER, battery["id"], request)
    assert schedule["method"] == "dynamic programming"
    assert schedule["start_soc_kwh"] == 9
    assert schedule["hours"][2]["action"] == "discharge"
    assert schedule["hours"][2]["grid_kwh"] == pytest.approx(0, abs=0.05)
    assert schedule["saving"] > 0
    assert schedule["saving"] == pytest.approx(
        schedule["cost_without_battery"] - schedule["total_cost"], abs=1e-5
    )
    assert set(schedule["hours"][0]) == {
        "hour_index",
        "action",
        "power_kw",
        "soc_kwh_end",
        "load_kwh",
        "grid_kwh",
        "cost",
    }
    assert 0 < schedule["grid_step_kwh"] < 0.1

    with pytest.raises(InfeasibleSchedule) as refused:
        batteries_rpc.schedule_battery(
            OWNER,
            battery["id"],
            dict(request, start_soc_kwh=1, target={"hour_index": 0, "soc_kwh": 8}),
        )
    assert "target" in refused.value.details
    with pytest.raises(ValidationFailed) as refused:
        batteries_rpc.schedule_battery(
            OWNER, battery["id"], dict(request, export_prices=[0.0])
        )
    assert "export_prices" in refused.value.details
    with pytest.raises(BatteryNotFound):
        batteries_rpc.schedule_battery(OTHER, battery["id"], request)
    assert batteries_rpc.get_battery(OWNER, battery["id"])["soc_kwh"] == 9


def test_deleted_users_and_devices_lose_their_batteries(batteries_rpc, config):
    first, second = new_battery(batteries_rpc), new_battery(batteries_rpc)
    others = new_battery(batteries_rpc, owner=OTHER)
    publish(config, "device.deleted", {"device": {"id": first["device_id"]}})
    wait_for(lambda: len(batteries_rpc.list_batteries(OWNER)) == 1)
    assert batteries_rpc.list_batteries(OWNER) == [second]

    publish(
        config,
        "user.deleted",
        {"user": {"id": OWNER["user_id"], "email": "a@b.cd", "role": "USER"}},
    )
    wait_for(lambda: batteries_rpc.list_batteries(OWNER) == [])
    time.sleep(0.3)
    assert batteries_rpc.get_battery(OTHER, others["id"])["id"] == others["id"]


def test_a_battery_is_deleted_by_its_owner(batteries_rpc):
    battery = new_battery(batteries_rpc)
    batteries_rpc.delete_battery(OWNER, battery["id"])
    with pytest.raises(BatteryNotFound):
        batteries_rpc.get_battery(OWNER, battery["id"])


def test_the_people_of_a_battery_s_site_act_by_their_role_there(batteries_rpc):
    battery = new_battery(batteries_rpc)
    operator = {"user_id": "6f1c9d2e-0000-4000-8000-0000000000a1", "role": "USER"}
    viewer = {"user_id": "6f1c9d2e-0000-4000-8000-0000000000a2", "role": "USER"}
    SITE_ROLES[operator["user_id"]] = {battery["device_id"]: "operator"}
    SITE_ROLES[viewer["user_id"]] = {battery["device_id"]: "viewer"}

    # Both see it, in their listing too; only the operator may command it.
    for member in (operator, viewer):
        assert batteries_rpc.get_battery(member, battery["id"])["id"] == battery["id"]
        assert [b["id"] for b in batteries_rpc.list_batteries(member)] == [
            battery["id"]
        ]
    seen = batteries_rpc.get_battery(operator, battery["id"])
    assert seen["permissions"] == {"command": True, "delete": False}
    assert batteries_rpc.get_battery(viewer, battery["id"])["permissions"] == {
        "command": False,
        "delete": False,
    }
    charged = batteries_rpc.command_battery(
        operator, battery["id"], {"action": "charge", "power_kw": 2}
    )
    assert charged["mode"] == "charging"
    with pytest.raises(BatteryNotFound):
        batteries_rpc.command_battery(viewer, battery["id"], {"action": "idle"})
    with pytest.raises(BatteryNotFound):
        batteries_rpc.delete_battery(operator, battery["id"])
    # A stranger finds nothing.
    with pytest.raises(BatteryNotFound):
        batteries_rpc.get_battery(OTHER, battery["id"])
    assert batteries_rpc.list_batteries(OTHER) == []


def test_demand_response_learns_what_the_users_batteries_can_give(batteries_rpc):
    mine = new_battery(batteries_rpc, soc_kwh=6.0)
    new_battery(batteries_rpc, owner=OTHER)
    [offer] = batteries_rpc.list_batteries_of([OWNER["user_id"]])
    assert offer["user_id"] == OWNER["user_id"]
    assert offer["battery_id"] == mine["id"]
    assert offer["device_id"] == mine["device_id"]
    assert offer["max_discharge_kw"] == 4
    # 5 kWh above the 1 kWh minimum, less the discharge loss of √0.81.
    assert offer["available_kwh"] == pytest.approx(4.5)
    assert batteries_rpc.list_batteries_of([]) == []


def test_a_site_learns_its_battery_fleet(batteries_rpc):
    mine = new_battery(batteries_rpc, soc_kwh=6.0)
    other = new_battery(batteries_rpc, owner=OTHER, capacity_kwh=5, soc_kwh=2.0)
    new_battery(batteries_rpc)  # on a device that is not asked about
    fleet = batteries_rpc.fleet_of([mine["device_id"], other["device_id"]])
    by_device = {battery["device_id"]: battery for battery in fleet}
    assert by_device.keys() == {mine["device_id"], other["device_id"]}
    assert by_device[mine["device_id"]]["capacity_kwh"] == 10
    assert by_device[mine["device_id"]]["soc_kwh"] == pytest.approx(6.0)
    assert by_device[mine["device_id"]]["available_kwh"] == pytest.approx(4.5)
    assert by_device[mine["device_id"]]["control"] == "manual"
    assert by_device[other["device_id"]]["capacity_kwh"] == 5
    assert by_device[other["device_id"]]["user_id"] == OTHER["user_id"]
    assert batteries_rpc.fleet_of([]) == []


# -- auto mode -------------------------------------------------------------------------

#: One-second control intervals, plan steps of four.
FAST = {
    "control_interval_s": 1,
    "plan_step_s": 4,
    "drift_fraction": 0.05,
    "override_minutes": 60,
}
AUTO_PLAN = {
    "import_prices": [0.1, 0.4, 0.4],
    "export_prices": [0.0, 0.0, 0.0],
    "load_kwh": [0.5, 3.0, 3.0],
}


@pytest.fixture
def two_processes(container_factory, service_config):
    """Two batteries processes with fast control intervals, sharing one fake
    devices (the setpoints it was sent) and one fake monitoring (the charge the
    devices report)."""
    settings = service_config("batteries", BATTERIES=FAST)
    sent, reported = [], {}

    def issue_command(device_id, type, params, ttl_s, issued_by):
        sent.append((time.time(), device_id, type, params, ttl_s, issued_by))
        return {"id": str(uuid.uuid4()), "status": "pending"}

    for _ in range(2):
        container = container_factory(BatteriesService, settings)
        devices, monitoring = replace_dependencies(
            container, "devices_rpc", "monitoring_rpc"
        )
        devices.get_device.side_effect = get_device
        devices.site_roles.side_effect = site_roles
        devices.issue_command.side_effect = issue_command
        # Every device has answered by the time the plan is read.
        devices.get_commands.side_effect = lambda ids: [
            {"id": command_id, "status": "acked", "detail": "ok"} for command_id in ids
        ]
        monitoring.device_states.side_effect = lambda ids: {
            device: {"soc_kwh": reported[device]}
            for device in ids
            if device in reported
        }
        container.start()
    return settings, sent, reported


def test_auto_mode_sends_each_intervals_setpoint_once_and_replans_on_drift(
    two_processes,
):
    settings, sent, reported = two_processes
    with ServiceRpcProxy("batteries", settings) as rpc:
        battery = new_battery(rpc, soc_kwh=5)
        device = battery["device_id"]
        auto = rpc.set_control(
            OWNER, battery["id"], {"control": "auto", "plan": AUTO_PLAN}
        )
        assert auto["control"] == "auto"
        plan = rpc.get_plan(OWNER, battery["id"])
        assert (plan["step_s"], plan["interval_s"], len(plan["steps"])) == (4, 1, 3)

        wait_for(lambda: len(sent) >= 3, timeout=15)
        intervals = rpc.get_plan(OWNER, battery["id"])["intervals"]
        starts = [interval["starts_at"] for interval in intervals]
        # Two processes, one setpoint per interval.
        assert len(starts) == len(set(starts))
        assert len(sent) == len([i for i in intervals if i["command_id"]])
        # Issued pending; shown as devices has it now.
        assert {i["command_status"] for i in intervals if i["command_id"]} == {"acked"}
        assert all(
            (item[1], item[2], item[4], item[5])
            == (device, "battery_setpoint", 1, "batteries")
            for item in sent
        )
        assert intervals[0]["replanned"] is None

        # The device reports far more than the plan expects: re-planned from it.
        reported[device] = 8.5
        wait_for(
            lambda: any(
                i["replanned"] == "drift"
                for i in rpc.get_plan(OWNER, battery["id"])["intervals"]
            ),
            timeout=10,
        )
        replanned = rpc.get_plan(OWNER, battery["id"])
        drift = next(i for i in replanned["intervals"] if i["replanned"] == "drift")
        assert drift["reported_soc_kwh"] == 8.5
        assert replanned["steps"][0]["soc_kwh_start"] == 8.5

        # A manual command holds it: nothing more is sent by the timer.
        held = rpc.command_battery(
            OWNER, battery["id"], {"action": "idle", "override_minutes": 1}
        )
        assert held["override_until"] is not None
        assert sent[-1][3:] == ({"power_kw": 0.0}, 1, OWNER["user_id"])
        count = len(sent)
        time.sleep(2.5)
        assert len(sent) == count

        manual = rpc.set_control(OWNER, battery["id"], {"control": "manual"})
        assert manual["control"] == "manual"
        assert rpc.get_plan(OWNER, battery["id"])["steps"] == []


def test_a_plan_on_the_household_s_net_load_charges_from_its_surplus(
    container_factory, service_config
):
    settings = service_config("batteries")
    container = container_factory(BatteriesService, settings)
    devices, monitoring = replace_dependencies(
        container, "devices_rpc", "monitoring_rpc"
    )
    devices.get_device.side_effect = get_device
    devices.site_roles.side_effect = site_roles
    SITE_ROLES.clear()
    meter, pv = str(uuid.uuid4()), str(uuid.uuid4())
    devices.devices_of.side_effect = lambda user_id: [
        {"id": meter, "user_id": user_id, "kind": "meter"},
        {"id": pv, "user_id": user_id, "kind": "pv"},
    ]
    # Noon's PV makes more than the household uses; the evening uses it.
    net = [0.5, -2.0, -2.5, -1.0, 0.5, 0.5, 0.5, 0.5]
    monitoring.forecast_net_load.side_effect = lambda ids, hours: {
        "hours": [{"hour": f"h{i}", "net_kwh": kwh} for i, kwh in enumerate(net)]
    }
    container.start()
    with ServiceRpcProxy("batteries", settings) as batteries_rpc:
        battery = new_battery(batteries_rpc)
        request = {
            "import_prices": [0.3] * 8,
            "export_prices": [0.05] * 8,
            "household_net_load": True,
        }
        schedule = batteries_rpc.schedule_battery(OWNER, battery["id"], request)
    monitoring.forecast_net_load.assert_called_once_with([meter, pv], 8)
    assert [hour["load_kwh"] for hour in schedule["hours"]] == net
    actions = [hour["action"] for hour in schedule["hours"]]
    assert "charge" in actions[1:4] and "charge" not in actions[:1] + actions[4:]
    assert set(actions[4:]) == {"discharge"}
    assert schedule["saving"] > 0
