"""Energy over a range through the real stack: readings in, then ``/api/energy``'s
days and months are the exact sums of the hourly totals (a device without a site
is counted in UTC at the default tariff), the CSV exports download whole, page
after page, and another user's device is missing."""

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from harness.polling import eventually
from harness.readings import _query, publish_readings, recent_day
from services.monitoring import rollups
from services.monitoring.logic import Energy
from services.monitoring.tariffs import DEFAULT

pytestmark = pytest.mark.integration


def hourly(stack, device_id) -> dict:
    rows = _query(
        stack,
        "SELECT hour, kwh, export_kwh FROM hourly_totals WHERE device_id = :d",
        d=device_id,
    )
    return {row.hour: Energy(row.kwh, row.export_kwh) for row in rows}


def sums(hours: dict, key) -> dict:
    """The figures of each bucket, summed here from the hourly totals."""
    buckets: dict = {}
    for hour, energy in hours.items():
        bucket = key(hour)
        figures = rollups.of_hour(hour, energy, DEFAULT)
        buckets[bucket] = buckets.get(bucket, rollups.Amounts()) + figures
    return buckets


def figures(row) -> rollups.Amounts:
    return rollups.Amounts(
        *(Decimal(row[k]) for k in ("import_kwh", "export_kwh", "cost", "co2_kg"))
    )


@pytest.fixture
def metered(stack, device):
    """A device with 2 days of readings, 3 an hour, counted."""
    meter, user, client = device
    first = datetime.fromisoformat(f"{recent_day(-1)}T00:00:00+00:00")
    bodies = [
        {
            "reading_id": uuid.uuid4().hex,
            "device_id": meter["id"],
            "timestamp": (first + timedelta(minutes=20 * (i + 1)))
            .isoformat()
            .replace("+00:00", "Z"),
            "kwh": round(0.011 + (i % 13) * 0.003141, 6),
            "export_kwh": round((i % 5) * 0.0125, 6),
        }
        for i in range(48 * 3)
    ]
    publish_readings(stack, *bodies)
    eventually(
        lambda: (
            sum(e.kwh for e in hourly(stack, meter["id"]).values())
            == sum(Decimal(str(b["kwh"])) for b in bodies)
        ),
        timeout=60,
    )
    return meter, client, bodies


def test_days_and_months_are_the_exact_sums_of_the_hours(stack, metered):
    meter, client, _ = metered
    hours = hourly(stack, meter["id"])
    days = (recent_day(-1), recent_day(1))
    answer = client.get(
        f"/api/energy?scope=device&id={meter['id']}&resolution=day"
        f"&from={days[0]}&to={days[1]}"
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["timezone"], body["currency"]) == ("UTC", "EUR")
    want = sums(hours, lambda hour: hour.date())
    got = {
        date.fromisoformat(row["start"][:10]): figures(row) for row in body["series"]
    }
    assert got == {day: want.get(day, rollups.Amounts()) for day in got}
    assert body["series"][0]["start"] == f"{days[0]}T00:00:00+00:00"
    assert (body["from"], body["to"]) == (
        f"{days[0]}T00:00:00+00:00",
        f"{days[1]}T00:00:00+00:00",
    )
    assert figures(body["totals"]) == rollups.Amounts() + sum(
        want.values(), rollups.Amounts()
    )

    months = client.get(
        f"/api/energy?scope=device&id={meter['id']}&resolution=month"
        f"&from={days[0]}&to={days[1]}"
    ).json()
    want = sums(hours, lambda hour: hour.date().replace(day=1))
    assert {
        date.fromisoformat(row["start"][:10]): figures(row)
        for row in months["series"]
        if Decimal(row["import_kwh"])
    } == want

    # The caller's portfolio is their own device's figures.
    portfolio = client.get(
        f"/api/energy?resolution=day&from={days[0]}&to={days[1]}"
    ).json()
    assert portfolio["series"] == body["series"]


def test_the_csv_exports_download_whole(stack, metered):
    meter, client, bodies = metered
    hours = hourly(stack, meter["id"])
    # A year of hours: two pages of monitoring's, the second read while the
    # first is downloaded.
    start = (datetime.now(UTC) - timedelta(days=330)).date().isoformat()
    answer = client.request(
        "GET",
        f"/api/export/energy.csv?scope=device&id={meter['id']}&resolution=hour"
        f"&from={start}&to={recent_day(2)}",
        stream=True,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/csv")
    assert answer.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8"))))
    first = datetime.fromisoformat(f"{start}T00:00:00+00:00")
    last = datetime.fromisoformat(f"{recent_day(2)}T00:00:00+00:00")
    assert len(rows) == (last - first) / timedelta(hours=1) > 5000
    assert len({row["start"] for row in rows}) == len(rows)
    counted = {
        datetime.fromisoformat(row["start"].replace("Z", "+00:00")): figures(row)
        for row in rows
        if Decimal(row["import_kwh"]) or Decimal(row["export_kwh"])
    }
    assert counted == sums(hours, lambda hour: hour)

    readings = client.get(
        f"/api/export/readings.csv?device_id={meter['id']}"
        f"&from={recent_day(-1)}&to={recent_day(2)}"
    )
    assert readings.status_code == 200, readings.text
    rows = list(csv.DictReader(io.StringIO(readings.content.decode("utf-8"))))
    assert sorted(row["reading_id"] for row in rows) == sorted(
        body["reading_id"] for body in bodies
    )
    assert [row["timestamp"] for row in rows] == sorted(
        row["timestamp"] for row in rows
    )
    assert sum(Decimal(row["kwh"]) for row in rows) == sum(
        e.kwh for e in hours.values()
    )


def test_another_users_device_is_missing_and_bad_ranges_are_refused(metered, new_user):
    meter, client, _ = metered
    _, stranger = new_user("Eve")
    for path in (
        f"/api/energy?scope=device&id={meter['id']}",
        f"/api/export/energy.csv?scope=device&id={meter['id']}",
        f"/api/export/readings.csv?device_id={meter['id']}",
    ):
        answer = stranger.get(path)
        assert answer.status_code == 404, (path, answer.text)
    for query, field in (
        (f"scope=device&id={meter['id']}&resolution=week", "resolution"),
        (f"scope=device&id={meter['id']}&from=2026-03-02&to=2026-03-01", "to"),
        (
            f"scope=device&id={meter['id']}&resolution=hour&from=2020-01-01&to=2026-01-01",
            "to",
        ),
        (f"scope=device&id={meter['id']}&from=yesterday", "from"),
        ("scope=site", "id"),
    ):
        for path in ("/api/energy", "/api/export/energy.csv"):
            answer = client.get(f"{path}?{query}")
            assert answer.status_code == 400, (path, query, answer.text)
            if field:
                assert field in answer.json()["details"], answer.text


def test_a_site_monitoring_does_not_know_is_missing(metered):
    _, client, _ = metered
    for scope in ("site", "room"):
        answer = client.get(f"/api/energy?scope={scope}&id={uuid.uuid4()}")
        assert answer.status_code == 404, answer.text
