"""What a battery, a command and a schedule request may say."""

import pytest

from services.batteries.schemas import (
    BatteryCommandSchema,
    BatteryCreateSchema,
    BatteryScheduleRequestSchema,
    BatteryScheduleSchema,
)
from services.common.errors import ValidationFailed
from services.common.schemas import load

DEVICE_ID = "6f1c9d2e-0000-4000-8000-0000000000aa"
BATTERY = {
    "device_id": DEVICE_ID,
    "capacity_kwh": 10,
    "max_charge_kw": 5,
    "max_discharge_kw": 4,
}


def refused(schema, data) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        load(schema, data)
    return caught.value.details


def test_a_battery_has_defaults_for_efficiency_and_bounds():
    assert load(BatteryCreateSchema(), BATTERY) == {
        **BATTERY,
        "efficiency": 0.9,
        "min_soc": 0.0,
        "max_soc": 1.0,
    }


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"capacity_kwh": 0}, "capacity_kwh"),
        ({"capacity_kwh": "NaN"}, "capacity_kwh"),
        ({"max_charge_kw": -1}, "max_charge_kw"),
        ({"max_discharge_kw": True}, "max_discharge_kw"),
        ({"efficiency": 0}, "efficiency"),
        ({"efficiency": 1.2}, "efficiency"),
        ({"min_soc": -0.1}, "min_soc"),
        ({"max_soc": 1.5}, "max_soc"),
        ({"min_soc": 0.6, "max_soc": 0.6}, "max_soc"),
        ({"min_soc": 0.2, "soc_kwh": 1.0}, "soc_kwh"),
        ({"max_soc": 0.8, "soc_kwh": 9.0}, "soc_kwh"),
        ({"device_id": "not-an-id"}, "device_id"),
        ({"device_id": None}, "device_id"),
        ({"mode": "charging"}, "mode"),
    ],
)
def test_bad_batteries_are_refused_field_by_field(changes, field):
    assert field in refused(BatteryCreateSchema(), {**BATTERY, **changes})


def test_a_battery_needs_its_size_and_powers():
    details = refused(BatteryCreateSchema(), {"device_id": DEVICE_ID})
    assert set(details) == {"capacity_kwh", "max_charge_kw", "max_discharge_kw"}


def test_commands():
    schema = BatteryCommandSchema()
    assert load(schema, {"action": "charge", "power_kw": 2.5}) == {
        "action": "charge",
        "power_kw": 2.5,
    }
    assert load(schema, {"action": "idle"}) == {"action": "idle"}


@pytest.mark.parametrize(
    "data, field",
    [
        ({"action": "boost", "power_kw": 1}, "action"),
        ({"action": "charge"}, "power_kw"),
        ({"action": "discharge", "power_kw": 0}, "power_kw"),
        ({"action": "charge", "power_kw": -2}, "power_kw"),
        ({"action": "charge", "power_kw": "Infinity"}, "power_kw"),
        ({"action": "idle", "power_kw": 1}, "power_kw"),
        ({"power_kw": 1}, "action"),
    ],
)
def test_bad_commands_are_refused(data, field):
    assert field in refused(BatteryCommandSchema(), data)


SCHEDULE = {
    "import_prices": [0.1, 0.3],
    "export_prices": [0.05, 0.05],
    "load_kwh": [1, 2],
}


def test_a_schedule_request_takes_a_load_or_a_device_to_forecast():
    assert load(BatteryScheduleRequestSchema(), SCHEDULE) == SCHEDULE
    prices = {key: SCHEDULE[key] for key in ("import_prices", "export_prices")}
    forecast = dict(prices, load_device_id=DEVICE_ID)
    assert load(BatteryScheduleRequestSchema(), forecast) == forecast
    assert "load_kwh" in refused(BatteryScheduleRequestSchema(), prices)
    both = dict(SCHEDULE, load_device_id=DEVICE_ID)
    assert "load_kwh" in refused(BatteryScheduleRequestSchema(), both)
    # The service itself takes loads only: the gateway resolves the device.
    assert "load_kwh" in refused(BatteryScheduleSchema(), forecast)


def test_a_schedule_request_may_plan_on_the_household_s_net_load():
    prices = {key: SCHEDULE[key] for key in ("import_prices", "export_prices")}
    household = dict(prices, household_net_load=True)
    assert load(BatteryScheduleRequestSchema(), household) == household
    for body in (
        dict(prices, household_net_load=False),
        dict(SCHEDULE, household_net_load=True),
        dict(household, load_device_id=DEVICE_ID),
        dict(prices, household_net_load="yes please"),
    ):
        assert refused(BatteryScheduleRequestSchema(), body)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"import_prices": []}, "import_prices"),
        ({"import_prices": [0.1] * 49}, "import_prices"),
        ({"import_prices": [0.1, "NaN"]}, "import_prices"),
        ({"import_prices": [0.1, None]}, "import_prices"),
        ({"export_prices": [0.05]}, "export_prices"),
        ({"load_kwh": [1, 2, 3]}, "load_kwh"),
        ({"load_kwh": "1,2"}, "load_kwh"),
        ({"start_soc_kwh": -1}, "start_soc_kwh"),
        ({"target": {"hour_index": 2, "soc_kwh": 5}}, "target"),
        ({"target": {"hour_index": 1.5, "soc_kwh": 5}}, "target"),
        ({"target": {"hour_index": 1}}, "target"),
        ({"target": {"hour_index": 1, "soc_kwh": 5, "at": 1}}, "target"),
        ({"horizon": 2}, "horizon"),
    ],
)
def test_bad_schedule_requests_are_refused_field_by_field(changes, field):
    assert field in refused(BatteryScheduleRequestSchema(), {**SCHEDULE, **changes})


def test_a_target_names_its_hour_and_charge():
    data = load(
        BatteryScheduleSchema(), dict(SCHEDULE, target={"hour_index": 1, "soc_kwh": 4})
    )
    assert data["target"] == {"hour_index": 1, "soc_kwh": 4.0}
