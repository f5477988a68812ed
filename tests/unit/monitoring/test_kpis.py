from decimal import Decimal

import pytest

from services.monitoring.kpis import Hour, fleet, flexibility_kw, peak_hour, self_use

KINDS = {"pv": "pv", "house": "meter", "car": "ev_charger", "bat": "battery"}


def hour(device_id, at, imported="0", exported="0"):
    return Hour(device_id, at, Decimal(imported), Decimal(exported))


def test_own_use_is_matched_hour_by_hour():
    hours = [
        # 10:00: 3 kWh generated, 1 used: 1 kWh used on site, 2 exported.
        hour("pv", "10", exported="3"),
        hour("house", "10", imported="1"),
        # 20:00: nothing generated, 2 kWh used from the grid.
        hour("house", "20", imported="2"),
    ]
    figures = self_use(hours, KINDS)
    assert figures["generation_kwh"] == 3.0
    assert figures["consumption_kwh"] == 3.0
    # Summed over the day generation equals consumption, yet only 1 kWh matched.
    assert figures["self_consumption"] == pytest.approx(1 / 3, abs=1e-4)
    assert figures["self_sufficiency"] == pytest.approx(1 / 3, abs=1e-4)


def test_without_generation_there_is_no_self_use():
    figures = self_use([hour("house", "10", imported="1")], KINDS)
    assert figures["self_consumption"] is None
    assert figures["self_sufficiency"] is None


def test_a_pv_s_own_draw_is_not_consumption():
    figures = self_use([hour("pv", "03", imported="0.01")], KINDS)
    assert figures["consumption_kwh"] == 0.0


def test_the_peak_is_the_hour_of_most_import_summed_over_devices():
    hours = [
        hour("house", "18", imported="2"),
        hour("car", "18", imported="5"),
        hour("house", "19", imported="6"),
        hour("house", "07", imported="7"),
        hour("car", "22", imported="7"),
    ]
    # 18:00 (7 kWh), 07:00 and 22:00 tie: the earliest of equals.
    assert peak_hour(hours) == {"hour": "07", "import_kwh": 7.0}


def test_no_import_no_peak():
    assert peak_hour([]) is None
    assert peak_hour([hour("pv", "12", exported="4")]) is None


def test_the_fleet_s_charge_is_weighted_by_capacity():
    batteries = [
        {"capacity_kwh": 10, "soc_kwh": 9},
        {"capacity_kwh": 2, "soc_kwh": 0},
    ]
    assert fleet(batteries) == {
        "count": 2,
        "capacity_kwh": 12,
        "soc_kwh": 9,
        "average_soc_percent": 75.0,
    }
    assert fleet([])["average_soc_percent"] is None


def test_flexibility_is_battery_discharge_and_switchable_draw():
    batteries = [
        {"max_discharge_kw": 4, "available_kwh": 10},  # 4 kW for the hour
        {"max_discharge_kw": 5, "available_kwh": 1.5},  # runs out: 1.5 kW
    ]
    power = {"car": 7400.0, "house": 900.0, "pv": -3000.0, "bat": 4000.0}
    # The charger's draw counts; a meter's, a PV's and a battery's do not.
    assert flexibility_kw(batteries, power, KINDS) == pytest.approx(4 + 1.5 + 7.4)


def test_a_load_without_a_power_reading_offers_nothing():
    assert flexibility_kw([], {"car": None}, KINDS) == 0.0
