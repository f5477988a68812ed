"""Day and month rollups through monitoring's ingest and its copy of the sites, on
the real broker and DB, with ``devices`` stood in for (``describe_device``,
``describe_site``): every figure is the exact sum of the hourly totals it covers,
across DST days and under a time-of-use tariff; redelivered readings count once; a
site's change rebuilds its rollups; a batch waits for a rebuild in progress."""

import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from alembic import command
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import text
from sqlalchemy.orm import Session

from ems.database import alembic_config
from harness.monitoring import FakeDevices, start_monitoring
from harness.monitoring import publish as send
from services.common.errors import NotFound
from services.common.topology import SYNC, ingest_queue
from services.monitoring import energy, rollups
from services.monitoring.devices import put_site
from services.monitoring.storage import MonitoringStore
from services.monitoring.tariffs import SiteTerms

pytestmark = pytest.mark.usefixtures("clean_databases")

OWNER = {"user_id": "6f1c9d2e-0000-4000-8000-0000000000aa", "role": "USER"}
OTHER = {"user_id": "6f1c9d2e-0000-4000-8000-0000000000bb", "role": "USER"}
QUEUE = ingest_queue(1)
TOU = {
    "currency": "EUR",
    "import_per_kwh": 0.3,
    "export_per_kwh": 0.08,
    "periods": [
        {
            "start_hour": 17,
            "end_hour": 21,
            "import_per_kwh": 0.45,
            "export_per_kwh": 0.1,
        }
    ],
}


def site(zone: str, updated: str = "2026-12-01T00:00:00+00:00", **changes) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "name": "Home",
        "timezone": zone,
        "tariff": TOU,
        "co2_kg_per_kwh": 0.38,
        "members": [{"user_id": OWNER["user_id"], "role": "owner"}],
        "created_at": updated,
        "updated_at": updated,
    } | changes


def device_in(site_: dict) -> str:
    device_id = str(uuid.uuid4())
    FakeDevices.sites[site_["id"]] = site_
    FakeDevices.devices[device_id] = {
        "id": device_id,
        "user_id": OWNER["user_id"],
        "name": "Meter",
        "kind": "meter",
        "max_hourly_kwh": 100.0,
        "reading_interval_s": 60,
        "updated_at": "2026-12-01T00:00:00+00:00",
        "site_id": site_["id"],
        "room_id": None,
    }
    return device_id


@pytest.fixture
def platform(container_factory, service_config):
    return start_monitoring(
        container_factory,
        service_config,
        QUEUE,
        # The DST days of 2026 are older than the default back-fill window.
        BACKFILL_DAYS=400,
        READINGS_RETENTION_DAYS=400,
    )


@pytest.fixture
def monitoring(platform):
    proxy = ServiceRpcProxy("monitoring", platform)
    yield proxy.start()
    proxy.stop()


def publish(config, routing_key, body, exchange=None, times=1):
    send(config, QUEUE, routing_key, [body] * times, exchange)


def readings(device_id: str, first: datetime, hours: int) -> list[dict]:
    """Two readings an hour, of amounts that change from hour to hour."""
    bodies = []
    for i in range(hours):
        for minute, share in ((20, 1), (60, 2)):
            bodies.append(
                {
                    "reading_id": uuid.uuid4().hex,
                    "device_id": device_id,
                    "timestamp": (first + timedelta(hours=i, minutes=minute))
                    .isoformat()
                    .replace("+00:00", "Z"),
                    "kwh": round(0.123457 * share + (i % 7) * 0.010101, 6),
                    "export_kwh": round(0.05 * ((i + share) % 3), 6),
                }
            )
    return bodies


def hourly(engines, device_id) -> dict[datetime, tuple[Decimal, Decimal]]:
    with engines["monitoringdb"].connect() as connection:
        rows = connection.execute(
            text(
                "SELECT hour, kwh, export_kwh FROM hourly_totals WHERE device_id = :d"
            ),
            {"d": device_id},
        )
        return {row.hour: (row.kwh, row.export_kwh) for row in rows}


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def expected(hours, terms: SiteTerms, resolution: str) -> dict:
    """The figures of each bucket, summed here from the exact hourly totals."""
    buckets: dict = {}
    for hour, (kwh, export) in hours.items():
        day = rollups.local_day(hour, terms)
        key = {"hour": hour, "day": day, "month": rollups.month_of(day)}[resolution]
        start = energy.bucket_start(resolution, key, terms.zone)
        figures = rollups.of_hour(hour, rollups.Energy(kwh, export), terms)
        buckets[start] = buckets.get(start, rollups.Amounts()) + figures
    return buckets


def answered(answer) -> dict:
    return {
        row["start"]: rollups.Amounts(
            Decimal(row["import_kwh"]),
            Decimal(row["export_kwh"]),
            Decimal(row["cost"]),
            Decimal(row["co2_kg"]),
        )
        for row in answer["series"]
        if Decimal(row["import_kwh"]) or Decimal(row["export_kwh"])
    }


def check(monitoring, engines, scope, scope_id, hours, terms, start, end):
    for resolution in ("hour", "month", "day"):
        answer = monitoring.energy(
            OWNER,
            {
                "scope": scope,
                "id": scope_id,
                "resolution": resolution,
                "from": start,
                "to": end,
            },
        )
        starts = {row["start"] for row in answer["series"]}
        want = {
            k: v for k, v in expected(hours, terms, resolution).items() if k in starts
        }
        assert answered(answer) == want
        assert answer["timezone"] == terms.timezone
        assert answer["from"] == answer["series"][0]["start"]
        assert answer["currency"] == "EUR"
    day_answer = answer
    assert Decimal(answer["totals"]["cost"]) == sum(
        (figures.cost for figures in want.values()), Decimal(0)
    )
    return day_answer


@pytest.mark.parametrize(
    ("zone", "first", "days"),
    [
        ("Europe/Berlin", "2026-03-27T22:00:00+00:00", ("2026-03-28", "2026-04-01")),
        ("Europe/Berlin", "2026-10-23T22:00:00+00:00", ("2026-10-24", "2026-10-27")),
        ("America/New_York", "2026-10-31T04:00:00+00:00", ("2026-10-31", "2026-11-03")),
    ],
)
def test_every_figure_is_the_exact_sum_of_its_hours_and_counts_once(
    platform, monitoring, engines, zone, first, days
):
    home = site(zone)
    device_id = device_in(home)
    start = datetime.fromisoformat(first)
    span = (date.fromisoformat(days[1]) - date.fromisoformat(days[0])).days * 24 + 2
    bodies = readings(device_id, start, span)
    # Each reading twice, and the whole lot again: redelivered, counted once.
    for body in bodies:
        publish(platform, QUEUE.name, body, times=2)
    wait_for(lambda: len(hourly(engines, device_id)) == span)
    for body in bodies[::5]:
        publish(platform, QUEUE.name, body)
    time.sleep(1.0)
    hours = hourly(engines, device_id)
    assert sum(kwh for kwh, _ in hours.values()) == sum(
        Decimal(str(body["kwh"])) for body in bodies
    )
    terms = SiteTerms.of_site(home)
    answer = check(monitoring, engines, "site", home["id"], hours, terms, *days)
    # A 23-hour, 25-hour or ordinary day: each has the hours that start in it.
    for row in answer["series"]:
        day = date.fromisoformat(row["start"][:10])
        count = sum(1 for hour in hours if rollups.local_day(hour, terms) == day)
        assert Decimal(row["import_kwh"]) == sum(
            (
                kwh
                for hour, (kwh, _) in hours.items()
                if rollups.local_day(hour, terms) == day
            ),
            Decimal(0),
        ), count
    # The device's own answer is the site's, and another user's is missing.
    device_answer = monitoring.energy(
        OWNER,
        {
            "scope": "device",
            "id": device_id,
            "resolution": "day",
            "from": days[0],
            "to": days[1],
        },
    )
    assert device_answer["series"] == answer["series"]
    with pytest.raises(NotFound):
        monitoring.energy(OTHER, {"scope": "site", "id": home["id"]})
    with pytest.raises(NotFound):
        monitoring.energy(OTHER, {"scope": "device", "id": device_id})


def test_a_site_s_change_rebuilds_its_rollups_and_an_older_one_is_ignored(
    platform, monitoring, engines
):
    home = site("Europe/Berlin")
    device_id = device_in(home)
    bodies = readings(device_id, datetime(2026, 11, 20, 12, tzinfo=UTC), 30)
    for body in bodies:
        publish(platform, QUEUE.name, body)
    wait_for(lambda: len(hourly(engines, device_id)) == 30)
    hours = hourly(engines, device_id)
    days = ("2026-11-19", "2026-11-23")
    check(
        monitoring, engines, "site", home["id"], hours, SiteTerms.of_site(home), *days
    )

    changed = home | {
        "timezone": "Asia/Kolkata",
        "tariff": {
            "currency": "EUR",
            "import_per_kwh": 0.25,
            "export_per_kwh": 0.05,
            "periods": [],
        },
        "co2_kg_per_kwh": 0.7,
        "updated_at": "2026-12-02T00:00:00+00:00",
    }
    older = home | {"timezone": "UTC", "updated_at": "2026-11-30T00:00:00+00:00"}
    publish(platform, "site.updated", {"site": changed}, exchange=SYNC)
    publish(platform, "site.updated", {"site": older}, exchange=SYNC)
    terms = SiteTerms.of_site(changed)

    def rebuilt():
        answer = monitoring.energy(
            OWNER, {"scope": "site", "id": home["id"], "from": days[0], "to": days[1]}
        )
        return answer["timezone"] == "Asia/Kolkata" and answer

    wait_for(rebuilt)
    time.sleep(1.0)  # the older update, behind it on the same queue
    check(monitoring, engines, "site", home["id"], hours, terms, *days)


def test_a_batch_waits_for_a_rebuild_in_progress_and_counts_by_the_new_terms(
    platform, monitoring, engines
):
    home = site("Europe/Berlin")
    device_id = device_in(home)
    first = readings(device_id, datetime(2026, 11, 25, 15, tzinfo=UTC), 4)
    for body in first:
        publish(platform, QUEUE.name, body)
    wait_for(lambda: len(hourly(engines, device_id)) == 4)

    changed = home | {
        "tariff": TOU | {"import_per_kwh": 0.9},
        "co2_kg_per_kwh": 0.1,
        "updated_at": "2026-12-02T00:00:00+00:00",
    }
    # A change of the site, committed only once the batch below has arrived.
    with Session(engines["monitoringdb"]) as session:
        store = MonitoringStore(session)
        put_site(store, changed)
        later = readings(device_id, datetime(2026, 11, 25, 19, tzinfo=UTC), 3)
        sent = threading.Thread(
            target=lambda: [publish(platform, QUEUE.name, b) for b in later]
        )
        sent.start()
        sent.join()
        time.sleep(1.5)
        # The batch read the site FOR SHARE: it waits, and has counted nothing.
        assert len(hourly(engines, device_id)) == 4
        session.commit()
    wait_for(lambda: len(hourly(engines, device_id)) == 7)
    hours = hourly(engines, device_id)
    check(
        monitoring,
        engines,
        "site",
        home["id"],
        hours,
        SiteTerms.of_site(changed),
        "2026-11-24",
        "2026-11-27",
    )


def test_the_migration_rolls_up_the_hourly_totals_there_were(resources, engines):
    url = resources.databases["monitoringdb"]
    engine = engines["monitoringdb"]
    command.downgrade(alembic_config("monitoringdb", url), "6c2f0e9a7d15")
    try:
        with engine.begin() as connection:
            for hour, kwh, export in (
                ("2026-10-31T23:00:00+00:00", "1.000001", "0.5"),
                ("2026-11-01T00:00:00+00:00", "2.5", "0"),
                ("2026-11-01T13:00:00+00:00", "0.25", "0.125"),
            ):
                connection.execute(
                    text(
                        "INSERT INTO hourly_totals (device_id, hour, kwh, "
                        "export_kwh, alerted) VALUES ('d-1', :h, :k, :e, false)"
                    ),
                    {"h": hour, "k": kwh, "e": export},
                )
    finally:
        command.upgrade(alembic_config("monitoringdb", url), "head")
    with engine.connect() as connection:
        days = connection.execute(
            text(
                "SELECT day, import_kwh, export_kwh, cost, co2_kg FROM daily_totals "
                "ORDER BY day"
            )
        ).all()
        months = connection.execute(
            text("SELECT month, import_kwh, cost FROM monthly_totals ORDER BY month")
        ).all()
    # UTC days at the default tariff (0.30 import, 0.08 export) and 0.4 kg/kWh.
    assert [tuple(row) for row in days] == [
        (
            date(2026, 10, 31),
            Decimal("1.000001"),
            Decimal("0.5"),
            Decimal("0.2600003"),
            Decimal("0.4000004"),
        ),
        (
            date(2026, 11, 1),
            Decimal("2.75"),
            Decimal("0.125"),
            Decimal("0.815"),
            Decimal("1.1"),
        ),
    ]
    assert [tuple(row) for row in months] == [
        (date(2026, 10, 1), Decimal("1.000001"), Decimal("0.2600003")),
        (date(2026, 11, 1), Decimal("2.75"), Decimal("0.815")),
    ]


def test_a_room_and_a_portfolio_across_time_zones(platform, monitoring, engines):
    berlin, kolkata = site("Europe/Berlin"), site("Asia/Kolkata")
    kitchen, meter = device_in(berlin), device_in(kolkata)
    room = str(uuid.uuid4())
    FakeDevices.devices[kitchen]["room_id"] = room
    stamp = datetime(2026, 11, 28, 17, tzinfo=UTC)
    for device_id in (kitchen, meter):
        for body in readings(device_id, stamp, 10):
            publish(platform, QUEUE.name, body)
    wait_for(lambda: len(hourly(engines, kitchen)) == len(hourly(engines, meter)) == 10)
    days = {"from": "2026-11-28", "to": "2026-11-30", "resolution": "day"}
    of_room = monitoring.energy(OWNER, {"scope": "room", "id": room, **days})
    of_device = monitoring.energy(OWNER, {"scope": "device", "id": kitchen, **days})
    assert of_room["series"] == of_device["series"]
    assert of_room["timezone"] == "Europe/Berlin"
    with pytest.raises(NotFound):
        monitoring.energy(OTHER, {"scope": "room", "id": room, **days})

    # Each site's days by their own date; labelled by date across time zones.
    portfolio = monitoring.energy(OWNER, {"scope": "portfolio", **days})
    assert portfolio["timezone"] is None
    assert [row["start"] for row in portfolio["series"]] == [
        "2026-11-28",
        "2026-11-29",
    ]
    want: dict = {}
    for device_id, home in ((kitchen, berlin), (meter, kolkata)):
        terms = SiteTerms.of_site(home)
        for start, amounts in expected(
            hourly(engines, device_id), terms, "day"
        ).items():
            want[start[:10]] = want.get(start[:10], rollups.Amounts()) + amounts
    assert answered(portfolio) == want
    # Another user's portfolio has none of it.
    empty = monitoring.energy(OTHER, {"scope": "portfolio", **days})
    assert all(Decimal(row["import_kwh"]) == 0 for row in empty["series"])
