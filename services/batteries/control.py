"""Auto mode's decisions: which setpoint a battery's plan holds for a control
interval, when the plan must be worked out again, and when a manual override ends.

Pure: the plan, the time and the reported charge come in as arguments; the service
acts on what ``decide`` answers (``Send``, ``Replan``, ``Hold``).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.batteries.physics import CHARGE, DISCHARGE, IDLE

#: How a battery is driven: by its owner's commands only, or by its optimal plan.
MANUAL, AUTO = "manual", "auto"
CONTROLS = (MANUAL, AUTO)
#: Who the setpoints of auto mode are issued by, in the devices service's commands.
ISSUER = "batteries"
#: The device command that sets a battery's power.
SETPOINT = "battery_setpoint"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Step:
    """One step (an hour of the schedule) of a stored plan."""

    index: int
    starts_at: datetime
    #: At the terminals: positive charges, negative discharges, 0 holds.
    power_kw: float
    soc_kwh_start: float
    soc_kwh_end: float


@dataclass(frozen=True)
class Send:
    """Send ``step``'s setpoint for the interval."""

    step: Step


@dataclass(frozen=True)
class Replan:
    """Work the plan out again from ``soc_kwh``, for ``reason``."""

    soc_kwh: float
    reason: str


@dataclass(frozen=True)
class Hold:
    """Send nothing: a manual command holds the battery until ``until``."""

    until: datetime


def interval_start(now: datetime, interval_s: float) -> datetime:
    """The start of the control interval holding ``now``: intervals are aligned on
    the epoch, so every process agrees on them."""
    elapsed = (now - _EPOCH).total_seconds()
    return _EPOCH + timedelta(seconds=elapsed - elapsed % interval_s)


def signed_power(action: str, power_kw: float) -> float:
    """A schedule hour's or command's power as a setpoint: + charges, − discharges."""
    return {CHARGE: power_kw, DISCHARGE: -power_kw, IDLE: 0.0}[action]


def action_of(setpoint_kw: float) -> tuple[str, float | None]:
    """A setpoint as a battery command: ``(action, power_kw)``."""
    if setpoint_kw > 0:
        return CHARGE, setpoint_kw
    if setpoint_kw < 0:
        return DISCHARGE, -setpoint_kw
    return IDLE, None


def plan_steps(plan: dict) -> list[Step]:
    """The steps of a stored plan ``{started_at, step_s, start_soc_kwh, hours}``
    (``hours``: ``[{power_kw, soc_kwh_end}]``, power signed)."""
    started = datetime.fromisoformat(plan["started_at"])
    soc = plan["start_soc_kwh"]
    steps = []
    for index, hour in enumerate(plan["hours"]):
        steps.append(
            Step(
                index,
                started + timedelta(seconds=index * plan["step_s"]),
                hour["power_kw"],
                soc,
                hour["soc_kwh_end"],
            )
        )
        soc = hour["soc_kwh_end"]
    return steps


def current_step(plan: dict | None, at: datetime) -> Step | None:
    """The step of ``plan`` that holds ``at``; None when there is no plan, it has
    not begun, or it ran out."""
    if not plan:
        return None
    for step in plan_steps(plan):
        if step.starts_at <= at < step.starts_at + timedelta(seconds=plan["step_s"]):
            return step
    return None


def expected_soc(step: Step, step_s: float, at: datetime) -> float:
    """The charge the plan expects at ``at``: along the step, from its start to
    its end."""
    done = min(max((at - step.starts_at).total_seconds() / step_s, 0.0), 1.0)
    return step.soc_kwh_start + done * (step.soc_kwh_end - step.soc_kwh_start)


def drifted(
    expected_kwh: float, reported_kwh: float | None, capacity_kwh: float, fraction
) -> bool:
    """Whether the reported charge is further from the plan's than ``fraction`` of
    the capacity; a battery that reported nothing has not drifted."""
    if reported_kwh is None:
        return False
    return abs(reported_kwh - expected_kwh) > fraction * capacity_kwh


def overridden(override_until: datetime | None, now: datetime) -> bool:
    """Whether a manual command still holds the battery."""
    return override_until is not None and now < override_until


def decide(
    plan: dict | None,
    at: datetime,
    *,
    modelled_soc_kwh: float,
    reported_soc_kwh: float | None,
    capacity_kwh: float,
    drift_fraction: float,
    override_until: datetime | None = None,
):
    """What auto mode does for the interval starting ``at``.

    A manual override holds the battery (``Hold``). Without a step for ``at`` (no
    plan, or it ran out) or when the reported charge drifted from the plan's, the
    plan is worked out again (``Replan``) from the reported charge, or from the
    modelled one when the device reported none. Otherwise the step's setpoint
    goes out (``Send``).
    """
    if overridden(override_until, at):
        return Hold(override_until)
    start = modelled_soc_kwh if reported_soc_kwh is None else reported_soc_kwh
    step = current_step(plan, at)
    if step is None:
        return Replan(start, "no plan" if not plan else "plan ran out")
    if drifted(
        expected_soc(step, plan["step_s"], at),
        reported_soc_kwh,
        capacity_kwh,
        drift_fraction,
    ):
        return Replan(start, "drift")
    return Send(step)


def stored_plan(schedule, started_at: datetime, step_s: float, prices: dict) -> dict:
    """A schedule (``schedule.Schedule``) as stored on the battery: what each step
    sets and where it leads, and the prices and load it came from (re-planning
    starts from them again)."""
    return {
        "started_at": started_at.isoformat(),
        "step_s": step_s,
        "start_soc_kwh": schedule.start_soc_kwh,
        "hours": [
            {
                "power_kw": round(signed_power(hour.action, hour.power_kw), 6),
                "soc_kwh_end": round(hour.soc_kwh_end, 6),
            }
            for hour in schedule.hours
        ],
        "request": prices,
    }


def rotated(request: dict, steps: int) -> dict:
    """The plan's prices and load ``steps`` steps on, taken as a profile that
    repeats: re-planning after ``steps`` steps starts there."""
    out = dict(request)
    for name in ("import_prices", "export_prices", "load_kwh"):
        if name in request:
            values = request[name]
            shift = steps % len(values)
            out[name] = values[shift:] + values[:shift]
    return out
