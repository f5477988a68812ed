"""The demo through the real stack, as `make up` runs it: the logins bootstrap prints
work, the demo household has its history (two days here), its PV system exported
in it, its battery is in auto mode and answers its setpoints, and the neighbour
bought the household's PV surplus."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from harness.polling import eventually

pytestmark = pytest.mark.integration

#: The simulator starts with the stack, and may list the demo household's devices
#: only at its next listing (30 s) if bootstrap created them after its first one;
#: then each device logs in and sends its history.
HISTORY_TIMEOUT = 180
LOGIN = re.compile(r"^\s+(ADMIN login|demo login|neighbour)\s+(\S+) / (\S+)", re.M)


@pytest.fixture(scope="module")
def logins(stack):
    """``{"ADMIN login" | "demo login" | "neighbour": (email, password)}`` as
    bootstrap printed them."""
    printed = {
        name: (email, password)
        for name, email, password in LOGIN.findall(stack.log("bootstrap"))
    }
    assert set(printed) == {"ADMIN login", "demo login", "neighbour"}, printed
    return printed


def test_every_printed_login_works(anonymous, logins):
    for email, password in logins.values():
        client = anonymous.login(email, password)
        assert client.get("/api/auth/me").status_code == 200


def test_the_demo_household_has_history_its_pv_exported_and_its_battery_is_auto(
    anonymous, logins
):
    home = anonymous.login(*logins["demo login"])
    devices = {d["name"]: d for d in home.get("/api/devices").json()}
    assert {d["kind"] for d in devices.values()} == {
        "meter",
        "heat_pump",
        "ev_charger",
        "appliance",
        "pv",
        "battery",
    }
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()

    def day(device):
        query = f"device_id={device['id']}&date={yesterday}"
        return home.get(f"/api/consumption/day?{query}").json()

    # Every hour of yesterday came from the history, through the ingest: each
    # load and the battery drew in every one, the PV system exported by day.
    for device in devices.values():
        if device["kind"] != "pv":
            eventually(
                lambda d=device: all(h["kwh"] > 0 for h in day(d)["hours"]),
                timeout=HISTORY_TIMEOUT,
            )
    assert day(devices["Rooftop PV"])["total_export_kwh"] > 0

    (battery,) = home.get("/api/batteries").json()
    assert battery["control"] == "auto"
    assert battery["device_id"] == devices["Home battery"]["id"]
    commands = f"/api/devices/{battery['device_id']}/commands"
    acked = eventually(
        lambda: [
            c
            for c in home.get(commands).json()
            if c["type"] == "battery_setpoint" and c["status"] == "acked"
        ],
        timeout=HISTORY_TIMEOUT,
    )
    assert acked[0]["created_by"] == "batteries"


def test_the_demo_household_s_site_has_its_place_tariff_and_rooms(anonymous, logins):
    home = anonymous.login(*logins["demo login"])
    devices = home.get("/api/devices").json()
    [site] = {d["site_id"] for d in devices}
    site = home.get(f"/api/sites/{site}").json()
    assert site["name"] == "Demo home" and site["timezone"] == "Europe/London"
    assert site["latitude"] is not None and len(site["tariff"]["periods"]) == 2
    rooms = {
        r["id"]: r["name"] for r in home.get(f"/api/sites/{site['id']}/rooms").json()
    }
    assert {rooms[d["room_id"]] for d in devices} == {
        "Utility room",
        "Garage",
        "Kitchen",
        "Roof",
    }
    figures = home.get("/api/kpis", params={"scope": "site", "id": site["id"]}).json()
    assert figures["devices"]["total"] == len(devices)
    assert figures["batteries"]["count"] == 1


def test_the_neighbour_bought_the_demo_households_surplus(anonymous, logins):
    neighbour = anonymous.login(*logins["neighbour"])
    home = anonymous.login(*logins["demo login"])
    pv = next(d for d in home.get("/api/devices").json() if d["kind"] == "pv")
    trades = neighbour.get("/api/trading/trades").json()
    assert trades
    seller = home.get("/api/auth/me").json()["id"]
    for trade in trades:
        assert trade["seller_id"] == seller and trade["device_id"] == pv["id"]
        assert trade["quantity_kwh"] > 0
    assert neighbour.get("/api/trading/balance").json()["bought_kwh"] > 0
