"""How a battery's charge evolves, which commands it takes, who sees it."""

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.batteries import physics
from services.batteries.exceptions import CommandRefused
from services.batteries.physics import Limits, State

#: 10 kWh, 5 kW each way, 81 % round trip (90 % each way), 10 %–90 %.
BATTERY = Limits(
    capacity_kwh=10,
    max_charge_kw=5,
    max_discharge_kw=4,
    efficiency=0.81,
    min_soc=0.1,
    max_soc=0.9,
)
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_charging_stores_the_power_times_the_time_times_root_efficiency():
    state = physics.evolve(BATTERY, State(2.0, physics.CHARGING, 2.0), 1.5)
    assert state == State(pytest.approx(2.0 + 2.0 * 1.5 * 0.9), physics.CHARGING, 2.0)


def test_discharging_takes_the_power_times_the_time_over_root_efficiency():
    state = physics.evolve(BATTERY, State(8.0, physics.DISCHARGING, 1.8), 2.0)
    assert state.soc_kwh == pytest.approx(8.0 - 1.8 * 2.0 / 0.9)
    assert (state.mode, state.power_kw) == (physics.DISCHARGING, 1.8)


def test_a_round_trip_gives_back_the_efficiency():
    charged = physics.evolve(BATTERY, State(1.0, physics.CHARGING, 1.0), 1.0)
    delivered = (charged.soc_kwh - 1.0) * BATTERY.leg  # discharged back to 1 kWh
    assert delivered == pytest.approx(1.0 * 0.81)


def test_a_battery_stops_at_its_bounds():
    full = physics.evolve(BATTERY, State(8.0, physics.CHARGING, 5.0), 10.0)
    assert full == State(9.0, physics.IDLE, 0.0)
    empty = physics.evolve(BATTERY, State(2.0, physics.DISCHARGING, 4.0), 10.0)
    assert empty == State(1.0, physics.IDLE, 0.0)


def test_idle_and_no_time_change_nothing():
    idle = State(5.0)
    assert physics.evolve(BATTERY, idle, 3.0) == idle
    moving = State(5.0, physics.CHARGING, 1.0)
    assert physics.evolve(BATTERY, moving, 0.0) == moving
    assert physics.evolve(BATTERY, moving, -1.0) == moving  # a clock that stepped back


def test_the_state_now_is_worked_out_from_when_it_was_recorded():
    recorded = State(5.0, physics.DISCHARGING, 3.6)
    now = physics.state_at(BATTERY, recorded, T0, T0 + timedelta(minutes=30))
    assert now.soc_kwh == pytest.approx(5.0 - 3.6 * 0.5 / 0.9)
    assert physics.state_at(BATTERY, recorded, T0, T0 + timedelta(hours=5)) == State(
        1.0
    )


def test_when_a_battery_reaches_its_bound():
    charging = State(5.0, physics.CHARGING, 2.0)  # 4 kWh of room at 1.8 kWh/h
    assert physics.hours_to_bound(BATTERY, charging) == pytest.approx(4 / 1.8)
    assert physics.stopped_at(BATTERY, charging, T0) == T0 + timedelta(hours=4 / 1.8)
    discharging = State(5.0, physics.DISCHARGING, 3.6)  # 4 kWh left at 4 kWh/h
    assert physics.hours_to_bound(BATTERY, discharging) == pytest.approx(1.0)
    assert physics.hours_to_bound(BATTERY, State(5.0)) is None


@given(
    soc=st.floats(1.0, 9.0),
    mode=st.sampled_from([physics.CHARGING, physics.DISCHARGING]),
    power=st.floats(0.01, 4.0),
    first=st.floats(0, 10),
    then=st.floats(0, 10),
)
def test_evolving_in_two_steps_is_evolving_at_once(soc, mode, power, first, then):
    start = State(soc, mode, power)
    stepped = physics.evolve(BATTERY, physics.evolve(BATTERY, start, first), then)
    at_once = physics.evolve(BATTERY, start, first + then)
    assert stepped.mode == at_once.mode
    assert stepped.soc_kwh == pytest.approx(at_once.soc_kwh, abs=1e-6)
    assert BATTERY.soc_min_kwh <= stepped.soc_kwh <= BATTERY.soc_max_kwh


def test_commands_set_the_mode_and_power():
    now = State(5.0)
    assert physics.command(BATTERY, now, "charge", 5.0) == State(
        5.0, physics.CHARGING, 5
    )
    assert physics.command(BATTERY, now, "discharge", 0.5) == State(
        5.0, physics.DISCHARGING, 0.5
    )
    moving = State(5.0, physics.CHARGING, 2.0)
    assert physics.command(BATTERY, moving, "idle") == State(5.0)


@pytest.mark.parametrize(
    "action, power",
    [("charge", 5.01), ("charge", 0.0), ("charge", -1.0), ("charge", None)]
    + [("discharge", 4.5), ("discharge", 0.0)],
)
def test_a_power_out_of_the_limits_is_refused(action, power):
    with pytest.raises(CommandRefused) as refused:
        physics.command(BATTERY, State(5.0), action, power)
    assert refused.value.status == 400
    assert "power_kw" in refused.value.details


def test_a_full_battery_does_not_charge_nor_an_empty_one_discharge():
    with pytest.raises(CommandRefused) as refused:
        physics.command(BATTERY, State(9.0), "charge", 1.0)
    assert refused.value.details == {
        "action": ["the battery is full: it cannot charge"]
    }
    with pytest.raises(CommandRefused) as refused:
        physics.command(BATTERY, State(1.0), "discharge", 1.0)
    assert "action" in refused.value.details
    assert physics.command(BATTERY, State(9.0), "discharge", 1.0).mode == "discharging"


def test_efficiency_is_split_evenly_between_the_ways_in_and_out():
    assert BATTERY.leg == pytest.approx(0.9)
    assert BATTERY.charge_per_hour == pytest.approx(4.5)
    assert BATTERY.discharge_per_hour == pytest.approx(4 / 0.9)
    assert math.isclose(physics.soc_fraction(BATTERY, 2.5), 0.25)


OWNER = {"user_id": "u-1", "role": "USER"}
OTHER = {"user_id": "u-2", "role": "USER"}
OPERATOR = {"user_id": "o-1", "role": "OPERATOR"}
ADMIN = {"user_id": "a-1", "role": "ADMIN"}


def test_what_a_battery_can_deliver_is_its_charge_above_the_minimum_less_losses():
    limits = physics.Limits(
        capacity_kwh=10,
        max_charge_kw=5,
        max_discharge_kw=5,
        efficiency=0.81,
        min_soc=0.1,
        max_soc=1,
    )
    assert physics.deliverable_kwh(limits, 6.0) == pytest.approx(5.0 * 0.9)
    assert physics.deliverable_kwh(limits, 0.5) == 0
