"""monitoringdb's device states: what batches of readings, presence messages and the
status check do to them, alone and at once (two transactions, as two processes)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from services.monitoring import partitions
from services.monitoring.logic import DeviceLimit, ParsedReading, hour_of
from services.monitoring.status import DeviceStatus, OfflineRule, sightings
from services.monitoring.storage import MonitoringStore

pytestmark = pytest.mark.usefixtures("clean_databases")

NOW = datetime.now(UTC).replace(microsecond=0)
OWNER = "6f1c9d2e-0000-4000-8000-0000000000aa"
A = "7a2e0000-0000-4000-8000-00000000000a"
B = "7a2e0000-0000-4000-8000-00000000000b"
RULE = OfflineRule(intervals=3, grace=timedelta(seconds=30))
#: A: a reading a minute (silent 210 s: offline); B: one every 15 minutes.
DEVICES = {
    A: DeviceLimit(OWNER, Decimal(1), reading_interval_s=60),
    B: DeviceLimit(OWNER, Decimal(1), reading_interval_s=900),
}


@pytest.fixture
def store(engines):
    """A store on its own connection, as a worker has; ``store(2)`` another."""
    sessions = []

    def make(_=None):
        session = Session(engines["monitoringdb"])
        sessions.append(session)
        return MonitoringStore(session)

    first = make()
    for device_id, device in DEVICES.items():
        first.put_device(
            device_id, OWNER, device.max_hourly_kwh, NOW, device.reading_interval_s
        )
    first.commit()
    yield make
    for session in sessions:
        session.close()


def reading(device_id, at, **telemetry):
    return ParsedReading(
        f"r-{device_id}-{at.isoformat()}",
        device_id,
        at,
        hour_of(at),
        Decimal("0.1"),
        **telemetry,
    )


def see(store, now, *readings):
    online = store.see_devices(sightings(readings, DEVICES, now, RULE), now)
    store.commit()
    return online


def statuses(store) -> dict[str, DeviceStatus]:
    found = {s.device_id: s for s in store.device_statuses(OWNER)}
    store.commit()
    return found


def ago(seconds):
    return NOW - timedelta(seconds=seconds)


def test_a_device_never_heard_from_is_offline(store):
    assert statuses(store()) == {
        A: DeviceStatus(A, OWNER, 60),
        B: DeviceStatus(B, OWNER, 900),
    }


def test_a_fresh_reading_brings_a_device_online_once(store):
    db = store()
    [came] = see(db, NOW, reading(A, ago(5), power_w=-800.0, soc_kwh=3.5))
    assert came == DeviceStatus(
        A, OWNER, 60, True, NOW, ago(5), -800.0, ago(5), 3.5, ago(5)
    )
    assert see(db, NOW + timedelta(seconds=1), reading(A, ago(1))) == []
    assert statuses(db)[A].online and statuses(db)[A].since == NOW


def test_stale_readings_do_not_bring_a_device_online(store):
    db = store()
    assert see(db, NOW, reading(B, ago(3000)), reading(A, ago(211))) == []
    found = statuses(db)
    assert (found[A].online, found[A].since, found[A].last_seen) == (
        False,
        None,
        ago(211),
    )
    assert found[B].last_seen == ago(3000)


def test_last_seen_moves_forward_and_telemetry_is_replaced_only_by_newer(store):
    db = store()
    see(db, NOW, reading(A, ago(10), power_w=100.0, soc_kwh=5.0))
    # A batch counted later, of older readings (another worker's, or late).
    see(db, NOW, reading(A, ago(60), power_w=999.0), reading(A, ago(40), soc_kwh=9.0))
    see(db, NOW, reading(A, ago(2), power_w=200.0))
    found = statuses(db)[A]
    assert found.last_seen == ago(2)
    assert (found.power_w, found.power_at) == (200.0, ago(2))
    assert (found.soc_kwh, found.soc_at) == (5.0, ago(10))


def test_a_silent_device_goes_offline_and_comes_back_with_a_newer_reading(store):
    db = store()
    see(db, ago(300), reading(A, ago(300)), reading(B, ago(300)))
    # A has been silent 300 s > 210 s; B, 300 s < 2730 s.
    [offline] = db.mark_silent_offline(NOW, RULE, 100)
    db.commit()
    assert (offline.device_id, offline.online, offline.since) == (A, False, NOW)
    assert (offline.user_id, offline.last_seen) == (OWNER, ago(300))
    assert db.mark_silent_offline(NOW, RULE, 100) == []
    # A reading sent before it went offline, counted after: still offline.
    later = NOW + timedelta(seconds=1)
    assert see(db, later, reading(A, ago(1))) == []
    assert not statuses(db)[A].online
    [back] = see(db, later, reading(A, NOW + timedelta(milliseconds=500)))
    assert (back.device_id, back.online, back.since) == (A, True, later)
    assert statuses(db)[B].online


def test_a_check_marks_at_most_its_limit_and_the_next_goes_on(store):
    db = store()
    see(db, ago(3000), reading(A, ago(3000)), reading(B, ago(3000)))
    assert [s.device_id for s in db.mark_silent_offline(NOW, RULE, 1)] == [A]
    assert [s.device_id for s in db.mark_silent_offline(NOW, RULE, 1)] == [B]
    db.commit()


def test_presence_sets_online_and_offline_at_once(store):
    db = store()
    row = db.set_presence(A, True, NOW)
    assert (row.online, row.since, row.last_seen) == (True, NOW, NOW)
    assert db.set_presence(A, True, NOW + timedelta(seconds=1)) is None
    gone = db.set_presence(A, False, NOW + timedelta(seconds=2))
    assert (gone.online, gone.since) == (False, NOW + timedelta(seconds=2))
    assert db.set_presence(A, False, NOW + timedelta(seconds=3)) is None
    # A will of a device never heard from changes nothing.
    assert db.set_presence(B, False, NOW) is None
    db.commit()
    assert statuses(db)[A].last_seen == NOW + timedelta(seconds=1)
    assert statuses(db)[B] == DeviceStatus(B, OWNER, 900)


def test_two_checks_at_once_announce_a_device_once(store):
    first, second = store(), store()
    see(first, ago(300), reading(A, ago(300)))
    marked = first.mark_silent_offline(NOW, RULE, 100)
    # The second check runs while the first holds the row: it skips it.
    assert second.mark_silent_offline(NOW, RULE, 100) == []
    first.commit()
    second.commit()
    assert [s.device_id for s in marked] == [A]
    assert second.mark_silent_offline(NOW, RULE, 100) == []
    second.commit()


def test_a_check_never_takes_offline_a_device_a_batch_is_bringing_back(store):
    worker, check = store(), store()
    see(worker, ago(300), reading(A, ago(300)))
    # The batch has updated A, not committed yet; the check skips A.
    worker.see_devices(sightings([reading(A, ago(1))], DEVICES, NOW, RULE), NOW)
    assert check.mark_silent_offline(NOW, RULE, 100) == []
    worker.commit()
    check.commit()
    assert check.mark_silent_offline(NOW, RULE, 100) == []
    check.commit()
    assert statuses(check)[A].online


def test_status_notifications_say_what_changed_and_when_it_was_heard_from(store):
    db = store()
    [came] = see(db, NOW, reading(A, ago(5)))
    db.add_status_notifications([came])
    db.commit()
    [notification] = db.notifications(OWNER, 10)
    assert (notification.reason, notification.device_id, notification.last_seen) == (
        "online",
        A,
        ago(5),
    )
    assert (notification.hour, notification.kwh, notification.limit_kwh) == (
        None,
        None,
        None,
    )
    db.commit()


def test_a_deleted_device_loses_its_status(store):
    db = store()
    see(db, NOW, reading(A, ago(5)))
    db.forget_device(A, OWNER, NOW)
    db.commit()
    assert set(statuses(db)) == {B}
    assert db.device_statuses(device_id=A) == []
    db.commit()


def test_the_power_floor_is_the_lowest_power_of_a_window(store):
    first = store()
    stamps = [ago(seconds) for seconds in (900, 500, 300, 60)]
    first.create_partitions(partitions.needed(hour_of(at) for at in stamps))
    first.insert_readings(
        [
            reading(A, stamps[0], power_w=100.0),
            reading(A, stamps[1], power_w=2600.0),
            reading(A, stamps[2], power_w=3100.0),
            reading(A, stamps[3], power_w=2800.0),
            reading(B, stamps[3]),
        ]
    )
    first.commit()
    floor = first.power_floor([A, B], ago(600))
    # The reading of 15 minutes ago is outside; B reported no power.
    assert floor == {A: (2600.0, stamps[1], 3)}
    assert first.power_floor([A], ago(30)) == {}
