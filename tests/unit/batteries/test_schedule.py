"""The optimal schedule: exact on its grid, within every limit, and sensible."""

import itertools
import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.batteries.exceptions import InfeasibleSchedule
from services.batteries.physics import Limits
from services.batteries.schedule import (
    MAX_CELLS,
    Target,
    grid_intervals,
    optimal_schedule,
    soc_grid,
)
from services.common.errors import ValidationFailed

TOLERANCE = 1e-9


def brute_force(limits, imports, exports, loads, start, target, intervals):
    """The least cost of every plan, tried one by one.

    Each hour the battery ends on a level of the same grid as the schedule's, or
    stays at its starting charge if it has not moved yet. A move is allowed if
    its power is within the battery's limits; the cost is worked out from the
    definition, with plain floats.
    """
    levels = [float(level) for level in soc_grid(limits, intervals)]
    leg = math.sqrt(limits.efficiency)
    best = math.inf
    for path in itertools.product([None, *range(len(levels))], repeat=len(imports)):
        moved = [choice is not None for choice in path]
        if moved != sorted(moved):
            continue  # the starting charge, once left, is left for good
        soc, cost = start, 0.0
        for hour, choice in enumerate(path):
            end = start if choice is None else levels[choice]
            change = end - soc
            if change > 0:
                drawn = change / leg
                if drawn > limits.max_charge_kw + TOLERANCE:
                    break
            else:
                drawn = change * leg
                if -drawn > limits.max_discharge_kw + TOLERANCE:
                    break
            if target and hour == target.hour_index:
                if end < target.soc_kwh - TOLERANCE:
                    break
            net = loads[hour] + drawn
            cost += imports[hour] * max(0.0, net) - exports[hour] * max(0.0, -net)
            soc = end
        else:
            best = min(best, cost)
    return best


def assert_within_limits(limits, schedule, imports, exports, loads, start, target):
    """Every hour keeps the battery's limits, adds up, and costs what it says."""
    leg = math.sqrt(limits.efficiency)
    soc = start
    assert schedule.start_soc_kwh == pytest.approx(start)
    for hour, planned in enumerate(schedule.hours):
        assert planned.hour_index == hour
        assert planned.load_kwh == pytest.approx(loads[hour])
        end = planned.soc_kwh_end
        assert limits.soc_min_kwh - TOLERANCE <= end <= limits.soc_max_kwh + TOLERANCE
        if planned.action == "charge":
            assert 0 < planned.power_kw <= limits.max_charge_kw
            assert end - soc == pytest.approx(planned.power_kw * leg, abs=1e-9)
            drawn = planned.power_kw
        elif planned.action == "discharge":
            assert 0 < planned.power_kw <= limits.max_discharge_kw
            assert soc - end == pytest.approx(planned.power_kw / leg, abs=1e-9)
            drawn = -planned.power_kw
        else:
            assert planned.action == "idle" and planned.power_kw == 0
            assert end == pytest.approx(soc, abs=1e-9)
            drawn = 0.0
        net = loads[hour] + drawn
        assert planned.grid_kwh == pytest.approx(net, abs=1e-9)
        expected = imports[hour] * max(0.0, net) - exports[hour] * max(0.0, -net)
        assert planned.cost == pytest.approx(expected, abs=1e-9)
        if target and hour == target.hour_index:
            assert end >= target.soc_kwh - TOLERANCE
        soc = end
    assert schedule.total_cost == pytest.approx(
        sum(planned.cost for planned in schedule.hours), abs=1e-9
    )
    without = sum(
        imports[h] * max(0.0, load) - exports[h] * max(0.0, -load)
        for h, load in enumerate(loads)
    )
    assert schedule.cost_without_battery == pytest.approx(without, abs=1e-9)
    assert schedule.saving == pytest.approx(without - schedule.total_cost, abs=1e-9)


def random_case(rng: random.Random):
    """A small battery, prices and loads; sometimes odd prices, a start off the
    grid, a target."""
    capacity = rng.uniform(1, 20)
    min_soc = rng.choice([0.0, rng.uniform(0, 0.3)])
    limits = Limits(
        capacity_kwh=capacity,
        max_charge_kw=capacity * rng.uniform(0.1, 1.0),
        max_discharge_kw=capacity * rng.uniform(0.1, 1.0),
        efficiency=rng.choice([1.0, rng.uniform(0.6, 1.0)]),
        min_soc=min_soc,
        max_soc=rng.choice([1.0, rng.uniform(min_soc + 0.2, 1.0)]),
    )
    hours = rng.randint(1, 5)
    intervals = rng.randint(1, 4)
    imports = [rng.uniform(0, 1) for _ in range(hours)]
    if rng.random() < 0.8:
        exports = [price * rng.uniform(0, 1) for price in imports]
    else:  # negative prices, export above import: the rules still hold
        imports = [rng.uniform(-0.5, 1) for _ in range(hours)]
        exports = [rng.uniform(-0.5, 1) for _ in range(hours)]
    loads = [rng.uniform(-2, 5) for _ in range(hours)]
    levels = soc_grid(limits, intervals)
    if rng.random() < 0.5:
        start = float(rng.choice(list(levels)))
    else:
        start = rng.uniform(limits.soc_min_kwh, limits.soc_max_kwh)
    target = None
    if rng.random() < 0.4:
        target = Target(
            rng.randrange(hours), rng.uniform(limits.soc_min_kwh, limits.soc_max_kwh)
        )
    return limits, imports, exports, loads, start, target, intervals


@pytest.mark.parametrize("seed", range(60))
def test_the_schedule_is_the_brute_force_optimum(seed):
    limits, imports, exports, loads, start, target, intervals = random_case(
        random.Random(seed)
    )
    best = brute_force(limits, imports, exports, loads, start, target, intervals)
    if math.isinf(best):
        with pytest.raises(InfeasibleSchedule):
            optimal_schedule(limits, imports, exports, loads, start, target, intervals)
        return
    schedule = optimal_schedule(
        limits, imports, exports, loads, start, target, intervals
    )
    assert schedule.total_cost == pytest.approx(best, abs=1e-9)
    assert_within_limits(limits, schedule, imports, exports, loads, start, target)


def test_six_hours_on_a_five_level_grid_is_the_brute_force_optimum():
    limits = Limits(8, 3, 4, 0.85, 0.0, 1.0)
    imports = [0.30, 0.10, 0.05, 0.40, 0.45, 0.20]
    exports = [0.05, 0.02, 0.00, 0.10, 0.15, 0.05]
    loads = [1.0, 0.5, 0.2, 2.5, 3.0, 1.0]
    target = Target(5, 4.0)
    best = brute_force(limits, imports, exports, loads, 3.3, target, 4)
    schedule = optimal_schedule(limits, imports, exports, loads, 3.3, target, 4)
    assert schedule.total_cost == pytest.approx(best, abs=1e-9)
    assert_within_limits(limits, schedule, imports, exports, loads, 3.3, target)


prices = st.floats(-0.2, 1.0, allow_nan=False)


@st.composite
def cases(draw):
    capacity = draw(st.floats(1, 50))
    min_soc = draw(st.floats(0, 0.4))
    limits = Limits(
        capacity_kwh=capacity,
        max_charge_kw=draw(st.floats(0.05, 2)) * capacity,
        max_discharge_kw=draw(st.floats(0.05, 2)) * capacity,
        efficiency=draw(st.floats(0.5, 1.0)),
        min_soc=min_soc,
        max_soc=draw(st.floats(min_soc + 0.1, 1.0)),
    )
    hours = draw(st.integers(1, 48))
    imports = draw(st.lists(prices, min_size=hours, max_size=hours))
    exports = [price * draw(st.floats(0, 1)) for price in imports]
    loads = draw(st.lists(st.floats(-3, 10), min_size=hours, max_size=hours))
    start = draw(st.floats(limits.soc_min_kwh, limits.soc_max_kwh))
    return limits, imports, exports, loads, start


@settings(max_examples=40, deadline=None)
@given(cases())
def test_schedules_keep_every_limit_and_never_cost_more_than_no_battery(case):
    limits, imports, exports, loads, start = case
    schedule = optimal_schedule(limits, imports, exports, loads, start)
    assert_within_limits(limits, schedule, imports, exports, loads, start, None)
    # Staying idle is always a plan, so the best one saves something or nothing.
    assert schedule.saving >= -1e-9
    assert schedule.method == "dynamic programming"
    assert 101 <= len(soc_grid(limits, grid_intervals(limits)))


def test_a_full_battery_discharges_at_the_peak():
    limits = Limits(4, 5, 5, 1.0, 0.0, 1.0)
    schedule = optimal_schedule(
        limits, [0.2, 0.2, 0.6, 0.2], [0.0] * 4, [4.0] * 4, start_soc_kwh=4.0
    )
    assert [hour.action for hour in schedule.hours] == [
        "idle",
        "idle",
        "discharge",
        "idle",
    ]
    peak = schedule.hours[2]
    assert peak.power_kw == pytest.approx(4.0) and peak.grid_kwh == pytest.approx(0)
    assert schedule.saving == pytest.approx(4.0 * 0.6)


def test_with_losses_a_full_battery_still_serves_the_dearest_hours_first():
    limits = Limits(10, 5, 3, 0.9, 0.1, 0.9)
    imports = [0.10, 0.12, 0.50, 0.45, 0.11, 0.10]
    schedule = optimal_schedule(
        limits, imports, [0.02] * 6, [3.0] * 6, start_soc_kwh=9.0
    )
    actions = [hour.action for hour in schedule.hours]
    assert actions[2] == actions[3] == "discharge"
    assert schedule.hours[2].power_kw == pytest.approx(3.0, abs=0.05)
    assert schedule.hours[-1].soc_kwh_end == pytest.approx(1.0)  # it all went
    assert schedule.saving > 0


def test_it_buys_cheap_and_sells_dear_only_when_the_spread_beats_the_losses():
    limits = Limits(10, 5, 5, 0.81, 0.0, 1.0)
    cheap_then_dear = optimal_schedule(
        limits, [0.10, 1.0], [0.05, 0.50], [0.0, 0.0], start_soc_kwh=0.0
    )
    assert [hour.action for hour in cheap_then_dear.hours] == ["charge", "discharge"]
    assert cheap_then_dear.total_cost < 0  # it earns
    # 0.10 bought returns 0.81 × 0.11 sold: a loss, so it does nothing.
    narrow = optimal_schedule(
        limits, [0.10, 0.11], [0.05, 0.11], [0.0, 0.0], start_soc_kwh=0.0
    )
    assert [hour.action for hour in narrow.hours] == ["idle", "idle"]


def test_on_the_household_s_net_load_the_battery_stores_its_own_surplus():
    # A day of flat prices: buying to sell again only loses. The household uses
    # 0.5 kWh an hour and its PV makes up to 3 kWh around noon.
    limits = Limits(10, 3, 3, 0.9, 0.1, 0.9)
    use = np.full(24, 0.5)
    pv = np.zeros(24)
    pv[8:16] = [0.5, 1.5, 2.5, 3.0, 3.0, 2.5, 1.5, 0.5]
    net = use - pv
    imports, exports = [0.30] * 24, [0.05] * 24
    on_use = optimal_schedule(limits, imports, exports, use, start_soc_kwh=1.0)
    assert {hour.action for hour in on_use.hours} == {"idle"}
    on_net = optimal_schedule(limits, imports, exports, net, start_soc_kwh=1.0)
    surplus = {h for h in range(24) if net[h] < 0}
    charged = {h for h, hour in enumerate(on_net.hours) if hour.action == "charge"}
    # It charges in the hours of a surplus, and only then: never from the grid.
    assert charged and charged <= surplus
    assert all(on_net.hours[h].grid_kwh <= 1e-9 for h in charged)
    # It serves the evening with what it stored instead of exporting it at 0.05.
    # (Within a step of its grid of charge levels.)
    step = on_net.grid_step_kwh
    evening = on_net.hours[16:]
    assert {hour.action for hour in evening} == {"discharge"}
    assert all(hour.grid_kwh == pytest.approx(0, abs=step) for hour in evening)
    # It stored what the evening needed, no more: what is left at the end is worth
    # nothing to the plan.
    assert on_net.hours[-1].soc_kwh_end == pytest.approx(1.0, abs=step)
    assert on_net.saving > 0


def test_an_equally_cheap_plan_that_moves_nothing_is_preferred():
    # Exporting earns nothing and the household needs nothing: discharging
    # would cost nothing either, but it would be pointless.
    limits = Limits(10, 5, 5, 0.9, 0.0, 1.0)
    schedule = optimal_schedule(
        limits, [0.3] * 4, [0.0] * 4, [0.0] * 4, start_soc_kwh=7.3
    )
    assert {hour.action for hour in schedule.hours} == {"idle"}
    assert schedule.hours[-1].soc_kwh_end == 7.3


def test_the_target_is_held_at_its_hour():
    limits = Limits(10, 2, 5, 0.9, 0.1, 0.9)
    imports = [0.5, 0.4, 0.3, 0.6, 0.1, 0.1]
    target = Target(3, 7.0)  # an expensive hour, but a departure at its end
    free = optimal_schedule(limits, imports, [0.0] * 6, [0.5] * 6, 1.0)
    assert free.hours[3].soc_kwh_end < 7.0
    held = optimal_schedule(limits, imports, [0.0] * 6, [0.5] * 6, 1.0, target)
    assert held.hours[3].soc_kwh_end >= 7.0 - TOLERANCE
    assert held.total_cost >= free.total_cost
    assert_within_limits(limits, held, imports, [0.0] * 6, [0.5] * 6, 1.0, target)


def test_a_target_out_of_reach_is_refused_with_the_reason():
    limits = Limits(10, 2, 5, 1.0, 0.0, 1.0)
    with pytest.raises(InfeasibleSchedule) as refused:
        optimal_schedule(limits, [0.1] * 3, [0.0] * 3, [0.0] * 3, 1.0, Target(1, 6.0))
    assert refused.value.status == 400
    [reason] = refused.value.details["target"]["soc_kwh"]
    assert "by the end of hour 1" in reason and "at most 5 kWh" in reason


def test_a_target_above_the_maximum_charge_is_refused():
    limits = Limits(10, 2, 5, 1.0, 0.1, 0.9)
    with pytest.raises(InfeasibleSchedule) as refused:
        optimal_schedule(limits, [0.1], [0.0], [0.0], 5.0, Target(0, 9.5))
    assert refused.value.details == {"target": {"soc_kwh": ["at most 9 kWh"]}}


def test_a_start_outside_the_bounds_is_refused():
    limits = Limits(10, 2, 5, 1.0, 0.1, 0.9)
    with pytest.raises(ValidationFailed) as refused:
        optimal_schedule(limits, [0.1], [0.0], [0.0], 9.5)
    assert "start_soc_kwh" in refused.value.details


def test_full_power_is_on_the_grid_when_the_figures_allow_it():
    limits = Limits(10, 2.5, 2.5, 1.0, 0.0, 1.0)
    intervals = grid_intervals(limits)
    assert intervals == 400  # the finest grid on which 2.5 kWh is whole steps
    schedule = optimal_schedule(
        limits, [0.1, 0.9], [0.0, 0.0], [0.0, 5.0], start_soc_kwh=0.0
    )
    assert schedule.grid_step_kwh == pytest.approx(0.025)
    assert [hour.power_kw for hour in schedule.hours] == pytest.approx([2.5, 2.5])


def test_the_grid_has_a_few_hundred_levels_and_enough_steps_per_hour():
    lossy = Limits(10, 5, 5, 0.9, 0.1, 0.9)
    assert 100 <= grid_intervals(lossy) <= 400
    # A slow battery: a full-power hour is still at least ten steps.
    slow = Limits(100, 0.5, 0.5, 1.0, 0.0, 1.0)
    intervals = grid_intervals(slow)
    assert intervals >= 2000
    assert 0.5 / (100 / intervals) >= 10


def test_levels_span_the_bounds_exactly():
    limits = Limits(13.5, 5, 5, 0.9, 0.07, 0.93)
    levels = soc_grid(limits, 7)
    assert levels[0] == limits.soc_min_kwh and levels[-1] == limits.soc_max_kwh
    assert np.allclose(np.diff(levels), (0.93 - 0.07) * 13.5 / 7)


def test_a_day_and_a_half_of_hours_is_the_longest_horizon():
    limits = Limits(10, 5, 5, 0.9, 0.1, 0.9)
    with pytest.raises(ValueError):
        optimal_schedule(limits, [0.1] * 49, [0.0] * 49, [0.0] * 49, 5.0)


@pytest.mark.parametrize(
    "limits",
    [
        Limits(100_000, 0.001, 0.001, 1.0, 0.0, 1.0),
        Limits(100_000, 0.001, 100_000, 0.01, 0.0, 1.0),
        Limits(0.001, 100_000, 100_000, 0.5, 0.0, 1.0),
    ],
    ids=["slow", "slow up, fast down", "tiny"],
)
def test_the_work_of_an_hour_is_bounded_whatever_the_battery(limits):
    intervals = grid_intervals(limits)
    step = (limits.soc_max_kwh - limits.soc_min_kwh) / intervals
    moves = (
        min(limits.charge_per_hour // step, intervals)
        + min(limits.discharge_per_hour // step, intervals)
        + 1
    )
    assert (intervals + 1) * moves <= 1.01 * MAX_CELLS
    schedule = optimal_schedule(limits, [0.1, 0.5], [0.0, 0.2], [1, 1], 0.0)
    assert schedule.saving >= -1e-9
