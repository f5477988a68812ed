"""Forecasts through Traefik: a device back-filled by the simulator is forecast by
the model, its backtest compared with seasonal-naive, and only those who may see the
device see either. A simulated PV system's generation is forecast at its place with
the weather of a local stand-in of Open-Meteo, and a battery plans on its
household's net load."""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from harness.polling import eventually

pytestmark = pytest.mark.integration


def stored_readings(stack, device_id) -> int:
    engine = create_engine(stack.resources.databases["monitoringdb"])
    with engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM readings WHERE device_id = :d"),
            {"d": device_id},
        ).scalar()
    engine.dispose()
    return count


def back_fill(stack, device_id, start: datetime, summary: Path, *options: str) -> int:
    """Readings by ``ems simulate`` from ``start`` on, 15-minute meter readings
    unless ``options`` say otherwise; how many."""
    simulator = subprocess.run(
        [
            str(Path(sys.executable).with_name("ems")),
            "simulate",
            *(options or ("--device", f"{device_id}:meter:5")),
            "--start",
            start.isoformat(),
            "--seed",
            "11",
            "--quiet",
            "--summary-json",
            str(summary),
        ],
        env=stack.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=180,
    )
    assert simulator.returncode == 0, simulator.stderr.decode()
    return json.loads(summary.read_text())["confirmed"]


@pytest.fixture
def owned_device(new_user):
    user, client = new_user("Fore")
    created = client.post(
        "/api/devices", {"name": "Meter", "kind": "meter", "max_hourly_kwh": 5.0}
    )
    assert created.status_code == 201, created.text
    return created.json(), client


def test_a_back_filled_device_is_forecast_by_the_model(
    stack, owned_device, new_user, admin, tmp_path
):
    device, owner = owned_device
    start = datetime.now(UTC) - timedelta(days=8)
    confirmed = back_fill(stack, device["id"], start, tmp_path / "summary.json")
    assert confirmed >= 8 * 24 * 4 - 1
    eventually(lambda: stored_readings(stack, device["id"]) == confirmed, timeout=60)

    before = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    response = owner.get(
        "/api/forecast/consumption", params={"device_id": device["id"], "hours": 36}
    )
    assert response.status_code == 200, response.text
    forecast = response.json()
    assert forecast["method"] == "profile" and forecast["fallback"] is False
    assert forecast["history_hours"] >= 8 * 24 - 1
    assert len(forecast["hours"]) == 36
    first = datetime.fromisoformat(forecast["hours"][0]["hour"])
    assert before <= first <= before + timedelta(hours=1)
    hours = [datetime.fromisoformat(h["hour"]) for h in forecast["hours"]]
    assert hours == [first + i * timedelta(hours=1) for i in range(36)]
    kwh = [h["kwh"] for h in forecast["hours"]]
    assert all(value >= 0 for value in kwh) and max(kwh) > 0

    response = owner.get("/api/forecast/backtest", params={"device_id": device["id"]})
    assert response.status_code == 200, response.text
    backtest = response.json()
    assert backtest["horizon"] == 24 and backtest["folds"] >= 1
    assert backtest["hours_evaluated"] == 24 * backtest["folds"]
    for name in ("model", "seasonal_naive"):
        assert backtest[name]["mae"] > 0, backtest
        assert backtest[name]["mape"] > 0, backtest
    assert backtest["skill"] is not None

    # ADMIN sees any device; another user does not even learn that it exists.
    assert (
        admin.get(
            "/api/forecast/consumption", params={"device_id": device["id"]}
        ).status_code
        == 200
    )
    _, stranger = new_user("Stranger")
    for path in ("/api/forecast/consumption", "/api/forecast/backtest"):
        response = stranger.get(path, params={"device_id": device["id"]})
        assert response.status_code == 404, response.text
        assert response.json()["error"] == "NOT_FOUND"


def test_a_new_device_gets_the_fallback_and_says_so(owned_device):
    device, owner = owned_device
    response = owner.get(
        "/api/forecast/consumption", params={"device_id": device["id"]}
    )
    assert response.status_code == 200, response.text
    forecast = response.json()
    assert forecast["method"] == "no_history" and forecast["fallback"] is True
    assert len(forecast["hours"]) == 24
    response = owner.get("/api/forecast/backtest", params={"device_id": device["id"]})
    assert response.status_code == 200, response.text
    assert response.json()["folds"] == 0
    assert response.json()["note"].startswith("not enough history")


@pytest.mark.parametrize(
    "path, name", [("consumption", "hours"), ("backtest", "horizon")]
)
@pytest.mark.parametrize("value", ["0", "49", "soon"])
def test_horizons_outside_one_to_48_hours_are_refused(owned_device, path, name, value):
    device, owner = owned_device
    response = owner.get(
        f"/api/forecast/{path}", params={"device_id": device["id"], name: value}
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "VALIDATION_ERROR" and name in body["details"]


def test_a_forecast_needs_a_token_and_a_device_id(anonymous, owned_device):
    device, owner = owned_device
    response = anonymous.get(
        "/api/forecast/consumption", params={"device_id": device["id"]}
    )
    assert response.status_code == 401
    response = owner.get("/api/forecast/consumption")
    assert response.status_code == 400
    assert "device_id" in response.json()["details"]


# -- generation ----------------------------------------------------------------------

CAPE_TOWN = {"latitude": -33.9, "longitude": 18.4}


def new_device(client, **fields) -> dict:
    created = client.post("/api/devices", fields)
    assert created.status_code == 201, created.text
    return created.json()


def test_a_simulated_pv_system_is_forecast_at_its_place_with_the_weather(
    stack, new_user, tmp_path
):
    _, owner = new_user("Sunny")
    pv = new_device(owner, name="Roof", kind="pv", max_hourly_kwh=4.0, **CAPE_TOWN)
    assert (pv["latitude"], pv["longitude"]) == (-33.9, 18.4)
    start = datetime.now(UTC) - timedelta(days=8)
    confirmed = back_fill(
        stack,
        pv["id"],
        start,
        tmp_path / "summary.json",
        "--device",
        f"{pv['id']}:pv:4",
        "--location=-33.9,18.4",
        "--spike-probability",
        "0",
    )
    eventually(lambda: stored_readings(stack, pv["id"]) == confirmed, timeout=60)

    response = owner.get(
        "/api/forecast/generation", params={"device_id": pv["id"], "hours": 48}
    )
    assert response.status_code == 200, response.text
    forecast = response.json()
    assert forecast["location"] == {**CAPE_TOWN, "source": "device"}
    assert forecast["method"] == "clear_sky_weather", forecast["weather"]
    assert forecast["fallback"] is False
    assert forecast["weather"]["provider"] == "open-meteo"
    assert forecast["weather"]["status"] == "used"
    # The simulated system exports its clear sky, whole: its sunniest days' ratio
    # is its size.
    assert 3.6 < forecast["scale"] < 4.4
    kwh = [hour["kwh"] for hour in forecast["hours"]]
    assert len(kwh) == 48 and min(kwh) == 0.0 and 0 < max(kwh) <= 4.0

    response = owner.get(
        "/api/forecast/generation/backtest", params={"device_id": pv["id"]}
    )
    assert response.status_code == 200, response.text
    backtest = response.json()
    assert backtest["seasonal_period_hours"] == 24 and backtest["folds"] >= 5
    assert backtest["model"]["method"] == "clear_sky_scaled"
    # Under the simulator's cloudless skies both are close to what was measured.
    for name in ("model", "seasonal_naive"):
        assert 0 <= backtest[name]["mae"] < 0.2, backtest

    _, stranger = new_user("Shade")
    for path in ("/api/forecast/generation", "/api/forecast/generation/backtest"):
        response = stranger.get(path, params={"device_id": pv["id"]})
        assert response.status_code == 404, response.text


def test_generation_is_forecast_for_pv_devices_only(new_user):
    _, owner = new_user("Meter")
    meter = new_device(owner, name="Meter", kind="meter")
    for path in ("/api/forecast/generation", "/api/forecast/generation/backtest"):
        response = owner.get(path, params={"device_id": meter["id"]})
        assert response.status_code == 400, response.text
        assert "device_id" in response.json()["details"]


def test_a_new_pv_device_without_a_place_gets_the_installation_s_nominal_sky(
    new_user,
):
    _, owner = new_user("Nominal")
    pv = new_device(owner, name="Shed", kind="pv", max_hourly_kwh=2.0)
    response = owner.get("/api/forecast/generation", params={"device_id": pv["id"]})
    assert response.status_code == 200, response.text
    forecast = response.json()
    assert forecast["method"] == "clear_sky_nominal" and forecast["fallback"] is True
    assert forecast["location"]["source"] == "installation"
    # The weather's clouds take their share of the nominal sky.
    assert forecast["weather"]["status"] == "used"
    assert all(0 <= hour["kwh"] <= 2.0 for hour in forecast["hours"])


@pytest.mark.parametrize(
    "place, field",
    [
        ({"latitude": 91, "longitude": 0}, "latitude"),
        ({"latitude": 10, "longitude": -180.5}, "longitude"),
        ({"latitude": 10}, "longitude"),
        ({"latitude": None, "longitude": 3}, "latitude"),
    ],
)
def test_a_place_is_on_earth_and_whole(device, place, field):
    created, _, client = device
    response = client.patch(f"/api/devices/{created['id']}", place)
    assert response.status_code == 400, response.text
    assert field in response.json()["details"]


def test_a_battery_plans_on_its_household_s_net_load(stack, new_user, tmp_path):
    _, owner = new_user("Stores")
    pv = new_device(owner, name="Roof", kind="pv", max_hourly_kwh=6.0, **CAPE_TOWN)
    meter = new_device(owner, name="House", kind="meter", max_hourly_kwh=5.0)
    device = new_device(owner, name="Battery", kind="battery", max_hourly_kwh=5.0)
    confirmed = back_fill(
        stack,
        pv["id"],
        datetime.now(UTC) - timedelta(days=3),
        tmp_path / "summary.json",
        "--device",
        f"{pv['id']}:pv:6",
        "--device",
        f"{meter['id']}:meter:1",
        "--location=-33.9,18.4",
    )
    eventually(
        lambda: (
            stored_readings(stack, pv["id"]) + stored_readings(stack, meter["id"])
            == confirmed
        ),
        timeout=60,
    )
    battery = owner.post(
        "/api/batteries",
        {
            "device_id": device["id"],
            "capacity_kwh": 10,
            "max_charge_kw": 5,
            "max_discharge_kw": 5,
        },
    )
    assert battery.status_code == 201, battery.text
    response = owner.post(
        f"/api/batteries/{battery.json()['id']}/schedule",
        {
            "import_prices": [0.3] * 24,
            "export_prices": [0.05] * 24,
            "household_net_load": True,
        },
    )
    assert response.status_code == 200, response.text
    hours = response.json()["hours"]
    # A day of Cape Town's summer sun on 6 kW makes a surplus around noon.
    surplus = {hour["hour_index"] for hour in hours if hour["load_kwh"] < 0}
    charged = {hour["hour_index"] for hour in hours if hour["action"] == "charge"}
    assert surplus, hours
    # Flat prices: it charges from the surplus only, never from the grid, for the
    # evening and the night to use: when the day's horizon holds such hours after
    # the sun (it begins now, so it may end with the surplus).
    assert charged <= surplus, hours
    used_later = [
        h for h in hours if h["hour_index"] > min(surplus) and h["load_kwh"] > 0
    ]
    if used_later:
        assert charged, hours
