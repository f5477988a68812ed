"""Batteries through Traefik, against every real process: a battery on a battery
device, its commands pushed over /ws, its schedule, and nobody else's access."""

import time

import pytest

from harness.clients import ws_connect as connect
from harness.clients import ws_receive as receive
from harness.polling import eventually

pytestmark = pytest.mark.integration

BATTERY = {
    "capacity_kwh": 10,
    "max_charge_kw": 5,
    "max_discharge_kw": 4,
    "efficiency": 0.81,
    "min_soc": 0.1,
    "max_soc": 0.9,
}
SCHEDULE = {
    "import_prices": [0.10, 0.10, 0.60, 0.10],
    "export_prices": [0.0, 0.0, 0.0, 0.0],
    "load_kwh": [3.0, 3.0, 3.0, 3.0],
}


def add_device(client, kind="battery"):
    response = client.post("/api/devices", {"name": f"My {kind}", "kind": kind})
    assert response.status_code == 201, response.text
    return response.json()


def add_battery(client, **fields):
    device = add_device(client)
    response = client.post("/api/batteries", {"device_id": device["id"], **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_battery_is_added_commanded_and_pushed_live(stack, new_user):
    user, ada = new_user("Ada")
    device = add_device(ada)
    created = ada.post("/api/batteries", {"device_id": device["id"], **BATTERY})
    assert created.status_code == 201, created.text
    battery = created.json()
    assert battery["user_id"] == user["id"] and battery["device_id"] == device["id"]
    assert (battery["soc_kwh"], battery["mode"]) == (1.0, "idle")
    again = ada.post("/api/batteries", {"device_id": device["id"], **BATTERY})
    assert again.status_code == 409 and again.json()["error"] == "CONFLICT"
    assert ada.get("/api/batteries").json() == [battery]

    socket = connect(stack, ada.token)
    try:
        path = f"/api/batteries/{battery['id']}/commands"
        response = ada.post(path, {"action": "charge", "power_kw": 4})
        assert response.status_code == 200, response.text
        assert (response.json()["mode"], response.json()["power_kw"]) == ("charging", 4)
        pushed = receive(socket, "battery.state")
        assert pushed["data"] == {
            "battery_id": battery["id"],
            "soc_kwh": response.json()["soc_kwh"],
            "soc_fraction": response.json()["soc_fraction"],
            "mode": "charging",
            "power_kw": 4,
        }
        time.sleep(0.5)
        now = ada.get(f"/api/batteries/{battery['id']}").json()
        assert now["soc_kwh"] > response.json()["soc_kwh"]  # it is filling up

        stopped = ada.post(path, {"action": "idle"})
        assert stopped.status_code == 200 and stopped.json()["mode"] == "idle"
        pushed = receive(socket, "battery.state")
        assert pushed["data"]["mode"] == "idle" and pushed["data"]["power_kw"] == 0

        too_much = ada.post(path, {"action": "discharge", "power_kw": 4.5})
        assert too_much.status_code == 400
        assert too_much.json()["error"] == "VALIDATION_ERROR"
        assert too_much.json()["details"] == {
            "power_kw": ["above 0 and at most 4 kW for this battery"]
        }
        for body, field in [
            ({"action": "boost", "power_kw": 1}, "action"),
            ({"action": "charge"}, "power_kw"),
            ({"action": "charge", "power_kw": -1}, "power_kw"),
            ({"action": "idle", "power_kw": 1}, "power_kw"),
        ]:
            response = ada.post(path, body)
            assert response.status_code == 400, body
            assert field in response.json()["details"], body
        assert receive(socket, "battery.state", wait=1) is None
    finally:
        socket.close()

    assert ada.delete(f"/api/batteries/{battery['id']}").status_code == 204
    assert ada.get(f"/api/batteries/{battery['id']}").status_code == 404
    assert ada.get(f"/api/devices/{device['id']}").status_code == 200


def test_bad_batteries_are_refused_with_details(new_user):
    _, ada = new_user("Ada")
    meter = add_device(ada, kind="meter")
    response = ada.post("/api/batteries", {"device_id": meter["id"], **BATTERY})
    assert response.status_code == 400
    assert response.json()["details"] == {
        "device_id": ["a device of kind battery, not meter"]
    }

    device = add_device(ada)
    response = ada.post(
        "/api/batteries",
        {
            "device_id": device["id"],
            "capacity_kwh": -1,
            "max_charge_kw": "fast",
            "efficiency": 1.5,
            "colour": "red",
        },
    )
    assert response.status_code == 400
    details = response.json()["details"]
    assert {
        "capacity_kwh",
        "max_charge_kw",
        "max_discharge_kw",
        "efficiency",
        "colour",
    } <= set(details)
    response = ada.post(
        "/api/batteries",
        {"device_id": device["id"], **BATTERY, "min_soc": 0.9, "max_soc": 0.2},
    )
    assert response.status_code == 400 and "max_soc" in response.json()["details"]
    response = ada.post(
        "/api/batteries",
        data="{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400


def test_the_schedule_discharges_a_full_battery_at_the_peak(new_user):
    _, ada = new_user("Ada")
    battery = add_battery(ada, **BATTERY, soc_kwh=9)
    path = f"/api/batteries/{battery['id']}/schedule"
    response = ada.post(path, SCHEDULE)
    assert response.status_code == 200, response.text
    schedule = response.json()
    assert schedule["method"] == "dynamic programming"
    assert [hour["hour_index"] for hour in schedule["hours"]] == [0, 1, 2, 3]
    peak = schedule["hours"][2]
    assert peak["action"] == "discharge" and peak["grid_kwh"] == pytest.approx(
        0, abs=0.05
    )
    assert schedule["saving"] > 0 and schedule["grid_step_kwh"] > 0
    for hour in schedule["hours"]:
        assert 1.0 - 1e-6 <= hour["soc_kwh_end"] <= 9.0 + 1e-6
        if hour["action"] == "charge":
            assert hour["power_kw"] <= 5
        if hour["action"] == "discharge":
            assert hour["power_kw"] <= 4

    held = ada.post(path, dict(SCHEDULE, target={"hour_index": 3, "soc_kwh": 8}))
    assert held.status_code == 200
    assert held.json()["hours"][3]["soc_kwh_end"] >= 8 - 1e-6

    for body, field in [
        (dict(SCHEDULE, export_prices=[0.0]), "export_prices"),
        (dict(SCHEDULE, import_prices=[]), "import_prices"),
        (dict(SCHEDULE, import_prices=[0.1] * 49), "import_prices"),
        ({k: v for k, v in SCHEDULE.items() if k != "load_kwh"}, "load_kwh"),
        (dict(SCHEDULE, target={"hour_index": 4, "soc_kwh": 5}), "target"),
        (dict(SCHEDULE, start_soc_kwh=9.5), "start_soc_kwh"),
        (  # 7 kWh more in one hour at 4.5 kWh an hour: out of reach
            dict(SCHEDULE, start_soc_kwh=1, target={"hour_index": 0, "soc_kwh": 8}),
            "target",
        ),
        (dict(SCHEDULE, load_device_id="not-an-id"), "load_device_id"),
    ]:
        response = ada.post(path, body)
        assert response.status_code == 400, (field, response.text)
        assert field in response.json()["details"], (field, response.text)


def test_the_schedule_may_use_the_forecast_of_a_device(new_user):
    _, ada = new_user("Ada")
    battery = add_battery(ada, **BATTERY)
    meter = add_device(ada, kind="meter")
    body = {k: v for k, v in SCHEDULE.items() if k != "load_kwh"}
    response = ada.post(
        f"/api/batteries/{battery['id']}/schedule",
        dict(body, load_device_id=meter["id"]),
    )
    assert response.status_code == 200, response.text
    hours = response.json()["hours"]
    assert len(hours) == 4 and all(hour["load_kwh"] >= 0 for hour in hours)

    _, bob = new_user("Bob")
    bobs = add_battery(bob, **BATTERY)
    response = bob.post(
        f"/api/batteries/{bobs['id']}/schedule", dict(body, load_device_id=meter["id"])
    )
    assert response.status_code == 404  # Ada's meter is not Bob's to forecast


def test_another_user_reaches_none_of_a_battery(new_user):
    _, ada = new_user("Ada")
    battery = add_battery(ada, **BATTERY)
    _, bob = new_user("Bob")
    base = f"/api/batteries/{battery['id']}"
    for response in (
        bob.get(base),
        bob.delete(base),
        bob.post(f"{base}/commands", {"action": "charge", "power_kw": 1}),
        bob.post(f"{base}/schedule", SCHEDULE),
        bob.post("/api/batteries", {"device_id": battery["device_id"], **BATTERY}),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"] == "NOT_FOUND"
    assert bob.get("/api/batteries").json() == []
    assert ada.get(base).json()["mode"] == "idle"  # untouched
    assert bob.get("/api/batteries/not-an-id").status_code == 404


def test_a_deleted_user_or_device_takes_its_batteries_along(admin, new_user):
    user, ada = new_user("Ada")
    first, second = add_battery(ada, **BATTERY), add_battery(ada, **BATTERY)
    assert ada.delete(f"/api/devices/{first['device_id']}").status_code == 204
    eventually(lambda: admin.get(f"/api/batteries/{first['id']}").status_code == 404)
    assert admin.get(f"/api/batteries/{second['id']}").status_code == 200

    assert admin.delete(f"/api/users/{user['id']}").status_code == 204
    eventually(lambda: admin.get(f"/api/batteries/{second['id']}").status_code == 404)


def test_the_people_of_a_battery_s_site_act_by_their_role_there(new_user):
    _, ann = new_user("Ann")
    bob_user, bob = new_user("Bob")
    cy_user, cy = new_user("Cy")
    _, dee = new_user("Dee")
    battery = add_battery(ann, **BATTERY)
    device = ann.get(f"/api/devices/{battery['device_id']}").json()
    site = f"/api/sites/{device['site_id']}/members"
    for user, role in ((bob_user, "operator"), (cy_user, "viewer")):
        added = ann.post(site, {"email": user["email"], "role": role})
        assert added.status_code == 201, added.text

    commands = f"/api/batteries/{battery['id']}/commands"
    # The site's operator sees it in their listing and commands it.
    assert [b["id"] for b in bob.get("/api/batteries").json()] == [battery["id"]]
    charged = bob.post(commands, {"action": "charge", "power_kw": 1})
    assert charged.status_code == 200, charged.text
    assert charged.json()["mode"] == "charging"
    assert charged.json()["permissions"] == {"command": True, "delete": False}
    assert bob.delete(f"/api/batteries/{battery['id']}").status_code == 404
    # Its viewer reads it and may not command it; a stranger finds nothing.
    assert cy.get(f"/api/batteries/{battery['id']}").status_code == 200
    assert cy.post(commands, {"action": "idle"}).status_code == 404
    assert dee.get(f"/api/batteries/{battery['id']}").status_code == 404
    assert dee.get("/api/batteries").json() == []
