"""alarms' rules as plain functions: what each type of rule watches, whether its
condition holds on what the platform knows of a device, which of several rules on
one originator decides, what an alarm says, and when a user is to be told."""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

SEVERITIES = ("critical", "major", "minor", "warning")
#: Most severe first: the rank of each severity, 0 the most severe.
RANK = {severity: rank for rank, severity in enumerate(SEVERITIES)}
HOUR = timedelta(hours=1)
#: A forecast below this (kWh in an hour) says nothing of a panel: night, dusk.
MIN_FORECAST_KWH = Decimal("0.05")


@dataclass(frozen=True)
class RuleType:
    """A type of rule: the unit of its threshold (None: it has none), the range
    the threshold may take, and whether it lasts ``duration_min`` minutes."""

    name: str
    unit: str | None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    duration: bool = False
    description: str = ""


TYPES = {
    rule.name: rule
    for rule in (
        RuleType(
            "energy_over",
            "kWh",
            Decimal("0.001"),
            Decimal("1000000"),
            description="energy drawn in a UTC hour over the threshold (kWh); "
            "on a whole site, the site's total",
        ),
        RuleType(
            "power_over",
            "W",
            Decimal(0),
            Decimal("10000000"),
            duration=True,
            description="every power reading for duration_min minutes over the "
            "threshold (W)",
        ),
        RuleType(
            "offline",
            None,
            duration=True,
            description="the device offline for duration_min minutes",
        ),
        RuleType(
            "no_reading",
            None,
            duration=True,
            description="no reading from the device for duration_min minutes",
        ),
        RuleType(
            "generation_below_forecast",
            "%",
            Decimal(1),
            Decimal(100),
            description="a PV device's last whole hour below its forecast by the "
            "threshold (% of the forecast)",
        ),
        RuleType(
            "soc_below",
            "%",
            Decimal(0),
            Decimal(100),
            description="a battery's state of charge below the threshold (% of its "
            "capacity)",
        ),
    )
}
#: The rule every device has of its own hourly limit (``max_hourly_kwh``).
DEVICE_LIMIT_NAME = "Hourly limit"
DEVICE_LIMIT_SEVERITY = "major"
_DEVICE_LIMITS = uuid.UUID("6f0c6a1e-3d4b-5a8e-9c2f-0b7d1e4a5c93")


def device_limit_rule_id(device_id: str) -> str:
    """The id of a device's own rule: the same from every event of the device."""
    return str(uuid.uuid5(_DEVICE_LIMITS, device_id))


@dataclass(frozen=True)
class DeviceFacts:
    """What the platform knows of a device now; None where it was not asked or
    could not be learnt."""

    #: The current UTC hour and the energy drawn in it so far.
    hour: datetime | None = None
    hour_kwh: Decimal | None = None
    #: From monitoring's status: online, since when, last heard from, newest power.
    online: bool | None = None
    since: datetime | None = None
    last_seen: datetime | None = None
    reading_interval_s: int | None = None
    power_w: float | None = None
    power_at: datetime | None = None
    #: ``{minutes: (lowest power W, first reading's time, readings)}`` over the
    #: last so many minutes.
    power_floor: dict = field(default_factory=dict)
    #: A battery's state of charge, % of its capacity.
    soc_pct: float | None = None
    #: The last whole hour's generation and its forecast (kWh), and that hour.
    generated_hour: datetime | None = None
    generated_kwh: Decimal | None = None
    forecast_kwh: Decimal | None = None


@dataclass(frozen=True)
class Observation:
    """What one rule found on one originator: whether its condition holds
    (``holds``), the value it measured, and what an alarm would say."""

    rule_id: str
    type: str
    severity: str
    holds: bool
    value: Decimal | None
    threshold: Decimal | None
    unit: str | None
    message: str


def hour_start(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _number(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.001")).normalize()


def _shown(value) -> str:
    return format(_number(value), "f")


def _clock(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%H:%M UTC")


def observe(rule, name: str, facts: DeviceFacts, now: datetime) -> Observation | None:
    """Whether ``rule``'s condition holds on the device called ``name``; None when
    what it needs is not known (the alarm, if any, is left as it is)."""
    kind = TYPES[rule.type]
    threshold = rule.threshold

    def found(holds: bool, value, message: str) -> Observation:
        return Observation(
            rule.id,
            rule.type,
            rule.severity,
            holds,
            None if value is None else _number(value),
            threshold,
            kind.unit if kind.unit else "min",
            message,
        )

    if rule.type == "energy_over":
        if facts.hour_kwh is None:
            return None
        return found(
            facts.hour_kwh > threshold,
            facts.hour_kwh,
            f"{name} used {_shown(facts.hour_kwh)} kWh in the hour from "
            f"{_clock(facts.hour)}, over its {_shown(threshold)} kWh limit",
        )
    if rule.type == "power_over":
        floor = facts.power_floor.get(rule.duration_min)
        if floor is None or facts.reading_interval_s is None:
            return None
        lowest, first_at, count = floor
        window_start = now - timedelta(minutes=rule.duration_min)
        # The readings cover the whole window: the first came within one
        # reading interval of its start, the newest is recent.
        covered = (
            count > 0
            and first_at - window_start
            <= timedelta(seconds=facts.reading_interval_s * 1.5)
            and facts.power_at is not None
            and now - facts.power_at <= timedelta(seconds=facts.reading_interval_s * 3)
        )
        holds = covered and lowest > float(threshold)
        power = facts.power_w if facts.power_w is not None else lowest
        return found(
            holds,
            power,
            f"{name} drew over {_shown(threshold)} W for {rule.duration_min} "
            f"minutes (now {_shown(power if power is not None else 0)} W)",
        )
    if rule.type == "offline":
        if facts.online is None:
            return None
        offline_since = None if facts.online else (facts.since or facts.last_seen)
        minutes = (
            None
            if offline_since is None
            else int((now - offline_since).total_seconds() // 60)
        )
        return found(
            minutes is not None and minutes >= rule.duration_min,
            minutes,
            f"{name} has been offline for {minutes or 0} minutes",
        )
    if rule.type == "no_reading":
        if facts.online is None:
            return None
        # Never heard from: silent since it was added, which the rule cannot
        # tell; it waits for a first reading.
        if facts.last_seen is None:
            return found(False, None, f"{name} has not sent a reading yet")
        minutes = int((now - facts.last_seen).total_seconds() // 60)
        return found(
            minutes >= rule.duration_min,
            minutes,
            f"{name} has sent no reading for {minutes} minutes",
        )
    if rule.type == "generation_below_forecast":
        if facts.generated_kwh is None or facts.forecast_kwh is None:
            return None
        forecast = facts.forecast_kwh
        if forecast < MIN_FORECAST_KWH:
            shortfall = Decimal(0)
        else:
            shortfall = (forecast - facts.generated_kwh) / forecast * 100
        return found(
            forecast >= MIN_FORECAST_KWH and shortfall >= threshold,
            shortfall,
            f"{name} generated {_shown(facts.generated_kwh)} kWh in the hour from "
            f"{_clock(facts.generated_hour)}, {_shown(shortfall)} % below its "
            f"forecast of {_shown(forecast)} kWh",
        )
    if rule.type == "soc_below":
        if facts.soc_pct is None:
            return None
        return found(
            Decimal(str(facts.soc_pct)) < threshold,
            facts.soc_pct,
            f"{name} is charged to {_shown(facts.soc_pct)} %, below "
            f"{_shown(threshold)} %",
        )
    raise ValueError(f"no rule type {rule.type!r}")


def observe_site(rule, name: str, hour: datetime, kwh: Decimal) -> Observation:
    """An ``energy_over`` rule on a whole site: the site's total in the hour."""
    return Observation(
        rule.id,
        rule.type,
        rule.severity,
        kwh > rule.threshold,
        _number(kwh),
        rule.threshold,
        "kWh",
        f"{name} drew {_shown(kwh)} kWh in the hour from {_clock(hour)}, over its "
        f"{_shown(rule.threshold)} kWh limit",
    )


def deciding(observations: list[Observation]) -> Observation | None:
    """Of what several rules of one type found on one originator, the one that
    decides: the most severe that holds (then the one furthest over: the first
    given); None when none holds."""
    holding = [found for found in observations if found.holds]
    if not holding:
        return None
    return min(holding, key=lambda found: RANK[found.severity])


# -- telling people --------------------------------------------------------------------


def parse_clock(value: str | None) -> time | None:
    if value is None:
        return None
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def in_quiet_hours(local: datetime, start: str | None, end: str | None) -> bool:
    """Whether the local time falls within quiet hours from ``start`` to ``end``
    ("22:00" to "07:00" spans midnight); none when either is missing or they are
    equal."""
    start, end = parse_clock(start), parse_clock(end)
    if start is None or end is None or start == end:
        return False
    now = local.time().replace(second=0, microsecond=0)
    if start < end:
        return start <= now < end
    return now >= start or now < end


def digest_due(local: datetime, hour: int, sent_on) -> bool:
    """Whether a user's daily digest is due: their local hour has come today and
    today's was not sent."""
    return local.hour >= hour and (sent_on is None or sent_on < local.date())


def recipients(owner_id: str | None, members: list[dict]) -> list[str]:
    """Whom an alarm concerns: the owner of its device and every member of its
    site, each once, in a stable order."""
    people = [owner_id] if owner_id else []
    people += [member["user_id"] for member in members or []]
    return list(dict.fromkeys(people))


def summary_line(alarm) -> str:
    return f"[{alarm.severity.upper()}] {alarm.message}"
