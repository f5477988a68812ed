"""A site's energy through Traefik, against every real process: its local days
across the last DST change of a European and an American time zone (a 23- or
25-hour day, each figure the exact sum of its hours, rebuilt when the site's time
zone changes), its figures now and its monthly report, read by a member of the
site and by no stranger."""

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from harness.readings import publish_readings

pytestmark = pytest.mark.integration


def eventually(check, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def last_dst_day(zone: ZoneInfo, today: date) -> date:
    """The latest day before ``today`` that is not 24 hours long in ``zone``."""
    for back in range(1, 400):
        day = today - timedelta(days=back)
        start = datetime.combine(day, clock(), zone)
        end = datetime.combine(day + timedelta(days=1), clock(), zone)
        if end.astimezone(UTC) - start.astimezone(UTC) != timedelta(hours=24):
            return day
    raise AssertionError(f"{zone.key} changes no clocks")


def reading(device_id, at: datetime, kwh: str) -> dict:
    return {
        "reading_id": uuid.uuid4().hex,
        "device_id": device_id,
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "kwh": float(kwh),
    }


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
def test_a_dst_day_has_its_own_hours_and_adds_up(stack, new_user, zone):
    _, ann = new_user("Ann")
    device = ann.post("/api/devices", {"name": "Meter", "kind": "meter"}).json()
    tz = ZoneInfo(zone)
    day = last_dst_day(tz, datetime.now(UTC).date())
    start = datetime.combine(day, clock(), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), clock(), tz).astimezone(UTC)
    hours = int((end - start) / timedelta(hours=1))
    assert hours in (23, 25)
    # One reading in each UTC hour from the hour before the day to the hour after
    # it, each of its own size.
    amounts = {}
    for index in range(-1, hours + 1):
        hour = start + timedelta(hours=index)
        amounts[hour] = Decimal("0.1") + Decimal(index + 1) / 1000
    publish_readings(
        stack,
        *(
            reading(device["id"], hour + timedelta(minutes=30), str(kwh))
            for hour, kwh in amounts.items()
        ),
    )

    def counted():
        answer = ann.get(
            "/api/energy",
            params={
                "scope": "device",
                "id": device["id"],
                "resolution": "hour",
                "from": (start - timedelta(hours=1)).isoformat(),
                "to": (end + timedelta(hours=1)).isoformat(),
            },
        ).json()
        assert Decimal(answer["totals"]["import_kwh"]) == sum(amounts.values())
        return answer

    eventually(counted)
    # The site moves to the zone after the readings were counted: its days are
    # rebuilt from the hourly totals.
    site_id = device["site_id"]
    moved = ann.patch(f"/api/sites/{site_id}", {"timezone": zone})
    assert moved.status_code == 200, moved.text
    in_the_day = sum(
        (kwh for hour, kwh in amounts.items() if start <= hour < end), Decimal(0)
    )

    def by_day():
        answer = ann.get(
            "/api/energy",
            params={
                "scope": "site",
                "id": site_id,
                "resolution": "day",
                "from": day.isoformat(),
                "to": (day + timedelta(days=1)).isoformat(),
            },
        ).json()
        assert answer["timezone"] == zone
        [bucket] = answer["series"]
        assert Decimal(bucket["import_kwh"]) == in_the_day
        return bucket

    bucket = eventually(by_day)
    assert bucket["start"] == datetime.combine(day, clock(), tz).isoformat()
    hourly = ann.get(
        "/api/energy",
        params={
            "scope": "site",
            "id": site_id,
            "resolution": "hour",
            "from": day.isoformat(),
            "to": (day + timedelta(days=1)).isoformat(),
        },
    ).json()
    assert len(hourly["series"]) == hours
    assert sum(Decimal(h["import_kwh"]) for h in hourly["series"]) == in_the_day
    # Cost: the default flat tariff, 0.30 a kWh.
    assert Decimal(bucket["cost"]) == in_the_day * Decimal("0.30")


def test_a_site_s_members_read_its_devices_figures_and_report(stack, new_user):
    _, ann = new_user("Ann")
    bob_user, bob = new_user("Bob")
    _, cy = new_user("Cy")
    device = ann.post("/api/devices", {"name": "Heat pump", "kind": "heat_pump"}).json()
    site_id = device["site_id"]
    added = ann.post(
        f"/api/sites/{site_id}/members", {"email": bob_user["email"], "role": "viewer"}
    )
    assert added.status_code == 201, added.text
    now = datetime.now(UTC)
    publish_readings(stack, reading(device["id"], now - timedelta(seconds=5), "0.75"))

    def figures():
        answer = bob.get("/api/kpis", params={"scope": "site", "id": site_id})
        assert answer.status_code == 200, answer.text
        assert Decimal(answer.json()["month"]["import_kwh"]) == Decimal("0.75")
        return answer.json()

    kpis = eventually(figures)
    assert kpis["devices"] == {"total": 1, "online": 1, "offline": 0}
    # The member reads the device as its owner does.
    day = bob.get(
        "/api/consumption/day",
        params={"device_id": device["id"], "date": now.date().isoformat()},
    )
    assert day.status_code == 200, day.text
    assert bob.get(f"/api/devices/{device['id']}/status").status_code == 200
    statuses = bob.get("/api/devices/status").json()
    assert device["id"] in [status["device_id"] for status in statuses]
    month = f"{now:%Y-%m}"
    report = bob.get(f"/api/sites/{site_id}/report.pdf", params={"month": month})
    assert report.status_code == 200, report.text
    assert report.headers["Content-Type"] == "application/pdf"
    assert f"report-{month}" in report.headers["Content-Disposition"]
    text = " ".join(
        " ".join(
            p.extract_text() for p in PdfReader(BytesIO(report.content)).pages
        ).split()
    )
    assert "0.750 kWh" in text
    # A stranger finds none of it.
    for response in (
        cy.get("/api/kpis", params={"scope": "site", "id": site_id}),
        cy.get(f"/api/sites/{site_id}/report.pdf"),
        cy.get(f"/api/devices/{device['id']}/status"),
        cy.get(
            "/api/consumption/day",
            params={"device_id": device["id"], "date": now.date().isoformat()},
        ),
    ):
        assert response.status_code == 404, response.text
    assert device["id"] not in [
        s["device_id"] for s in cy.get("/api/devices/status").json()
    ]
    bad = bob.get(f"/api/sites/{site_id}/report.pdf", params={"month": "2026-13"})
    assert bad.status_code == 400 and "month" in bad.json()["details"]
