"""How long the optimal battery schedule takes for a 48-hour horizon, measured
against a plain-Python dynamic programme over the same grid, in the same run.

(a) ``schedule.optimal_schedule``: the service's planner, end to end — the grid
    chosen for the battery, the backward pass vectorised with numpy (one window
    of every level × every move per hour), the starting charge's own chain, the
    plan followed forwards and costed.
(b) BASELINE: the same dynamic programme written as Python loops — the same
    grid, the same moves, the same start chain, the same costs — returning the
    least cost. No scipy is installed, so no LP solver to compare with; the
    baseline is the textbook implementation of the same exact method.

Both are timed on the same inputs, in turns (a b a b …, after one discarded
warm-up of each) so that drift on a shared machine falls on both; each figure is
the median of its runs. The script checks that both find the same least cost
(to 1e-9) before timing. The battery, prices and load are a seeded two-day
household case: a 13.5 kWh battery (10 %–95 %), 5 kW each way, 90 % round trip,
time-of-use import prices with noise, export at about a third of import, a
morning and an evening peak of load, and a target of 80 % at 07:00 on day two.

Run from the repository root (needs nothing running)::

    PYTHONWARNINGS=ignore .venv/bin/python benchmarks/bench_schedule.py [--runs N]
"""

import argparse
import math
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from benchkit import header, write_results

from services.batteries import schedule
from services.batteries.physics import TOLERANCE, Limits
from services.batteries.schedule import Target

RESULTS = Path(__file__).resolve().parent / "results" / "schedule.json"
HOURS = 48
BATTERY = Limits(
    capacity_kwh=13.5,
    max_charge_kw=5.0,
    max_discharge_kw=5.0,
    efficiency=0.9,
    min_soc=0.1,
    max_soc=0.95,
)
START_SOC_KWH = 4.0
TARGET = Target(hour_index=30, soc_kwh=0.8 * 13.5)  # the end of 06:00–07:00, day 2


def household(seed: int, hours: int = HOURS) -> tuple[list, list, list]:
    """Import and export prices per kWh and the load in kWh of each hour."""
    rng = random.Random(seed)
    imports, exports, loads = [], [], []
    for hour in range(hours):
        clock = hour % 24
        if 0 <= clock < 6:
            price = 0.12
        elif 17 <= clock < 21:
            price = 0.42
        else:
            price = 0.25
        price *= rng.uniform(0.85, 1.15)
        imports.append(price)
        exports.append(price * rng.uniform(0.25, 0.4))
        peak = 1.8 if 7 <= clock < 9 or 18 <= clock < 22 else 0.5
        loads.append(peak * rng.uniform(0.7, 1.3))
    return imports, exports, loads


def python_dp(limits, imports, exports, loads, start, target, intervals) -> float:
    """The least cost, by the same dynamic programme in plain Python loops."""
    levels = [float(level) for level in schedule.soc_grid(limits, intervals)]
    step = (limits.soc_max_kwh - limits.soc_min_kwh) / intervals
    leg = math.sqrt(limits.efficiency)
    up = min(math.floor(limits.charge_per_hour / step + 1e-9), intervals)
    down = min(math.floor(limits.discharge_per_hour / step + 1e-9), intervals)
    size, tolerance = len(levels), TOLERANCE

    def cost(hour, drawn):
        net = loads[hour] + drawn
        return net * imports[hour] if net > 0 else net * exports[hour]

    def drawn_for(change):
        return change / leg if change > 0 else change * leg

    def allowed(hour, soc):
        return (
            target is None
            or hour != target.hour_index
            or (soc >= target.soc_kwh - tolerance)
        )

    value = [0.0] * size
    values = [value]
    for hour in reversed(range(len(imports))):
        previous, value = value, [math.inf] * size
        for i in range(size):
            best = math.inf
            for move in range(-down, up + 1):
                j = i + move
                if 0 <= j < size and allowed(hour, levels[j]):
                    total = cost(hour, drawn_for(move * step)) + previous[j]
                    if total < best:
                        best = total
            value[i] = best
        values.append(value)
    values.reverse()  # values[h]: from the start of hour h

    wait = 0.0
    for hour in reversed(range(len(imports))):
        best = cost(hour, 0.0) + wait if allowed(hour, start) else math.inf
        for j, level in enumerate(levels):
            change = level - start
            if not -limits.discharge_per_hour - tolerance <= change:
                continue
            if not change <= limits.charge_per_hour + tolerance:
                continue
            if allowed(hour, level):
                best = min(best, cost(hour, drawn_for(change)) + values[hour + 1][j])
        wait = best
    return wait


def timed(function) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="timed runs of (a)")
    parser.add_argument(
        "--baseline-runs", type=int, default=3, help="timed runs of (b)"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    imports, exports, loads = household(args.seed)
    intervals = schedule.grid_intervals(BATTERY)
    grid = schedule.soc_grid(BATTERY, intervals)
    step = float(grid[1] - grid[0])
    moves = (
        min(math.floor(BATTERY.charge_per_hour / step + 1e-9), intervals)
        + min(math.floor(BATTERY.discharge_per_hour / step + 1e-9), intervals)
        + 1
    )

    def numpy_plan():
        return schedule.optimal_schedule(
            BATTERY, imports, exports, loads, START_SOC_KWH, TARGET
        )

    def python_plan():
        return python_dp(
            BATTERY, imports, exports, loads, START_SOC_KWH, TARGET, intervals
        )

    # Warm-up (discarded), and the check that both find the same optimum.
    _, plan = timed(numpy_plan)
    _, baseline_cost = timed(python_plan)
    if abs(plan.total_cost - baseline_cost) > 1e-9:
        print(f"MISMATCH: {plan.total_cost!r} != {baseline_cost!r}")
        return 1

    numpy_times, python_times = [], []
    for run in range(max(args.runs, args.baseline_runs)):
        if run < args.runs:
            numpy_times.append(timed(numpy_plan)[0])
        if run < args.baseline_runs:
            python_times.append(timed(python_plan)[0])

    numpy_ms = statistics.median(numpy_times) * 1000
    python_ms = statistics.median(python_times) * 1000
    actions = [hour.action for hour in plan.hours]
    document = {
        **header("schedule", numpy=np.__version__),
        "case": {
            "hours": HOURS,
            "battery": BATTERY.__dict__,
            "start_soc_kwh": START_SOC_KWH,
            "target": TARGET.__dict__,
            "seed": args.seed,
            "grid_levels": intervals + 1,
            "grid_step_kwh": round(step, 6),
            "moves_per_hour": moves,
            "cells_per_hour": (intervals + 1) * moves,
        },
        "plan": {
            "total_cost": round(plan.total_cost, 6),
            "cost_without_battery": round(plan.cost_without_battery, 6),
            "saving": round(plan.saving, 6),
            "charge_hours": actions.count("charge"),
            "discharge_hours": actions.count("discharge"),
            "idle_hours": actions.count("idle"),
            "baseline_same_cost": True,
        },
        "aggregation": "median of each target's runs, measured in turns a b a b "
        "after one discarded warm-up of each",
        "results": {
            "a": {
                "target": "schedule.optimal_schedule (numpy, end to end)",
                "runs": len(numpy_times),
                "median_ms": round(numpy_ms, 2),
                "min_ms": round(min(numpy_times) * 1000, 2),
                "max_ms": round(max(numpy_times) * 1000, 2),
            },
            "b": {
                "target": "the same dynamic programme in plain Python (least cost)",
                "runs": len(python_times),
                "median_ms": round(python_ms, 1),
                "min_ms": round(min(python_times) * 1000, 1),
                "max_ms": round(max(python_times) * 1000, 1),
            },
        },
        "ratios": {"speedup_a_over_b": round(python_ms / numpy_ms, 1)},
    }
    write_results(RESULTS, document)
    print(
        f"48-hour schedule, {intervals + 1} levels × {moves} moves: "
        f"numpy {numpy_ms:.1f} ms (median of {len(numpy_times)}), "
        f"plain Python {python_ms:.0f} ms (median of {len(python_times)}): "
        f"{python_ms / numpy_ms:.0f}× faster; same least cost "
        f"{plan.total_cost:.4f} (without battery "
        f"{plan.cost_without_battery:.4f})"
    )
    print(f"Written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
