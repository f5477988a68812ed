"""A battery's optimal schedule: the hourly charge/discharge plan that costs least
for given prices and load, by dynamic programming over a grid of charge levels.

Pure numpy: the battery's limits and the prices come in as arguments. Powers,
charges and efficiency follow the conventions of ``physics``.
"""

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from services.batteries.exceptions import (
    InfeasibleSchedule,
    start_out_of_range,
    target_hour_out_of_range,
)
from services.batteries.physics import CHARGE, DISCHARGE, IDLE, TOLERANCE, Limits

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
        raise start_out_of_range(low, high)
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
        raise target_hour_out_of_range(hours)
    if target.soc_kwh > limits.soc_max_kwh + TOLERANCE:
        raise InfeasibleSchedule.above_maximum(limits.soc_max_kwh)


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
    return InfeasibleSchedule.unreachable(
        target.soc_kwh, target.hour_index, most, start
    )
