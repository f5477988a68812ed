"""Energy over a range: the buckets an answer has, from the range a caller asks for.

``hour`` buckets are UTC hours; ``day`` and ``month`` buckets are local days and
months of the scope's time zone (``rollups``). ``from`` and ``to`` may be dates
(local days) or datetimes (a datetime without an offset is local too); ``to`` is
excluded. Each resolution rounds the range outward to whole buckets, has a default
range (today, this month, this year) and a largest one.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from services.common.errors import ValidationFailed
from services.monitoring.rollups import Amounts

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
RESOLUTIONS = ("hour", "day", "month")
SCOPES = ("device", "room", "site", "portfolio")
#: The most buckets one answer has: a leap year of hours (and the hour a DST
#: autumn adds), ten years of days, a century of months.
MAX_BUCKETS = {"hour": 366 * 24 + 1, "day": 3660, "month": 1200}


@dataclass(frozen=True)
class Range:
    """Whole buckets ``[start, end)``: UTC hour starts for ``hour``, local dates
    for ``day``, first days of months for ``month``."""

    resolution: str
    start: datetime | date
    end: datetime | date

    def keys(self) -> list:
        """Every bucket of the range, in order."""
        keys, key = [], self.start
        while key < self.end:
            keys.append(key)
            key = following(self.resolution, key)
        return keys


def following(resolution: str, key):
    """The bucket after ``key``."""
    if resolution == "hour":
        return key + HOUR
    if resolution == "day":
        return key + DAY
    return next_month(key)


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """Where ``day`` begins on the zone's clocks, as an aware datetime."""
    return datetime.combine(day, time(), zone)


def _as_local(value, zone: ZoneInfo) -> datetime:
    """A date (its local midnight) or a datetime (naive: local) as an aware
    datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    return local_midnight(value, zone)


def _floor(resolution: str, moment: datetime, zone: ZoneInfo):
    if resolution == "hour":
        return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    day = moment.astimezone(zone).date()
    return day if resolution == "day" else day.replace(day=1)


def _ceil(resolution: str, moment: datetime, zone: ZoneInfo):
    floor = _floor(resolution, moment, zone)
    if resolution == "hour":
        exact = floor == moment.astimezone(UTC)
    else:
        exact = local_midnight(floor, zone) == moment.astimezone(zone)
    return floor if exact else following(resolution, floor)


def default_range(resolution: str, now: datetime, zone: ZoneInfo) -> Range:
    """Today in hours, this month in days, this year in months (local)."""
    today = now.astimezone(zone).date()
    if resolution == "hour":
        return Range(
            "hour",
            _ceil("hour", local_midnight(today, zone), zone),
            _ceil("hour", local_midnight(today + DAY, zone), zone),
        )
    if resolution == "day":
        first = today.replace(day=1)
        return Range("day", first, next_month(first))
    first = date(today.year, 1, 1)
    return Range("month", first, date(today.year + 1, 1, 1))


def resolve(resolution: str, start, end, zone: ZoneInfo, now: datetime) -> Range:
    """The whole buckets covering ``[start, end)`` (either may be None: the
    default range's, or as long a range as the default ending or starting at the
    other); ``ValidationFailed`` naming the field when the range is empty or has
    more than ``MAX_BUCKETS``."""
    default = default_range(resolution, now, zone)
    first = None if start is None else _first(resolution, start, zone)
    last = None if end is None else _ceil(resolution, _as_local(end, zone), zone)
    span = len(default.keys())
    if first is None and last is None:
        return default
    if last is None:
        last = _shift(resolution, first, span)
    elif first is None:
        first = _shift(resolution, last, -span)
    if not first < last:
        raise ValidationFailed(
            "to must come after from", {"to": ["must come after from"]}
        )
    count = _count(resolution, first, last)
    limit = MAX_BUCKETS[resolution]
    if count > limit:
        raise ValidationFailed(
            f"at most {limit} {resolution} buckets in one answer",
            {"to": [f"at most {limit} {resolution}s after from"]},
        )
    return Range(resolution, first, last)


def _first(resolution: str, start, zone: ZoneInfo):
    """The first bucket from ``start``: the one it falls in; for a date asked in
    hours, the first hour that starts in that local day (as ``hours_of``)."""
    if resolution == "hour" and not isinstance(start, datetime):
        return _ceil("hour", local_midnight(start, zone), zone)
    return _floor(resolution, _as_local(start, zone), zone)


def _shift(resolution: str, key, count: int):
    if resolution == "hour":
        return key + count * HOUR
    if resolution == "day":
        return key + count * DAY
    months = key.year * 12 + key.month - 1 + count
    return date(months // 12, months % 12 + 1, 1)


def _count(resolution: str, first, last) -> int:
    if resolution == "hour":
        return int((last - first) / HOUR)
    if resolution == "day":
        return (last - first).days
    return (last.year - first.year) * 12 + last.month - first.month


def page(window: Range, after: str | None, limit: int) -> Range:
    """At most ``limit`` buckets of ``window`` after the bucket keyed ``after``
    (its ISO text): an export's next page."""
    start = window.start
    if after is not None:
        try:
            key = (
                datetime.fromisoformat(after)
                if window.resolution == "hour"
                else date.fromisoformat(after)
            )
        except (TypeError, ValueError) as exc:
            raise ValidationFailed(
                "after must be a bucket's key", {"after": ["not a bucket's key"]}
            ) from exc
        start = max(start, following(window.resolution, key))
    end = min(_shift(window.resolution, start, max(1, limit)), window.end)
    return Range(window.resolution, start, max(start, end))


#: The longest range of raw readings one export covers, and its default.
MAX_READINGS_SPAN = timedelta(days=366)
DEFAULT_READINGS_SPAN = DAY


def instants(start, end, now: datetime) -> tuple[datetime, datetime]:
    """``[from, to)`` of a readings export as UTC instants: dates and datetimes
    without an offset are UTC; the default is the last day."""
    first = None if start is None else _as_local(start, UTC)
    last = None if end is None else _as_local(end, UTC)
    if last is None:
        last = now if first is None else first + DEFAULT_READINGS_SPAN
    if first is None:
        first = last - DEFAULT_READINGS_SPAN
    if not first < last:
        raise ValidationFailed(
            "to must come after from", {"to": ["must come after from"]}
        )
    if last - first > MAX_READINGS_SPAN:
        raise ValidationFailed(
            "at most 366 days of readings in one export",
            {"to": ["at most 366 days after from"]},
        )
    return first.astimezone(UTC), last.astimezone(UTC)


def hours_of(window: Range, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC hours ``[start, end)`` whose figures a range covers: a local day
    has the hours that start in it, so its hours begin at the first whole UTC
    hour from its midnight."""
    if window.resolution == "hour":
        return window.start, window.end
    return tuple(
        _ceil("hour", local_midnight(key, zone), zone)
        for key in (window.start, window.end)
    )


def bucket_start(resolution: str, key, zone: ZoneInfo | None) -> str:
    """How an answer labels a bucket: a UTC hour as ``…Z``; a local day or month
    by its local midnight with its offset, or by its date alone when the answer
    spans several time zones (``zone`` None)."""
    if resolution == "hour":
        return key.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if zone is None:
        return key.isoformat()
    return local_midnight(key, zone).isoformat()


def series(window: Range, amounts: dict, zone: ZoneInfo | None) -> list[dict]:
    """Every bucket of the range, zero-filled, as the answer lists them."""
    return [
        row(bucket_start(window.resolution, key, zone), amounts.get(key, Amounts()))
        for key in window.keys()
    ]


def row(start: str, amounts: Amounts) -> dict:
    return {
        "start": start,
        "import_kwh": amounts.import_kwh,
        "export_kwh": amounts.export_kwh,
        "net_kwh": amounts.net_kwh,
        "cost": amounts.cost,
        "co2_kg": amounts.co2_kg,
    }


def total(amounts) -> Amounts:
    result = Amounts()
    for item in amounts:
        result += item
    return result
