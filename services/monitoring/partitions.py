"""The raw readings' partitions: one per UTC day of the ``hour`` readings count in.

``readings`` is partitioned by range of ``hour``; each partition holds one UTC day
and is named after it (``readings_p20261202``). Partitions are created ahead of time
by monitoring's maintenance, and on demand by a worker before a batch whose hours
have none; they are dropped once wholly older than the retention window. Hourly
totals are kept apart and stay forever.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

PARENT = "readings"
DAY = timedelta(days=1)
#: Days of partitions the maintenance keeps ready beyond today.
AHEAD_DAYS = 2
#: How long raw readings are kept, unless ``READINGS_RETENTION_DAYS`` says.
RETENTION = timedelta(days=90)
#: The ingest refuses readings at least this much younger than the retention: the
#: oldest reading accepted lands in a partition that stays for this long still, so
#: a batch never writes into a range the maintenance is dropping.
MARGIN = DAY
#: The one lock under which partitions are created and dropped.
LOCK = "monitoring.readings.partitions"
NAME = re.compile(rf"{PARENT}_p(\d{{8}})")


def day_of(hour: datetime) -> date:
    """The UTC day whose partition holds readings counted in ``hour``."""
    return hour.astimezone(UTC).date()


def name_of(day: date) -> str:
    return f"{PARENT}_p{day:%Y%m%d}"


def day_named(name: str) -> date | None:
    """The day a partition holds, from its name; None for a name not ours."""
    match = NAME.fullmatch(name)
    if match is None:
        return None
    return datetime.strptime(match.group(1), "%Y%m%d").date()


def bounds(day: date) -> tuple[datetime, datetime]:
    """The ``hour`` range of ``day``'s partition: from its midnight (included) to
    the next (excluded), UTC."""
    start = datetime.combine(day, time(), UTC)
    return start, start + DAY


@dataclass(frozen=True)
class Partition:
    name: str
    start: datetime
    end: datetime

    @classmethod
    def of(cls, day: date) -> "Partition":
        return cls(name_of(day), *bounds(day))


def needed(hours) -> list[Partition]:
    """The partitions readings counted in ``hours`` land in, in order of day."""
    return [Partition.of(day) for day in sorted({day_of(hour) for hour in hours})]


def ahead(now: datetime, days: int = AHEAD_DAYS) -> list[Partition]:
    """Today's partition and the next ``days``."""
    today = day_of(now)
    return [Partition.of(today + n * DAY) for n in range(days + 1)]


def cutoff(now: datetime, retention: timedelta) -> datetime:
    """Raw readings counted in an hour before this are past the retention."""
    return now - retention


def due_to_drop(names, now: datetime, retention: timedelta) -> list[str]:
    """The partitions wholly older than the retention window: every hour they may
    hold ends before ``cutoff``. Tables not named as ours are left alone."""
    limit = cutoff(now, retention)
    due = []
    for name in sorted(names):
        day = day_named(name)
        if day is not None and bounds(day)[1] <= limit:
            due.append(name)
    return due


def ingest_window(backfill: timedelta, retention: timedelta) -> tuple[timedelta, str]:
    """How old a reading the ingest accepts, and what a refusal says.

    The back-fill window, unless the raw readings are kept for less than it and a
    margin: then the retention, less the margin, is the limit. A reading accepted
    thus always lands in a partition that is not due to be dropped.
    """
    kept = retention - MARGIN
    if backfill <= kept:
        return backfill, f"the back-fill window ({_days(backfill)} days)"
    return max(kept, timedelta(0)), (
        f"the raw readings' retention ({_days(retention)} days, less a day's margin)"
    )


def _days(span: timedelta) -> str:
    days = span / DAY
    return f"{days:g}"
