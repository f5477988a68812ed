"""Demand-response rules: an event's window and status, the 10-in-10 baseline, each
participant's reduction and incentive, and the flexibility on offer.

Nothing here touches the database, the broker or the clock: a user's load comes in
as ``{UTC hour start: kWh}`` and the time as ``now``, so the rules are tested alone.
kWh are ``Decimal``, kept to the micro-kWh as monitoring stores them.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
MICRO = Decimal("0.000001")
ZERO = Decimal(0)

#: An event's status, from the time and whether it was cancelled.
SCHEDULED = "scheduled"
ACTIVE = "active"
FINISHED = "finished"
CANCELLED = "cancelled"
STATUSES = (SCHEDULED, ACTIVE, FINISHED, CANCELLED)

#: An invitation's status: the user's answer.
INVITED = "invited"
OPTED_IN = "opted_in"
OPTED_OUT = "opted_out"
INVITATION_STATUSES = (INVITED, OPTED_IN, OPTED_OUT)

#: What a ``dr.event`` push can announce.
CHANGES = (INVITED, OPTED_IN, OPTED_OUT, CANCELLED)

#: How long an event may last, and how far ahead it may be announced.
MAX_DURATION = timedelta(hours=24)
MAX_AHEAD = timedelta(days=366)

#: 10-in-10: the baseline averages up to 10 eligible days of the last 30.
BASELINE_DAYS = 10
LOOKBACK_DAYS = 30


def status(
    start: datetime, end: datetime, cancelled_at: datetime | None, now: datetime
) -> str:
    """``cancelled`` once cancelled; otherwise ``scheduled`` before ``start``,
    ``active`` until ``end`` (excluded), ``finished`` from then on."""
    if cancelled_at is not None:
        return CANCELLED
    if now < start:
        return SCHEDULED
    if now < end:
        return ACTIVE
    return FINISHED


def is_whole_hour(moment: datetime) -> bool:
    moment = moment.astimezone(UTC)
    return moment.minute == moment.second == moment.microsecond == 0


def _in_utc(moment: datetime) -> datetime | None:
    """``moment`` in UTC, or None if that is beyond the calendar (an offset moves
    0001-01-01T00:00+01:00 into year 0)."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None


def window_errors(start: datetime, end: datetime, now: datetime) -> dict:
    """What is wrong with a new event's window, per field (empty if nothing):
    whole UTC hours, ``start`` in the future (at most ``MAX_AHEAD``), ``end``
    after ``start`` by at most ``MAX_DURATION``."""
    errors: dict[str, list[str]] = {}
    start, end = _in_utc(start), _in_utc(end)
    for field, moment in (("start", start), ("end", end)):
        if moment is None:
            errors[field] = ["is out of range"]
    if errors:
        return errors
    for field, moment in (("start", start), ("end", end)):
        if not is_whole_hour(moment):
            errors.setdefault(field, []).append("must be a whole UTC hour")
    if start <= now:
        errors.setdefault("start", []).append("must be in the future")
    elif start - now > MAX_AHEAD:
        errors.setdefault("start", []).append(
            f"must be at most {MAX_AHEAD.days} days ahead"
        )
    if end <= start:
        errors.setdefault("end", []).append("must be after start")
    elif end - start > MAX_DURATION:
        errors.setdefault("end", []).append(
            f"must be at most {int(MAX_DURATION / HOUR)} hours after start"
        )
    return errors


def event_hours(start: datetime, end: datetime) -> list[datetime]:
    """The UTC hour starts of a window, ``end`` excluded."""
    start = start.astimezone(UTC)
    return [start + i * HOUR for i in range(int((end - start) / HOUR))]


def event_day(start: datetime) -> date:
    """The UTC day an event belongs to: the day it starts."""
    return start.astimezone(UTC).date()


def event_days(start: datetime, end: datetime) -> set[date]:
    """Every UTC day a window touches."""
    first = event_day(start)
    last = (end.astimezone(UTC) - timedelta(microseconds=1)).date()
    return {first + timedelta(days=i) for i in range((last - first).days + 1)}


def excluded_days(windows: Iterable[tuple[datetime, datetime]]) -> set[date]:
    """The days a user's other DR events touched: their load on those days was not
    their usual load, so the baseline leaves them out."""
    days: set[date] = set()
    for start, end in windows:
        days |= event_days(start, end)
    return days


def is_weekend(day: date) -> bool:
    return day.weekday() >= 5


def lookback_end(day: date, today: date) -> date:
    """The day before which baseline days are looked for: the event's day, or today
    if that has not come yet (a day counts only once it is over)."""
    return min(day, today)


def eligible_days(
    day: date,
    excluded: set[date],
    today: date,
    wanted: int = BASELINE_DAYS,
    lookback: int = LOOKBACK_DAYS,
) -> list[date]:
    """The days a baseline averages, most recent first.

    Of the ``lookback`` days before ``lookback_end(day, today)``, those of the
    same kind as ``day`` (weekdays for a weekday event, Saturdays and Sundays for
    a weekend one) and not in ``excluded``; the ``wanted`` most recent of them,
    or fewer if fewer exist.
    """
    last = lookback_end(day, today)
    candidates = (last - timedelta(days=i) for i in range(1, lookback + 1))
    return [
        candidate
        for candidate in candidates
        if is_weekend(candidate) == is_weekend(day) and candidate not in excluded
    ][:wanted]


def history_span(
    start: datetime, end: datetime, today: date, lookback: int = LOOKBACK_DAYS
) -> tuple[datetime, datetime]:
    """The hours of load ``baseline`` may read for an event: its window moved back
    onto each of the ``lookback`` candidate days, as ``(first, end excluded)``."""
    day = event_day(start)
    nearest = (day - lookback_end(day, today)).days + 1
    return start - (nearest + lookback - 1) * DAY, end - nearest * DAY


@dataclass(frozen=True)
class Baseline:
    """A user's expected energy in each hour of an event, and the days it is the
    mean of (most recent first)."""

    hours: dict[datetime, Decimal]
    days: tuple[date, ...]

    @property
    def note(self) -> str | None:
        if not self.days:
            return f"no eligible day in the last {LOOKBACK_DAYS} days: baseline 0"
        if len(self.days) < BASELINE_DAYS:
            return f"only {len(self.days)} eligible days of {BASELINE_DAYS}"
        return None


def baseline(
    start: datetime,
    end: datetime,
    load: Mapping[datetime, Decimal],
    days: list[date],
) -> Baseline:
    """The 10-in-10 baseline of one user for the window ``start``–``end``.

    For each event hour, the mean of the user's load in the same clock hour of
    each of ``days`` (``eligible_days``). The window is moved back by whole days,
    so an event that crosses midnight compares its hours after midnight with the
    day after each eligible day. Hours missing from ``load`` count as 0 kWh;
    without any day the baseline is 0. Means are rounded to the micro-kWh.
    """
    day = event_day(start)
    shifts = [(day - eligible).days * DAY for eligible in days]
    hours = {}
    for hour in event_hours(start, end):
        if not shifts:
            hours[hour] = ZERO
            continue
        total = sum((load.get(hour - shift, ZERO) for shift in shifts), ZERO)
        hours[hour] = (total / len(shifts)).quantize(MICRO)
    return Baseline(hours, tuple(days))


def participant_result(
    user_id: str,
    start: datetime,
    end: datetime,
    load: Mapping[datetime, Decimal],
    days: list[date],
    incentive_per_kwh: Decimal,
) -> dict:
    """One participant's outcome: per event hour the baseline, the actual load and
    the reduction ``max(0, baseline - actual)``; their sums; and the incentive,
    ``reduction × incentive_per_kwh`` rounded to 6 decimals. Using more than the
    baseline in one hour does not cancel a reduction in another."""
    expected = baseline(start, end, load, days)
    hours = []
    for hour, baseline_kwh in expected.hours.items():
        actual_kwh = load.get(hour, ZERO)
        hours.append(
            {
                "hour": hour,
                "baseline_kwh": baseline_kwh,
                "actual_kwh": actual_kwh,
                "reduction_kwh": max(ZERO, baseline_kwh - actual_kwh),
            }
        )
    reduction = sum((row["reduction_kwh"] for row in hours), ZERO)
    return {
        "user_id": user_id,
        "baseline_days": len(expected.days),
        "baseline_note": expected.note,
        "hours": hours,
        "baseline_kwh": sum((row["baseline_kwh"] for row in hours), ZERO),
        "actual_kwh": sum((row["actual_kwh"] for row in hours), ZERO),
        "reduction_kwh": reduction,
        "incentive": (reduction * Decimal(incentive_per_kwh)).quantize(MICRO),
    }


def totals(participants: list[dict]) -> dict:
    """What an event achieved: its participants' reductions and incentives."""
    return {
        "reduction_kwh": sum((p["reduction_kwh"] for p in participants), ZERO),
        "incentive": sum((p["incentive"] for p in participants), ZERO),
    }


def sum_series(series: Iterable[list[dict]]) -> dict[datetime, Decimal]:
    """Several devices' ``hourly_series`` (``[{hour, kwh}]``, ISO-8601 hours) added
    up per hour: one user's load."""
    load: dict[datetime, Decimal] = {}
    for rows in series:
        for row in rows:
            hour = datetime.fromisoformat(row["hour"]).astimezone(UTC)
            load[hour] = load.get(hour, ZERO) + Decimal(str(row["kwh"]))
    return load


# -- flexibility -------------------------------------------------------------------


@dataclass(frozen=True)
class Battery:
    """What flexibility needs of a battery: whose it is, how fast it can
    discharge, and how much energy it can give above its reserve."""

    user_id: str
    max_discharge_kw: Decimal
    available_kwh: Decimal
    #: The device that is the battery, which DR dispatch sends its setpoint.
    device_id: str | None = None


def _amount(item: dict, field: str) -> Decimal:
    value = item.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{field} is not a number")
    amount = Decimal(str(value))
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{field} must be a finite number, not negative")
    return amount


def parse_batteries(reply) -> list[Battery]:
    """The batteries in a reply of ``batteries.list_batteries_of(user_ids)``:
    ``[{user_id, device_id, max_discharge_kw, available_kwh, ...}]``, where
    ``available_kwh``
    is the energy the battery can deliver before its reserve (the batteries
    service knows its charge, bounds and losses). ``ValueError`` if the reply is
    not that shape: that service is built separately, so its reply is checked
    rather than trusted, and a battery of unknown charge is not assumed full."""
    if not isinstance(reply, list):
        raise ValueError("expected a list of batteries")
    batteries = []
    for item in reply:
        if not isinstance(item, dict) or not isinstance(item.get("user_id"), str):
            raise ValueError("a battery needs a user_id")
        device_id = item.get("device_id")
        if device_id is not None and not isinstance(device_id, str):
            raise ValueError("a battery's device_id is a string")
        batteries.append(
            Battery(
                item["user_id"],
                _amount(item, "max_discharge_kw"),
                _amount(item, "available_kwh"),
                device_id,
            )
        )
    return batteries


def discharge_headroom_kw(battery: Battery, hours: int) -> Decimal:
    """The power a battery can give throughout a window of ``hours``: its
    discharge rate, unless its energy runs out sooner."""
    return min(battery.max_discharge_kw, battery.available_kwh / hours)


def flexibility(
    start: datetime,
    end: datetime,
    baselines: list[Baseline],
    batteries: list[Battery],
) -> dict:
    """The reduction on offer for an event, in kW, hour by hour.

    Opted-in load: the sum of the participants' baselines (a kWh in an hour is a
    kW on average). Battery headroom: the sum of their batteries'
    ``discharge_headroom_kw``, the same in every hour. The summary figures are
    those of the hour with the least on offer: what holds through the window.
    """
    hours = event_hours(start, end)
    headroom = sum(
        (discharge_headroom_kw(battery, len(hours)) for battery in batteries), ZERO
    ).quantize(MICRO)
    rows = []
    for hour in hours:
        load = sum((b.hours.get(hour, ZERO) for b in baselines), ZERO)
        rows.append(
            {
                "hour": hour,
                "opted_in_load_kw": load,
                "battery_headroom_kw": headroom,
                "flexibility_kw": load + headroom,
            }
        )
    least_load = min((row["opted_in_load_kw"] for row in rows), default=ZERO)
    return {
        "hours": rows,
        "opted_in_load_kw": least_load,
        "battery_count": len(batteries),
        "battery_headroom_kw": headroom,
        "flexibility_kw": least_load + headroom,
    }
