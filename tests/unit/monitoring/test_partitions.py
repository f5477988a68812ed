"""The readings' partitions: names, bounds, which are due, and the ingest window."""

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.monitoring import partitions
from services.monitoring.exceptions import InvalidReading
from services.monitoring.logic import hour_of, parse_reading

NOW = datetime(2026, 12, 2, 5, 30, tzinfo=UTC)


def test_a_partition_holds_one_utc_day_named_after_it():
    partition = partitions.Partition.of(date(2026, 12, 2))
    assert partition.name == "readings_p20261202"
    assert partition.start == datetime(2026, 12, 2, tzinfo=UTC)
    assert partition.end == datetime(2026, 12, 3, tzinfo=UTC)
    assert partitions.day_named(partition.name) == date(2026, 12, 2)
    assert partitions.day_named("readings_unpartitioned") is None
    assert partitions.day_named("readings_p2026120") is None


def test_the_last_hour_of_a_day_is_in_that_day_s_partition():
    # 00:00 exactly counts in 23:00-24:00 of the day before (``hour_of``).
    midnight = datetime(2026, 12, 2, tzinfo=UTC)
    hour = hour_of(midnight)
    [partition] = partitions.needed([hour])
    assert partition.name == "readings_p20261201"
    assert partition.start <= hour < partition.end


def test_an_hour_in_another_zone_is_placed_by_its_utc_day():
    hour = datetime(2026, 12, 2, 0, tzinfo=UTC).astimezone(ZoneInfo("America/New_York"))
    assert partitions.day_of(hour) == date(2026, 12, 2)


def test_the_partitions_a_batch_needs_are_its_days_once_each_in_order():
    hours = [
        datetime(2026, 12, 2, 3, tzinfo=UTC),
        datetime(2026, 11, 30, 23, tzinfo=UTC),
        datetime(2026, 12, 2, 4, tzinfo=UTC),
    ]
    assert [p.name for p in partitions.needed(hours)] == [
        "readings_p20261130",
        "readings_p20261202",
    ]
    assert partitions.needed([]) == []


def test_today_and_the_next_days_are_kept_ready():
    assert [p.name for p in partitions.ahead(NOW, 2)] == [
        "readings_p20261202",
        "readings_p20261203",
        "readings_p20261204",
    ]


def test_only_partitions_wholly_older_than_the_retention_are_due_to_drop():
    retention = timedelta(days=10)  # cut off at 2026-11-22 05:30
    names = [
        "readings_p20261120",
        "readings_p20261121",  # ends 11-22 00:00, before the cutoff
        "readings_p20261122",  # holds hours after the cutoff: kept
        "readings_p20261202",
        "readings_unpartitioned",  # not one of ours
    ]
    assert partitions.due_to_drop(names, NOW, retention) == [
        "readings_p20261120",
        "readings_p20261121",
    ]
    exactly = datetime(2026, 11, 22, tzinfo=UTC) + retention
    assert partitions.due_to_drop(names, exactly, retention) == [
        "readings_p20261120",
        "readings_p20261121",
    ]
    assert partitions.due_to_drop(
        names, exactly - timedelta(microseconds=1), retention
    ) == ["readings_p20261120"]


def test_the_back_fill_window_stands_when_the_retention_is_longer_by_a_day():
    window, said = partitions.ingest_window(timedelta(days=45), timedelta(days=46))
    assert window == timedelta(days=45)
    assert said == "the back-fill window (45 days)"


def test_a_retention_shorter_than_the_back_fill_bounds_the_ingest():
    window, said = partitions.ingest_window(timedelta(days=45), timedelta(days=30))
    assert window == timedelta(days=29)
    assert said == "the raw readings' retention (30 days, less a day's margin)"
    assert partitions.ingest_window(timedelta(days=45), timedelta(hours=12))[
        0
    ] == timedelta(0)


def test_no_accepted_reading_lands_in_a_partition_due_to_drop():
    for backfill_days, retention_days in ((45, 60), (45, 45), (45, 20), (1.5, 2)):
        retention = timedelta(days=retention_days)
        window, _ = partitions.ingest_window(timedelta(days=backfill_days), retention)
        for minutes in range(0, 24 * 60, 7):
            now = NOW + timedelta(minutes=minutes)
            oldest = hour_of(now - window)
            [partition] = partitions.needed([oldest])
            # Even a batch written a day after it was parsed.
            assert partitions.due_to_drop([partition.name], now, retention) == []
            later = now + partitions.MARGIN - timedelta(microseconds=1)
            assert partitions.due_to_drop([partition.name], later, retention) == []


def test_a_reading_older_than_the_retention_is_refused_saying_so():
    window, said = partitions.ingest_window(timedelta(days=45), timedelta(days=10))
    body = {
        "reading_id": "r-1",
        "device_id": "d-1",
        "timestamp": (NOW - timedelta(days=9, hours=1)).isoformat(),
        "kwh": 0.1,
    }
    said_exactly = re.escape(
        "timestamp is older than the raw readings' retention (10 days, less a "
        "day's margin)"
    )
    with pytest.raises(InvalidReading, match=f"^{said_exactly}$"):
        parse_reading(body, "", NOW, 100, window, timedelta(minutes=5), said)
