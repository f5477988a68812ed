"""Which command a DR event sends each kind of device at its start, and which
releases it at its end."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from services.devices import commands
from services.dr import dispatch
from services.dr.logic import Battery

START = datetime(2026, 11, 24, 17, tzinfo=UTC)
END = START + timedelta(hours=2)


def device(kind, device_id=None, user_id="u-1"):
    return {"id": device_id or f"d-{kind}", "user_id": user_id, "kind": kind}


def test_a_battery_discharges_what_it_can_hold_through_the_window():
    # 4 kWh above its reserve over 2 hours: 2 kW, below its 5 kW rate.
    assert dispatch.start_command(
        device("battery"), Battery("u-1", D(5), D(4), "d-battery"), START, END
    ) == ("battery_setpoint", {"power_kw": -2.0})
    # A full one discharges at its rate.
    assert dispatch.start_command(
        device("battery"), Battery("u-1", D("3.5"), D(40), "d-battery"), START, END
    ) == ("battery_setpoint", {"power_kw": -3.5})
    # Never beyond the catalogue's bound, and to the watt.
    assert dispatch.start_command(
        device("battery"), Battery("u-1", D(500), D(1000), "d-battery"), START, END
    ) == ("battery_setpoint", {"power_kw": -commands.MAX_BATTERY_KW})
    assert dispatch.start_command(
        device("battery"),
        Battery("u-1", D(9), D(1), "d-battery"),
        START,
        START + timedelta(hours=3),
    ) == ("battery_setpoint", {"power_kw": -0.333})


def test_an_empty_or_unknown_battery_is_sent_nothing():
    empty = Battery("u-1", D(5), D(0), "d-battery")
    assert dispatch.start_command(device("battery"), empty, START, END) is None
    assert dispatch.start_command(device("battery"), None, START, END) is None


def test_loads_are_switched_off_and_chargers_paused():
    assert dispatch.start_command(device("appliance"), None, START, END) == (
        "switch",
        {"on": False},
    )
    assert dispatch.start_command(device("heat_pump"), None, START, END) == (
        "switch",
        {"on": False},
    )
    # A charger takes switch too, but pausing keeps it ready to charge again.
    assert dispatch.start_command(device("ev_charger"), None, START, END) == (
        "ev_current",
        {"amps": 0.0},
    )


@pytest.mark.parametrize("kind", ["meter", "pv"])
def test_devices_that_cannot_shed_load_are_left_alone(kind):
    assert dispatch.start_command(device(kind), None, START, END) is None


def test_every_start_command_is_one_the_catalogue_takes_from_that_kind():
    battery = Battery("u-1", D(5), D(4), "d-battery")
    for kind in ("appliance", "heat_pump", "ev_charger", "battery"):
        type_name, params = dispatch.start_command(device(kind), battery, START, END)
        assert commands.load_params(kind, type_name, params) == params
        release = dispatch.release_command(type_name)
        assert commands.load_params(kind, *release) == release[1]


def test_the_participants_devices_get_their_commands_batteries_by_device():
    devices = [
        device("meter", "m-1"),
        device("appliance", "a-1"),
        device("battery", "b-1", "u-2"),
        device("battery", "b-2", "u-2"),
        device("ev_charger", "e-1", "u-2"),
    ]
    batteries = [
        Battery("u-2", D(4), D(10), "b-1"),
        Battery("u-2", D(4), D(10), None),  # no device known: nothing to send
    ]
    assert dispatch.start_commands(devices, batteries, START, END) == [
        dispatch.Command("u-1", "a-1", "switch", {"on": False}),
        dispatch.Command("u-2", "b-1", "battery_setpoint", {"power_kw": -4.0}),
        dispatch.Command("u-2", "e-1", "ev_current", {"amps": 0.0}),
    ]


def test_the_release_gives_back_what_the_device_was_set_to():
    assert dispatch.release_command("switch", {"on": False}) == (
        "switch",
        {"on": False},
    )
    assert dispatch.release_command("ev_current", {"amps": 16.0}) == (
        "ev_current",
        {"amps": 16.0},
    )
    # A battery holds: its plan, in auto mode, takes over again.
    assert dispatch.release_command("battery_setpoint", {"power_kw": 3.0}) == (
        "battery_setpoint",
        {"power_kw": 0.0},
    )


def test_a_device_never_set_is_released_to_work():
    assert dispatch.release_command("switch") == ("switch", {"on": True})
    assert dispatch.release_command("battery_setpoint") == (
        "battery_setpoint",
        {"power_kw": 0.0},
    )
    assert dispatch.release_command("ev_current") == (
        "ev_current",
        {"amps": dispatch.EV_RESUME_AMPS},
    )
    with pytest.raises(ValueError):
        dispatch.release_command("curtail")


def test_an_event_s_commands_name_it():
    assert dispatch.issuer("3d1a") == "dr:3d1a"
