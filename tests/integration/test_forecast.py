"""Consumption forecasts through Traefik: a device back-filled by the simulator is
forecast by the model, its backtest compared with seasonal-naive, and only those
who may see the device see either."""

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


def back_fill(stack, device_id, start: datetime, summary: Path) -> int:
    """Eight days of 15-minute meter readings by ``ems simulate``; how many."""
    simulator = subprocess.run(
        [
            str(Path(sys.executable).with_name("ems")),
            "simulate",
            "--device",
            f"{device_id}:meter:5",
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
