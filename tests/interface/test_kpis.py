"""A site's and a portfolio's dashboard figures and a site's monthly report,
through monitoring's ingest on the real broker and database, with ``devices`` and
``batteries`` stood in for: today's and this month's figures are those of
``/api/energy``, the peak hour and self-use are worked out from the hours, the
fleet comes from the batteries service (and is null while it fails), and the
report's PDF carries the month's figures."""

import base64
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy
from pypdf import PdfReader

from harness.monitoring import FakeDevices, start_monitoring
from harness.monitoring import publish as send
from services.common.topology import SYNC, ingest_queue
from services.monitoring.exceptions import NoSuchSite

pytestmark = pytest.mark.usefixtures("clean_databases")

OWNER = {"user_id": "7a1c9d2e-0000-4000-8000-0000000000aa", "role": "USER"}
STRANGER = {"user_id": "7a1c9d2e-0000-4000-8000-0000000000bb", "role": "USER"}
VIEWER = {"user_id": "7a1c9d2e-0000-4000-8000-0000000000cc", "role": "VIEWER"}
QUEUE = ingest_queue(1)


class FakeBatteries:
    name = "batteries"
    failing = False

    @rpc
    def fleet_of(self, device_ids):
        if FakeBatteries.failing:
            raise RuntimeError("batteries broke")
        return [
            {
                "device_id": device_id,
                "battery_id": device_id,
                "user_id": OWNER["user_id"],
                "capacity_kwh": 10.0,
                "soc_kwh": 6.0,
                "max_discharge_kw": 4.0,
                "available_kwh": 4.5,
                "control": "auto",
            }
            for device_id in device_ids
        ]


def new_site(zone="Europe/Berlin") -> dict:
    site = {
        "id": str(uuid.uuid4()),
        "name": "Riverside",
        "address": "1 Quay",
        "latitude": None,
        "longitude": None,
        "timezone": zone,
        "tariff": {
            "currency": "EUR",
            "import_per_kwh": 0.3,
            "export_per_kwh": 0.1,
            "periods": [],
        },
        "co2_kg_per_kwh": 0.5,
        "members": [{"user_id": OWNER["user_id"], "role": "owner"}],
        "created_at": "2026-01-01T00:00:00+00:00",
        "updated_at": "2026-01-01T00:00:00+00:00",
    }
    FakeDevices.sites[site["id"]] = site
    return site


def new_device(site: dict, kind: str, name: str) -> str:
    device_id = str(uuid.uuid4())
    FakeDevices.devices[device_id] = {
        "id": device_id,
        "user_id": OWNER["user_id"],
        "name": name,
        "kind": kind,
        "max_hourly_kwh": 2.0,
        "reading_interval_s": 60,
        "updated_at": "2026-01-01T00:00:00+00:00",
        "site_id": site["id"],
        "room_id": None,
    }
    return device_id


@pytest.fixture
def platform(container_factory, service_config):
    FakeBatteries.failing = False
    return start_monitoring(
        container_factory, service_config, QUEUE, FakeBatteries, BACKFILL_DAYS=70
    )


@pytest.fixture
def monitoring(platform):
    proxy = ServiceRpcProxy("monitoring", platform)
    yield proxy.start()
    proxy.stop()


def publish(config, bodies, routing_key=QUEUE.name, exchange=None):
    send(config, QUEUE, routing_key, bodies, exchange)


def announce(config, site: dict) -> None:
    """The site and its devices as the devices service announces them."""
    publish(config, [{"site": site}], "site.created", SYNC)
    publish(
        config,
        [
            {"device": device}
            for device in FakeDevices.devices.values()
            if device["site_id"] == site["id"]
        ],
        "device.created",
        SYNC,
    )


def reading(device_id, at: datetime, kwh=0.0, export_kwh=0.0, power_w=None):
    body = {
        "reading_id": uuid.uuid4().hex,
        "device_id": device_id,
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "kwh": kwh,
        "export_kwh": export_kwh,
    }
    if power_w is not None:
        body["power_w"] = power_w
    return body


def eventually(probe, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return probe()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_a_site_s_figures_today_and_this_month(platform, monitoring):
    site = new_site()
    meter = new_device(site, "meter", "House")
    pv = new_device(site, "pv", "Roof")
    new_device(site, "battery", "Storage")
    announce(platform, site)
    now = datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    # The current hour: the house draws 2 kWh, the roof gives 3 kWh. The hour
    # before (also today in most places of the world, and always this month's
    # unless the month just began): the house draws 1 kWh.
    earlier = hour - timedelta(hours=1)
    # Recent enough for the devices to be online.
    at = max(now - timedelta(seconds=1), hour)
    publish(
        platform,
        [
            reading(meter, at, kwh=2.0, power_w=800.0),
            reading(pv, at, export_kwh=3.0, power_w=-2000.0),
            reading(meter, earlier + timedelta(seconds=1), kwh=1.0),
        ],
    )

    def figures():
        answer = monitoring.kpis(OWNER, {"scope": "site", "id": site["id"]})
        assert Decimal(answer["month"]["export_kwh"]) == Decimal(3)
        assert answer["devices"]["total"] == 3
        return answer

    answer = eventually(figures)
    zone_today = answer["today"]
    assert Decimal(zone_today["export_kwh"]) == Decimal(3)
    assert Decimal(zone_today["import_kwh"]) in (Decimal(2), Decimal(3))
    assert answer["peak_hour"]["import_kwh"] == 2.0
    # 2 of the roof's 3 kWh were used by the house in the same hour.
    assert answer["self_consumption"] == pytest.approx(2 / 3, abs=1e-4)
    assert answer["generation_kwh"] == 3.0
    assert answer["power_w"] == pytest.approx(-1200.0)
    assert answer["devices"] == {"total": 3, "online": 2, "offline": 1}
    assert answer["batteries"] == {
        "count": 1,
        "capacity_kwh": 10.0,
        "soc_kwh": 6.0,
        "average_soc_percent": 60.0,
    }
    # The battery's 4 kW for an hour; nothing switchable draws.
    assert answer["flexibility_kw"] == 4.0
    assert answer["currency"] == "EUR" and answer["timezone"] == "Europe/Berlin"
    assert answer["sites"] == []
    # The same figures as /api/energy's.
    energy = monitoring.energy(
        OWNER, {"scope": "site", "id": site["id"], "resolution": "month"}
    )
    this_month = [row for row in energy["series"] if Decimal(row["export_kwh"])]
    assert [row["cost"] for row in this_month] == [answer["month"]["cost"]]


def test_the_portfolio_lists_each_site_and_the_fleet_may_be_unknown(
    platform, monitoring
):
    first, second = new_site(), new_site("America/New_York")
    meters = [new_device(first, "meter", "A"), new_device(second, "meter", "B")]
    new_device(second, "battery", "Storage")
    announce(platform, first)
    announce(platform, second)
    now = datetime.now(UTC)
    publish(platform, [reading(meters[1], now, kwh=1.5, power_w=300.0)])
    FakeBatteries.failing = True

    def portfolio():
        answer = monitoring.kpis(OWNER, {"scope": "portfolio"})
        assert len(answer["sites"]) == 2
        by_id = {one["id"]: one for one in answer["sites"]}
        assert Decimal(by_id[second["id"]]["today_import_kwh"]) == Decimal("1.5")
        # The reading brings its meter online in a step of its own.
        assert by_id[second["id"]]["devices_online"] == 1
        return answer

    answer = eventually(portfolio)
    by_id = {one["id"]: one for one in answer["sites"]}
    assert Decimal(by_id[first["id"]]["today_import_kwh"]) == 0
    assert by_id[second["id"]]["timezone"] == "America/New_York"
    assert by_id[second["id"]]["devices_offline"] == 1
    assert answer["timezone"] is None  # two time zones
    assert answer["batteries"] is None
    # A stranger's portfolio is empty; a VIEWER's holds every site.
    assert monitoring.kpis(STRANGER, {"scope": "portfolio"})["sites"] == []
    assert len(monitoring.kpis(VIEWER, {"scope": "portfolio"})["sites"]) >= 2


def test_a_site_out_of_reach_is_missing(platform, monitoring):
    site = new_site()
    new_device(site, "meter", "House")
    announce(platform, site)
    eventually(lambda: monitoring.kpis(OWNER, {"scope": "site", "id": site["id"]}))
    with pytest.raises(NoSuchSite):
        monitoring.kpis(STRANGER, {"scope": "site", "id": site["id"]})
    with pytest.raises(NoSuchSite):
        monitoring.site_report(STRANGER, site["id"])


def test_the_monthly_report_carries_the_month_s_figures(platform, monitoring):
    site = new_site()
    meter = new_device(site, "meter", "House")
    announce(platform, site)
    # Last month, in Berlin: 1.25 kWh on its 10th at noon.
    today = datetime.now(UTC).date()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=10)
    at = datetime(last_month.year, last_month.month, 10, 11, 30, tzinfo=UTC)
    publish(platform, [reading(meter, at, kwh=1.25)])
    month = f"{last_month:%Y-%m}"

    def report():
        answer = monitoring.site_report(OWNER, site["id"], {"month": month})
        text = " ".join(
            " ".join(
                page.extract_text()
                for page in PdfReader(BytesIO(base64.b64decode(answer["pdf"]))).pages
            ).split()
        )
        assert "1.250 kWh" in text
        return answer, text

    answer, text = eventually(report)
    assert answer["filename"] == f"report-{month}-{site['id'][:8]}.pdf"
    assert f"Riverside: energy report for {month}" in text
    # 1.25 kWh at 0.30 EUR.
    assert "0.38 EUR" in text
    # The peak hour, in Berlin's time.
    assert f"10 {last_month:%b} 1" in text
