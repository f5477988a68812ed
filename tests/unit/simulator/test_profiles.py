"""The load profiles: deterministic, finite, non-negative, shaped like a day."""

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from simulator.profiles import (
    SHAPES,
    Device,
    expected_kwh,
    interval_kwh,
)

QUARTER = timedelta(minutes=15)
DAY_START = datetime(2026, 1, 12, tzinfo=UTC)
KINDS = (*SHAPES, "ev_charger", "something-new")


def quarter_ends(days: int = 2):
    return [DAY_START + QUARTER * k for k in range(1, days * 96 + 1)]


def test_readings_are_deterministic_per_seed():
    device = Device("d-1", "meter", 0.5)
    end = datetime(2026, 11, 22, 10, 15, tzinfo=UTC)
    first = interval_kwh(device, end, QUARTER, seed=7, spike_probability=0.1)
    assert interval_kwh(device, end, QUARTER, seed=7, spike_probability=0.1) == first
    assert interval_kwh(device, end, QUARTER, seed=8).kwh != first.kwh
    other = Device("d-2", "meter", 0.5)
    assert interval_kwh(other, end, QUARTER, seed=7).kwh != first.kwh


def test_changing_the_spike_probability_leaves_other_readings_alone():
    device = Device("d-1")
    for end in quarter_ends(1):
        calm = interval_kwh(device, end, QUARTER, 3, spike_probability=0.0)
        spiky = interval_kwh(device, end, QUARTER, 3, spike_probability=0.2)
        assert spiky.spike or spiky.kwh == calm.kwh


@pytest.mark.parametrize("kind", KINDS)
def test_every_reading_is_finite_and_not_negative(kind):
    device = Device(f"{kind}-1", kind, 3.0)
    for seed in (0, 1, 2**40):
        for end in quarter_ends(3):
            kwh = interval_kwh(device, end, QUARTER, seed, spike_probability=0.05).kwh
            assert math.isfinite(kwh) and kwh >= 0


def test_a_household_peaks_in_the_evening_not_at_night():
    device = Device("home", "meter", 1.0)
    hour = timedelta(hours=1)
    evening = expected_kwh(device, DAY_START.replace(hour=20), hour)
    night = expected_kwh(device, DAY_START.replace(hour=4), hour)
    morning = expected_kwh(device, DAY_START.replace(hour=8), hour)
    assert evening > 3 * night and morning > 2 * night
    # Noise is unbiased: a month of evenings averages close to the profile.
    seen = [
        interval_kwh(device, DAY_START.replace(hour=20) + timedelta(days=d), hour, 5)
        for d in range(60)
    ]
    assert np.mean([draw.kwh for draw in seen]) == pytest.approx(evening, rel=0.1)


def test_a_heat_pump_works_hardest_in_cold_winter_mornings():
    pump = Device("hp", "heat_pump", 2.0)
    hour = timedelta(hours=1)
    winter_morning = expected_kwh(pump, datetime(2026, 1, 15, 7, tzinfo=UTC), hour)
    winter_afternoon = expected_kwh(pump, datetime(2026, 1, 15, 14, tzinfo=UTC), hour)
    summer_morning = expected_kwh(pump, datetime(2026, 7, 15, 7, tzinfo=UTC), hour)
    assert winter_morning > 2 * winter_afternoon
    assert winter_morning > 2 * summer_morning


def test_an_ev_charger_charges_in_evening_and_night_blocks():
    charger = Device("ev", "ev_charger", 7.0)
    hour = timedelta(hours=1)
    by_hour = np.zeros(24)
    for day in range(60):
        for h in range(24):
            end = DAY_START + timedelta(days=day, hours=h + 1)
            by_hour[h] += expected_kwh(charger, end, hour, seed=1)
    evening_and_night = by_hour[17:].sum() + by_hour[:4].sum()
    assert evening_and_night > 0.95 * by_hour.sum()
    assert by_hour[10:16].max() < 0.05 * by_hour.max()  # standby only
    # While charging it draws the same power for hours on end.
    quarters = [expected_kwh(charger, end, QUARTER, 1) for end in quarter_ends(3)]
    charging = [kwh > 0.5 for kwh in quarters]
    assert any(charging)
    runs = "".join("1" if c else "0" for c in charging).split("0")
    assert max(len(run) for run in runs) >= 6


def test_pv_only_draws_standby_power_at_night():
    pv = Device("pv", "pv", 5.0)
    hour = timedelta(hours=1)
    assert expected_kwh(pv, DAY_START.replace(hour=13), hour) == 0
    night = expected_kwh(pv, DAY_START.replace(hour=3), hour)
    assert 0 < night < 0.05 * pv.max_hourly_kwh


def test_spikes_exceed_the_limit_at_about_the_configured_probability():
    device = Device("spiky", "meter", 0.5)
    ends = quarter_ends(100)
    above = [
        interval_kwh(device, end, QUARTER, 11, spike_probability=0.05).kwh
        > device.max_hourly_kwh
        for end in ends
    ]
    assert np.mean(above) == pytest.approx(0.05, abs=0.015)
    calm = [interval_kwh(device, end, QUARTER, 11).kwh for end in ends]
    assert max(calm) < device.max_hourly_kwh


def test_interval_energy_scales_with_the_interval():
    device = Device("m", "meter", 1.0)
    end = datetime(2026, 11, 22, 11, tzinfo=UTC)
    hour = expected_kwh(device, end, timedelta(hours=1), 4)
    quarters = sum(
        expected_kwh(device, end - QUARTER * k, QUARTER, 4) for k in range(4)
    )
    assert hour == pytest.approx(quarters, rel=1e-12)
    # Where the profile is flat, twice the time is twice the energy.
    battery = Device("b", "battery", 1.0)
    assert expected_kwh(battery, end, 2 * QUARTER) == pytest.approx(
        2 * expected_kwh(battery, end, QUARTER)
    )
    assert expected_kwh(device, end, timedelta(0)) == 0


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError):
        Device("x", "meter", 0)
    with pytest.raises(ValueError):
        Device("x", "meter", float("nan"))
    with pytest.raises(ValueError):
        interval_kwh(Device("x"), datetime(2026, 1, 1), QUARTER, 1)
    with pytest.raises(ValueError):
        interval_kwh(Device("x"), DAY_START, QUARTER, 1, spike_probability=1.5)
