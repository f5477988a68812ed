"""The readings' partitions and their retention, on the real broker and DB: readings
land in their day's partition and count once, two processes creating the same
partition both go on, an old partition is dropped whole while hourly totals stay, and
a reading older than the raw window is dead-lettered with why."""

from datetime import UTC, date, datetime, timedelta

import eventlet
import pytest
from alembic import command
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import text
from sqlalchemy.orm import Session

from ems.database import alembic_config
from harness.readings import recent_day
from services.devices.service import DevicesService
from services.monitoring import partitions
from services.monitoring.service import MonitoringService
from services.monitoring.storage import MonitoringStore
from services.monitoring.worker import MonitoringWorker
from tests.interface.test_monitoring import (
    OWNER,
    QUEUE,
    reading,
    send,
    wait_for,
)

pytestmark = pytest.mark.usefixtures("clean_databases")


@pytest.fixture
def start(container_factory, service_config):
    """Devices, monitoring (which keeps the dead letters) and one ingest worker, raw
    readings kept ``retention_days``."""

    def run(retention_days=90):
        container_factory(
            DevicesService,
            service_config("devices", DEVICES={"default_max_hourly_kwh": 0.5}),
        ).start()
        container_factory(
            MonitoringService,
            service_config("monitoring", READINGS_RETENTION_DAYS=retention_days),
        ).start()
        container_factory(
            MonitoringWorker,
            service_config(
                "monitoring_worker",
                INGEST_QUEUE=QUEUE.name,
                BATCH_SIZE=50,
                BATCH_WAIT=0.05,
                MAX_READING_KWH=100,
                RPC_TIMEOUT=5,
                READINGS_RETENTION_DAYS=retention_days,
            ),
        ).start()
        config = service_config()
        with ServiceRpcProxy("devices", config) as devices:
            device = devices.create_device(
                OWNER, {"name": "Meter", "kind": "meter", "max_hourly_kwh": 100}
            )
        return config, device

    return run


@pytest.fixture
def monitoringdb(engines):
    return engines["monitoringdb"]


def rows(engine, sql, **params):
    with engine.connect() as connection:
        return connection.execute(text(sql), params).all()


def totals(engine, device_id):
    return rows(
        engine,
        "SELECT hour, kwh, export_kwh, alerted FROM hourly_totals "
        "WHERE device_id = :d ORDER BY hour",
        d=device_id,
    )


def total_of(engine, device_id):
    return sum((row.kwh for row in totals(engine, device_id)), start=0)


def dead_reasons(engine):
    return [row.reason for row in rows(engine, "SELECT reason FROM dead_letters")]


def maintain(engine, now, retention):
    """One maintenance run, retried while another process holds its turn."""
    return wait_for(
        lambda: _with_store(engine, lambda s: s.maintain_partitions(now, retention))
    )


def partition_names(engine):
    return _with_store(engine, MonitoringStore.reading_partitions)


def _with_store(engine, use):
    with Session(engine) as session:
        return use(MonitoringStore(session))


def test_readings_land_in_their_day_s_partition_and_a_repeat_counts_once(
    start, monitoringdb
):
    config, device = start()
    # 00:00 exactly counts in 23:00-24:00 of the day before, so in its partition.
    midnight = reading(device["id"], f"{recent_day()}T00:00:00Z", 0.5)
    noon = reading(device["id"], f"{recent_day()}T12:15:00Z", 0.25)
    later = reading(device["id"], f"{recent_day(1)}T08:30:00Z", 0.125)
    send(config, midnight, noon, later)
    wait_for(lambda: total_of(monitoringdb, device["id"]) == 0.875)
    send(config, midnight, noon)  # redelivered or repeated
    send(config, reading(device["id"], f"{recent_day(1)}T08:45:00Z", 1))
    wait_for(lambda: total_of(monitoringdb, device["id"]) == 1.875)

    placed = rows(
        monitoringdb,
        "SELECT reading_id, tableoid::regclass::text AS partition, hour "
        "FROM readings ORDER BY reading_id",
    )
    assert len(placed) == 4
    for row in placed:
        [expected] = partitions.needed([row.hour])
        assert row.partition == expected.name
    by_id = {row.reading_id: row.partition for row in placed}
    day_before = date.fromisoformat(recent_day(-1))
    assert by_id[midnight["reading_id"]] == partitions.name_of(day_before)
    assert by_id[noon["reading_id"]] == partitions.name_of(
        date.fromisoformat(recent_day())
    )
    assert by_id[later["reading_id"]] == partitions.name_of(
        date.fromisoformat(recent_day(1))
    )
    at = datetime.fromisoformat
    assert [(row.hour, row.kwh) for row in totals(monitoringdb, device["id"])] == [
        (at(f"{recent_day(-1)}T23:00:00+00:00"), 0.5),
        (at(f"{recent_day()}T12:00:00+00:00"), 0.25),
        (at(f"{recent_day(1)}T08:00:00+00:00"), 1.125),
    ]


def test_two_processes_creating_the_same_partition_both_succeed(monitoringdb):
    day = date(2099, 1, 1)  # beyond any reading's hour: no other test has it
    wanted = [partitions.Partition.of(day)]
    holder = monitoringdb.connect()
    try:
        with holder.begin():
            # Both wait on the partitions' lock, having both seen it missing.
            holder.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                {"key": partitions.LOCK},
            )
            threads = [
                eventlet.spawn(
                    _with_store, monitoringdb, lambda s: s.create_partitions(wanted)
                )
                for _ in range(2)
            ]
            wait_for(
                lambda: (
                    rows(
                        monitoringdb,
                        "SELECT count(*) AS n FROM pg_locks "
                        "WHERE locktype = 'advisory' AND NOT granted",
                    )[0].n
                    == 2
                )
            )
        results = sorted(thread.wait() for thread in threads)
        assert results == [[], [partitions.name_of(day)]]
        assert partitions.name_of(day) in partition_names(monitoringdb)
    finally:
        holder.close()
        with monitoringdb.begin() as connection:
            connection.execute(text(f"DROP TABLE IF EXISTS {partitions.name_of(day)}"))


def test_retention_drops_a_whole_old_partition_and_hourly_totals_stay(
    start, monitoringdb
):
    config, device = start()
    now = datetime.now(UTC)
    old_day, kept_day = now.date() - timedelta(days=10), now.date() - timedelta(days=2)
    old = [
        reading(device["id"], f"{old_day}T09:15:00Z", 0.5),
        reading(device["id"], f"{old_day}T09:45:00Z", 0.25) | {"export_kwh": 0.125},
        reading(device["id"], f"{old_day}T23:30:00Z", 0.125),
    ]
    kept = [reading(device["id"], f"{kept_day}T06:15:00Z", 0.0625)]
    send(config, *old, *kept)
    wait_for(lambda: total_of(monitoringdb, device["id"]) == 0.9375)
    before = totals(monitoringdb, device["id"])

    created, dropped = maintain(monitoringdb, now, timedelta(days=5))
    assert partitions.name_of(old_day) in dropped
    assert partitions.name_of(kept_day) not in dropped
    names = partition_names(monitoringdb)
    assert partitions.name_of(old_day) not in names
    assert {p.name for p in partitions.ahead(now)} <= set(names)
    assert [
        row.reading_id for row in rows(monitoringdb, "SELECT reading_id FROM readings")
    ] == [kept[0]["reading_id"]]
    assert totals(monitoringdb, device["id"]) == before
    # A second run has nothing left to do.
    assert maintain(monitoringdb, now, timedelta(days=5)) == ([], [])


def test_a_reading_older_than_the_raw_window_is_dead_lettered_with_why(
    start, monitoringdb
):
    config, device = start(retention_days=5)
    now = datetime.now(UTC)
    too_old = reading(device["id"], (now - timedelta(days=4, hours=2)).isoformat(), 1)
    fine = reading(device["id"], (now - timedelta(days=3)).isoformat(), 0.5)
    send(config, too_old, fine)
    wait_for(lambda: total_of(monitoringdb, device["id"]) == 0.5)
    [reason] = wait_for(lambda: dead_reasons(monitoringdb))
    assert (
        "timestamp is older than the raw readings' retention (5 days, less a "
        "day's margin)"
    ) in reason
    assert [
        row.reading_id for row in rows(monitoringdb, "SELECT reading_id FROM readings")
    ] == [fine["reading_id"]]


def test_the_migration_keeps_the_rows_and_puts_each_in_its_day(resources, monitoringdb):
    url = resources.databases["monitoringdb"]
    before = "4e8d1f6b2c70"  # readings as one table, keyed by reading_id alone
    kept = [
        ("r-1", datetime(2026, 11, 30, 23, 59, tzinfo=UTC)),
        ("r-2", datetime(2026, 12, 1, 0, 0, tzinfo=UTC)),
        ("r-3", datetime(2026, 12, 1, 0, 15, tzinfo=UTC)),
    ]
    command.downgrade(alembic_config("monitoringdb", url), before)
    try:
        with monitoringdb.begin() as connection:
            for reading_id, stamp in kept:
                connection.execute(
                    text(
                        "INSERT INTO readings (reading_id, device_id, timestamp, "
                        "hour, kwh, received_at, power_w) VALUES (:r, 'd-1', :t, "
                        "date_trunc('hour', :t - interval '1 microsecond'), 0.25, "
                        "now(), 12.5)"
                    ),
                    {"r": reading_id, "t": stamp},
                )
    finally:
        command.upgrade(alembic_config("monitoringdb", url), "head")
    placed = rows(
        monitoringdb,
        "SELECT reading_id, tableoid::regclass::text AS partition, kwh, power_w "
        "FROM readings ORDER BY reading_id",
    )
    assert [(r.reading_id, r.partition, r.kwh, r.power_w) for r in placed] == [
        ("r-1", "readings_p20261130", 0.25, 12.5),
        ("r-2", "readings_p20261130", 0.25, 12.5),
        ("r-3", "readings_p20261201", 0.25, 12.5),
    ]
    key = rows(
        monitoringdb,
        "SELECT pg_get_constraintdef(oid) AS definition FROM pg_constraint "
        "WHERE conname = 'readings_pkey' AND conrelid = 'readings'::regclass",
    )
    assert [row.definition for row in key] == ["PRIMARY KEY (reading_id, hour)"]
    names = partition_names(monitoringdb)
    assert {p.name for p in partitions.ahead(datetime.now(UTC))} <= set(names)


def test_monitoring_s_timer_keeps_the_coming_days_ready(start, monitoringdb):
    coming = partitions.ahead(datetime.now(UTC))[-1].name
    with monitoringdb.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {coming}"))
    assert coming not in partition_names(monitoringdb)
    start()  # its first run is at start
    wait_for(lambda: coming in partition_names(monitoringdb))
