"""The gateway's battery routes, with every service they call replaced by a mock:
what they check before calling batteries, and where a forecast load comes from."""

import json

import pytest
from nameko.testing.services import worker_factory
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.service import GatewayService
from services.common.errors import Forbidden, Unavailable, ValidationFailed

USER = {"user_id": "6f1c9d2e-0000-4000-8000-000000000001", "role": "USER"}
OTHER_ID = "6f1c9d2e-0000-4000-8000-000000000002"
DEVICE_ID = "6f1c9d2e-0000-4000-8000-0000000000dd"
METER_ID = "6f1c9d2e-0000-4000-8000-0000000000ee"
BATTERY_ID = "6f1c9d2e-0000-4000-8000-0000000000bb"
NEW_BATTERY = {
    "device_id": DEVICE_ID,
    "capacity_kwh": 10,
    "max_charge_kw": 5,
    "max_discharge_kw": 5,
}


def post(path, body):
    return Request(
        EnvironBuilder(
            method="POST",
            path=path,
            data=json.dumps(body),
            content_type="application/json",
            headers={"Authorization": "Bearer token"},
        ).get_environ()
    )


def device(owner=USER["user_id"], kind="battery", device_id=DEVICE_ID):
    return {"id": device_id, "user_id": owner, "kind": kind, "name": "Home battery"}


@pytest.fixture
def gateway():
    service = worker_factory(GatewayService)
    service.auth_rpc.check.return_value = USER
    service.devices_rpc.get_device.return_value = device()
    service.batteries_rpc.create_battery.return_value = {"id": BATTERY_ID}
    service.batteries_rpc.schedule_battery.return_value = {"hours": []}
    return service


def test_a_battery_goes_on_the_callers_battery_device(gateway):
    response = gateway.create_battery(post("/api/batteries", NEW_BATTERY))
    assert response.status_code == 201
    assert json.loads(response.get_data()) == {"id": BATTERY_ID}
    gateway.devices_rpc.get_device.assert_called_once_with(USER, DEVICE_ID)
    data, owner = gateway.batteries_rpc.create_battery.call_args.args
    assert owner == USER["user_id"]
    assert data["device_id"] == DEVICE_ID and data["efficiency"] == 0.9


def test_a_device_of_another_kind_is_refused(gateway):
    gateway.devices_rpc.get_device.return_value = device(kind="meter")
    with pytest.raises(ValidationFailed) as refused:
        gateway.create_battery(post("/api/batteries", NEW_BATTERY))
    assert refused.value.details == {
        "device_id": ["a device of kind battery, not meter"]
    }
    gateway.batteries_rpc.create_battery.assert_not_called()


def test_an_operator_reads_another_users_device_but_adds_no_battery_to_it(gateway):
    gateway.auth_rpc.check.return_value = {"user_id": "o-1", "role": "OPERATOR"}
    gateway.devices_rpc.get_device.return_value = device(owner=OTHER_ID)
    with pytest.raises(Forbidden):
        gateway.create_battery(post("/api/batteries", NEW_BATTERY))


def test_admin_adds_a_battery_for_the_devices_owner(gateway):
    gateway.auth_rpc.check.return_value = {"user_id": "a-1", "role": "ADMIN"}
    gateway.devices_rpc.get_device.return_value = device(owner=OTHER_ID)
    gateway.create_battery(post("/api/batteries", NEW_BATTERY))
    assert gateway.batteries_rpc.create_battery.call_args.args[1] == OTHER_ID


def test_a_schedule_without_load_uses_the_forecast_of_the_named_device(gateway):
    gateway.devices_rpc.get_device.return_value = device(kind="meter")
    gateway.monitoring_rpc.forecast_consumption.return_value = {
        "method": "profile",
        "hours": [
            {"hour": "2026-11-22T18:00:00Z", "kwh": 0.7},
            {"hour": "2026-11-22T19:00:00Z", "kwh": 1.2},
        ],
    }
    body = {
        "import_prices": [0.1, 0.4],
        "export_prices": [0.0, 0.0],
        "load_device_id": METER_ID,
    }
    response = gateway.schedule_battery(
        post(f"/api/batteries/{BATTERY_ID}/schedule", body), BATTERY_ID
    )
    assert response.status_code == 200
    gateway.devices_rpc.get_device.assert_called_once_with(USER, METER_ID)
    gateway.monitoring_rpc.forecast_consumption.assert_called_once_with(METER_ID, 2)
    battery_id, data, caller = gateway.batteries_rpc.schedule_battery.call_args.args
    assert (battery_id, caller) == (BATTERY_ID, USER)
    assert data == {
        "import_prices": [0.1, 0.4],
        "export_prices": [0.0, 0.0],
        "load_kwh": [0.7, 1.2],
    }


def test_a_forecast_shorter_than_the_prices_is_unavailable(gateway):
    gateway.monitoring_rpc.forecast_consumption.return_value = {
        "hours": [{"hour": "2026-11-22T18:00:00Z", "kwh": 0.7}]
    }
    body = {"import_prices": [0.1, 0.4], "export_prices": [0, 0]}
    body["load_device_id"] = METER_ID
    with pytest.raises(Unavailable):
        gateway.schedule_battery(
            post(f"/api/batteries/{BATTERY_ID}/schedule", body), BATTERY_ID
        )
    gateway.batteries_rpc.schedule_battery.assert_not_called()


def test_a_schedule_with_its_load_asks_no_forecast(gateway):
    body = {"import_prices": [0.1], "export_prices": [0], "load_kwh": [2]}
    gateway.schedule_battery(
        post(f"/api/batteries/{BATTERY_ID}/schedule", body), BATTERY_ID
    )
    gateway.monitoring_rpc.forecast_consumption.assert_not_called()
    gateway.devices_rpc.get_device.assert_not_called()
