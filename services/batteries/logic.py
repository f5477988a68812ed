"""A battery's rules: how its charge evolves, which commands it takes, and the
charge/discharge plan that costs least.

Nothing here touches the database or the broker; the time that passed comes in as
an argument, so every rule is tested without either.

Conventions. ``power_kw`` is measured at the battery's terminals, on the
household's side: what it draws when charging, what it delivers when discharging.
The round-trip efficiency η is lost half on the way in and half on the way out:
charging at p kW for t hours stores p·t·√η kWh, discharging at p kW for t hours
takes p·t/√η kWh out of the cells, so a kWh charged and discharged again gives back
η kWh. The charge stays between ``min_soc`` and ``max_soc`` (fractions of
``capacity_kwh``); a battery that reaches either bound stops there and goes idle.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from services.batteries.exceptions import CommandRefused, InfeasibleSchedule
from services.common.errors import ValidationFailed

#: What a battery is doing, and the commands that set it.
IDLE, CHARGING, DISCHARGING = "idle", "charging", "discharging"
MODES = (IDLE, CHARGING, DISCHARGING)
CHARGE, DISCHARGE = "charge", "discharge"
ACTIONS = (CHARGE, DISCHARGE, IDLE)
MODE_OF = {CHARGE: CHARGING, DISCHARGE: DISCHARGING, IDLE: IDLE}

#: The ``ems.ws`` message type of a battery's state.
BATTERY_STATE = "battery.state"

#: Energies (kWh) closer than this are equal: the difference is float noise.
TOLERANCE = 1e-9

#: The schedule's horizon, in hours.
MAX_HOURS = 48
METHOD = "dynamic programming"

#: The state-of-charge grid has between n₀ and 4·n₀ steps: n₀ is
#: ``MIN_INTERVALS``, or more when the battery's power is small against its
#: capacity, so that a full-power hour is at least ``MIN_MOVES`` steps. The work
#: of an hour, levels × moves, stays within about ``MAX_CELLS`` (at least 500
#: steps fit whatever the battery), which bounds the time and memory of a plan.
MIN_INTERVALS = 100
MIN_MOVES = 10
MAX_CELLS = 500_000


@dataclass(frozen=True)
class Limits:
    """What a battery can do."""

    capacity_kwh: float
    max_charge_kw: float
    max_discharge_kw: float
    #: Round-trip, 0 < η ≤ 1; √η is lost charging and √η discharging.
    efficiency: float
    min_soc: float
    max_soc: float

    @classmethod
    def of(cls, battery) -> "Limits":
        """The limits of anything that has these attributes (a stored battery)."""
        return cls(
            capacity_kwh=battery.capacity_kwh,
            max_charge_kw=battery.max_charge_kw,
            max_discharge_kw=battery.max_discharge_kw,
            efficiency=battery.efficiency,
            min_soc=battery.min_soc,
            max_soc=battery.max_soc,
        )

    @property
    def leg(self) -> float:
        """The efficiency of one way, in or out: √η."""
        return math.sqrt(self.efficiency)

    @property
    def soc_min_kwh(self) -> float:
        return self.min_soc * self.capacity_kwh

    @property
    def soc_max_kwh(self) -> float:
        return self.max_soc * self.capacity_kwh

    @property
    def charge_per_hour(self) -> float:
        """How much the charge can rise in one hour at full power (kWh)."""
        return self.max_charge_kw * self.leg

    @property
    def discharge_per_hour(self) -> float:
        """How much the charge can fall in one hour at full power (kWh)."""
        return self.max_discharge_kw / self.leg


@dataclass(frozen=True)
class State:
    """What a battery holds and does at one moment."""

    soc_kwh: float
    mode: str = IDLE
    power_kw: float = 0.0


def deliverable_kwh(limits: Limits, soc_kwh: float) -> float:
    """What a battery holding ``soc_kwh`` can deliver before its minimum charge:
    the charge above the minimum, less what discharging loses (√η)."""
    return max(0.0, soc_kwh - limits.soc_min_kwh) * limits.leg


def soc_fraction(limits: Limits, soc_kwh: float) -> float:
    """The charge as a fraction of the whole capacity."""
    return soc_kwh / limits.capacity_kwh


def evolve(limits: Limits, state: State, hours: float) -> State:
    """The state ``hours`` after ``state``: the charge moved at the commanded
    power, until it reached a bound, where the battery stopped (idle)."""
    if state.mode == IDLE or hours <= 0:
        return state
    if state.mode == CHARGING:
        soc = state.soc_kwh + state.power_kw * limits.leg * hours
        if soc >= limits.soc_max_kwh - TOLERANCE:
            return State(limits.soc_max_kwh)
    else:
        soc = state.soc_kwh - state.power_kw / limits.leg * hours
        if soc <= limits.soc_min_kwh + TOLERANCE:
            return State(limits.soc_min_kwh)
    return State(soc, state.mode, state.power_kw)


def state_at(
    limits: Limits, recorded: State, recorded_at: datetime, now: datetime
) -> State:
    """The state at ``now`` of a battery whose state was ``recorded`` at
    ``recorded_at``."""
    return evolve(limits, recorded, (now - recorded_at).total_seconds() / 3600)


def hours_to_bound(limits: Limits, state: State) -> float | None:
    """How long a moving battery takes to reach its bound, where it stops; None
    for an idle one."""
    if state.mode == CHARGING:
        room = limits.soc_max_kwh - state.soc_kwh
        return max(0.0, room / (state.power_kw * limits.leg))
    if state.mode == DISCHARGING:
        left = state.soc_kwh - limits.soc_min_kwh
        return max(0.0, left * limits.leg / state.power_kw)
    return None


def stopped_at(limits: Limits, recorded: State, recorded_at: datetime) -> datetime:
    """When a battery recorded moving at ``recorded_at`` reached its bound."""
    return recorded_at + timedelta(hours=hours_to_bound(limits, recorded))


def command(
    limits: Limits, state: State, action: str, power_kw: float | None = None
) -> State:
    """The state once ``action`` is commanded to a battery now in ``state``.

    Charging and discharging take a power above 0 and at most the battery's
    maximum; a full battery does not charge, an empty one does not discharge.
    """
    if action == IDLE:
        return State(state.soc_kwh)
    limit = limits.max_charge_kw if action == CHARGE else limits.max_discharge_kw
    if power_kw is None or not 0 < power_kw <= limit:
        raise CommandRefused(
            f"{action} power out of range",
            {"power_kw": [f"above 0 and at most {limit:g} kW for this battery"]},
        )
    if action == CHARGE and state.soc_kwh >= limits.soc_max_kwh - TOLERANCE:
        raise CommandRefused(
            "the battery is full", {"action": ["the battery is full: it cannot charge"]}
        )
    if action == DISCHARGE and state.soc_kwh <= limits.soc_min_kwh + TOLERANCE:
        raise CommandRefused(
            "the battery is empty",
            {"action": ["the battery is empty: it cannot discharge"]},
        )
    return State(state.soc_kwh, MODE_OF[action], power_kw)


# -- the optimal schedule ------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The charge must be at least ``soc_kwh`` at the end of hour ``hour_index``."""

    hour_index: int
    soc_kwh: float


@dataclass(frozen=True)
class PlannedHour:
    hour_index: int
    action: str
    #: At the terminals: drawn when charging, delivered when discharging.
    power_kw: float
    soc_kwh_end: float
    load_kwh: float
    #: From the grid (negative: to the grid): load + charged − discharged.
    grid_kwh: float
    cost: float


@dataclass(frozen=True)
class Schedule:
    hours: list[PlannedHour]
    total_cost: float
    cost_without_battery: float
    saving: float
    start_soc_kwh: float
    grid_step_kwh: float
    method: str = METHOD


def energy_cost(net_kwh, import_price, export_price):
    """What ``net_kwh`` from the grid costs in an hour: imported energy at the
    import price, exported energy (negative) earning the export price."""
    return np.where(net_kwh > 0, net_kwh * import_price, net_kwh * export_price)


def meter_energy(cell_kwh, leg: float):
    """The energy at the terminals that changes the charge by ``cell_kwh``:
    drawn (positive) to raise it, delivered (negative) when it falls."""
    return np.where(cell_kwh > 0, cell_kwh / leg, cell_kwh * leg)


def _moves(reach: float, step: float):
    # A move within float noise of the full-power reach counts as reachable.
    return np.floor(reach / step + 1e-9)


def grid_intervals(limits: Limits) -> int:
    """The number of steps of the state-of-charge grid.

    Among n₀…4·n₀ steps, the one whose full-power hours (up and down) come
    nearest to a whole number of steps, so that full power is on the grid when
    the figures allow it and loses the least when they do not; of equally good
    ones, the finest.
    """
    span = limits.soc_max_kwh - limits.soc_min_kwh
    up = min(limits.charge_per_hour, span)
    down = min(limits.discharge_per_hour, span)
    # n steps make (n + 1) × (n·(up + down)/span + 1) cells an hour.
    most = int(min(math.sqrt(MAX_CELLS * span / (up + down)), MAX_CELLS / 3))
    wanted = MIN_MOVES * span / min(up, down)
    fewest = min(max(MIN_INTERVALS, math.ceil(min(wanted, most))), most)
    candidates = np.arange(fewest, min(4 * fewest, most) + 1)
    step = span / candidates
    loss = np.maximum(
        (up - _moves(up, step) * step) / up, (down - _moves(down, step) * step) / down
    )
    best = candidates[loss <= loss.min() + 1e-12]
    return int(best.max())


def soc_grid(limits: Limits, intervals: int) -> np.ndarray:
    """The ``intervals + 1`` charge levels, from empty to full, equally spaced."""
    span = limits.soc_max_kwh - limits.soc_min_kwh
    levels = limits.soc_min_kwh + span * np.arange(intervals + 1) / intervals
    levels[-1] = limits.soc_max_kwh
    return levels


def _pick(costs, moved, far=None):
    """Per row, the cheapest column; of columns within float noise of the
    cheapest, the one that moves the least energy (no pointless cycling).

    Overwrites ``moved``; ``far`` is a boolean buffer shaped like ``costs``. Both
    are reused hour after hour: fresh arrays of this size each hour would cost
    more than the arithmetic.
    """
    best = costs.min(axis=1)
    far = np.greater(costs, (best + 1e-12 * (1 + np.abs(best)))[:, None], out=far)
    np.copyto(moved, np.inf, where=far)
    return np.argmin(moved, axis=1)


def optimal_schedule(
    limits: Limits,
    import_prices,
    export_prices,
    load_kwh,
    start_soc_kwh: float,
    target: Target | None = None,
    intervals: int | None = None,
) -> Schedule:
    """The hourly charge/discharge plan that costs least.

    Hour h costs ``import[h] × max(0, net) − export[h] × max(0, −net)``, with
    ``net = load[h] + energy drawn to charge − energy delivered discharging``. The
    plan keeps every limit (power, charge bounds, efficiency) and, with a
    ``target``, holds at least ``target.soc_kwh`` at the end of its hour.

    Dynamic programming over a grid of charge levels (``soc_grid``, ``intervals``
    steps, by default ``grid_intervals``): the battery ends each hour on a grid
    level, or still at its starting charge if it has not moved yet. The plan is
    the exact optimum over every such sequence, found backwards hour by hour:
    the least cost-to-go of a level is the least, over every move the battery's
    power allows from it, of that hour's cost plus the cost-to-go of where the
    move ends. Of equally cheap plans, the one moving the least energy wins.
    """
    imports = np.asarray(import_prices, dtype=float)
    exports = np.asarray(export_prices, dtype=float)
    loads = np.asarray(load_kwh, dtype=float)
    hours = len(imports)
    if not 1 <= hours <= MAX_HOURS or len(exports) != hours or len(loads) != hours:
        raise ValueError("prices and loads must cover the same 1–48 hours")
    start = _start_soc(limits, start_soc_kwh)
    _check_target(limits, target, hours)
    grid = _Grid.of(limits, intervals or grid_intervals(limits))

    def hour_cost(h: int, meter):
        return energy_cost(loads[h] + meter, imports[h], exports[h])

    value, throughput, policy = _grid_plans(grid, hours, target, hour_cost)
    first_level = _start_plans(grid, start, target, hour_cost, value, throughput)
    if first_level is None:
        raise _unreachable(grid, target, start)

    planned, level, soc = [], None, start
    for h in range(hours):
        if level is None and first_level[h] >= 0:
            level = int(first_level[h])
        elif level is not None:
            level += int(grid.moves[policy[h][level]])
        end = soc if level is None else float(grid.levels[level])
        planned.append(_planned_hour(limits, h, soc, end, loads, imports, exports))
        soc = end
    total = sum(hour.cost for hour in planned)
    without = float(np.sum(energy_cost(loads, imports, exports)))
    return Schedule(
        hours=planned,
        total_cost=total,
        cost_without_battery=without,
        saving=without - total,
        start_soc_kwh=start,
        grid_step_kwh=grid.step,
    )


@dataclass(frozen=True)
class _Grid:
    """The charge levels and the moves between them one hour allows."""

    limits: Limits
    levels: np.ndarray
    step: float
    #: Every move in steps, from the largest fall to the largest rise.
    moves: np.ndarray
    #: The energy at the terminals of each move (drawn > 0, delivered < 0).
    meter: np.ndarray

    @classmethod
    def of(cls, limits: Limits, intervals: int) -> "_Grid":
        step = (limits.soc_max_kwh - limits.soc_min_kwh) / intervals
        up = int(min(_moves(limits.charge_per_hour, step), intervals))
        down = int(min(_moves(limits.discharge_per_hour, step), intervals))
        moves = np.arange(-down, up + 1)
        return cls(
            limits,
            soc_grid(limits, intervals),
            step,
            moves,
            meter_energy(moves * step, limits.leg),
        )

    def allowed(self, target: Target | None, h: int) -> np.ndarray:
        """The levels the battery may end hour ``h`` on."""
        if target is None or h != target.hour_index:
            return np.ones(len(self.levels), dtype=bool)
        return self.levels >= target.soc_kwh - TOLERANCE


def _grid_plans(grid: _Grid, hours: int, target, hour_cost):
    """Backwards over the grid: ``value[h][i]``, the least cost of hours h… from
    level i; ``throughput[h][i]``, the energy that plan moves; ``policy[h][i]``,
    its first move (an index of ``grid.moves``). Nothing is owed for what is
    left at the end."""
    size, width = len(grid.levels), len(grid.moves)
    down = int(-grid.moves[0])
    value = np.zeros((hours + 1, size))
    throughput = np.zeros((hours + 1, size))
    policy = np.empty((hours, size), dtype=np.intp)
    rows = np.arange(size)
    # Row i of a window holds levels i − down … i + up, where each move from i
    # ends; past either end of the grid the cost is infinite. The buffers are
    # reused hour after hour.
    ends = np.full(size + width - 1, np.inf)
    ends_moved = np.zeros(size + width - 1)
    window = sliding_window_view(ends, width)
    moved_window = sliding_window_view(ends_moved, width)
    costs = np.empty((size, width))
    moved = np.empty_like(costs)
    far = np.empty(costs.shape, dtype=bool)
    move_throughput = np.abs(grid.meter)
    for h in reversed(range(hours)):
        ends[down : down + size] = np.where(
            grid.allowed(target, h), value[h + 1], np.inf
        )
        ends_moved[down : down + size] = throughput[h + 1]
        np.add(window, hour_cost(h, grid.meter), out=costs)
        np.add(moved_window, move_throughput, out=moved)
        choice = _pick(costs, moved, far)
        policy[h] = choice
        value[h] = costs[rows, choice]
        throughput[h] = moved[rows, choice]
    return value, throughput, policy


def _start_plans(grid: _Grid, start: float, target, hour_cost, value, throughput):
    """Where the battery, still at its starting charge at hour h, goes: the grid
    level it moves to, or -1 to stay; None if no plan meets the target.

    The starting charge need not be a grid level: the battery may stay there
    (idle) for a while, then move onto the grid.
    """
    limits = grid.limits
    hours = len(value) - 1
    rise = grid.levels - start
    reachable = (rise <= limits.charge_per_hour + TOLERANCE) & (
        -rise <= limits.discharge_per_hour + TOLERANCE
    )
    meter = meter_energy(rise, limits.leg)
    wait, wait_throughput = 0.0, 0.0
    first_level = np.empty(hours, dtype=np.intp)
    for h in reversed(range(hours)):
        stays = target is None or h != target.hour_index
        stay = float(hour_cost(h, 0.0)) + wait
        if not (stays or start >= target.soc_kwh - TOLERANCE):
            stay = np.inf
        options = np.concatenate(
            [
                [stay],
                np.where(reachable & grid.allowed(target, h), value[h + 1], np.inf)
                + hour_cost(h, meter),
            ]
        )
        moved = np.concatenate([[wait_throughput], throughput[h + 1] + np.abs(meter)])
        choice = int(_pick(options[None, :], moved[None, :])[0])
        first_level[h] = choice - 1
        wait, wait_throughput = options[choice], moved[choice]
    return first_level if np.isfinite(wait) else None


def _start_soc(limits: Limits, soc_kwh: float) -> float:
    low, high = limits.soc_min_kwh, limits.soc_max_kwh
    if not low - TOLERANCE <= soc_kwh <= high + TOLERANCE:
        raise ValidationFailed(
            "invalid request",
            {"start_soc_kwh": [f"between {low:g} and {high:g} kWh for this battery"]},
        )
    return min(max(soc_kwh, low), high)


def _planned_hour(limits, h, soc, end, loads, imports, exports) -> PlannedHour:
    change = end - soc
    if change > TOLERANCE:
        action, meter = CHARGE, change / limits.leg
        power = min(meter, limits.max_charge_kw)
    elif change < -TOLERANCE:
        action, meter = DISCHARGE, change * limits.leg
        power = min(-meter, limits.max_discharge_kw)
    else:
        action, meter, power = IDLE, 0.0, 0.0
    grid = float(loads[h]) + meter
    return PlannedHour(
        hour_index=h,
        action=action,
        power_kw=power,
        soc_kwh_end=end,
        load_kwh=float(loads[h]),
        grid_kwh=grid,
        cost=float(energy_cost(grid, imports[h], exports[h])),
    )


def _check_target(limits: Limits, target: Target | None, hours: int) -> None:
    if target is None:
        return
    if not 0 <= target.hour_index < hours:
        raise ValidationFailed(
            "invalid request",
            {"target": {"hour_index": [f"between 0 and {hours - 1}"]}},
        )
    if target.soc_kwh > limits.soc_max_kwh + TOLERANCE:
        raise InfeasibleSchedule(
            "the target is above the battery's maximum charge",
            {"target": {"soc_kwh": [f"at most {limits.soc_max_kwh:g} kWh"]}},
        )


def _unreachable(grid: _Grid, target: Target, start: float) -> InfeasibleSchedule:
    """Why the target cannot be met: the most the battery can hold by then."""
    first = np.flatnonzero(
        grid.levels - start <= grid.limits.charge_per_hour + TOLERANCE
    )
    highest = min(
        int(first.max()) + int(grid.moves[-1]) * target.hour_index,
        len(grid.levels) - 1,
    )
    most = max(start, float(grid.levels[highest]))
    return InfeasibleSchedule(
        "the target cannot be reached",
        {
            "target": {
                "soc_kwh": [
                    f"{target.soc_kwh:g} kWh cannot be stored by the end of hour "
                    f"{target.hour_index}: at most {most:g} kWh from "
                    f"{start:g} kWh"
                ]
            }
        },
    )
