"""The simulated devices' models: what they draw, deliver and store, and the
commands that change it, in simulated time."""

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from services.common.solar import ClearSkyPv
from simulator.devices import (
    Battery,
    EvCharger,
    Fleet,
    PvInverter,
    Rejected,
    SwitchableLoad,
    Telemetry,
)
from simulator.profiles import Device, ev_plugged, interval_kwh

SEED = 5
QUARTER = timedelta(minutes=15)
MIDSUMMER = datetime(2026, 6, 21, tzinfo=UTC)
MIDWINTER = datetime(2026, 12, 21, tzinfo=UTC)


def quarters(model, start: datetime, count: int) -> list[Telemetry]:
    return [model.read(start + QUARTER * k, QUARTER) for k in range(1, count + 1)]


# -- switchable loads ------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, limit", [("meter", 1.5), ("appliance", 1.0), ("heat_pump", 2.0)]
)
def test_an_uncommanded_load_reads_exactly_as_its_profile(kind, limit):
    device = Device("load-1", kind, limit)
    load = SwitchableLoad(device, SEED, spike_probability=0.05)
    for k, reading in enumerate(quarters(load, MIDWINTER, 96), start=1):
        usual = interval_kwh(device, MIDWINTER + QUARTER * k, QUARTER, SEED, 0.05)
        assert reading.kwh == usual.kwh and reading.spike == usual.spike
        assert reading.export_kwh is None and reading.soc_kwh is None


def test_a_switched_off_load_draws_nothing_until_switched_on():
    load = SwitchableLoad(Device("load-1", "meter", 1.5), SEED)
    (before,) = quarters(load, MIDWINTER, 1)
    assert before.kwh > 0 and before.power_w > 0
    assert load.apply("switch", {"on": False}, MIDWINTER + QUARTER) == "off"
    off = quarters(load, MIDWINTER + QUARTER, 4)
    assert all(r.kwh == 0 and r.power_w == 0 for r in off)
    load.apply("switch", {"on": True}, MIDWINTER + 5 * QUARTER)
    (after,) = quarters(load, MIDWINTER + 5 * QUARTER, 1)
    usual = interval_kwh(load.device, MIDWINTER + 6 * QUARTER, QUARTER, SEED)
    assert after.kwh == pytest.approx(usual.kwh) and after.kwh > 0


def test_a_switch_in_the_middle_of_an_interval_counts_from_then():
    device = Device("load-1", "meter", 1.5)
    load = SwitchableLoad(device, SEED)
    quarters(load, MIDWINTER, 1)
    load.apply("switch", {"on": False}, MIDWINTER + QUARTER + timedelta(minutes=5))
    (reading,) = quarters(load, MIDWINTER + QUARTER, 1)
    usual = interval_kwh(device, MIDWINTER + 2 * QUARTER, QUARTER, SEED).kwh
    # On for 5 of 15 minutes of a nearly flat night profile: about a third.
    assert reading.kwh == pytest.approx(usual / 3, rel=0.05)


@pytest.mark.parametrize(
    "command, params",
    [
        ("switch", {"on": "no"}),
        ("switch", {}),
        ("switch", {"on": 0}),
        ("curtail", {"max_percent": 10}),
        ("battery_setpoint", {"power_kw": 1}),
        ("reboot", {}),
        ("switch", ["on"]),
    ],
)
def test_a_load_rejects_what_it_cannot_do(command, params):
    load = SwitchableLoad(Device("load-1", "appliance", 1.0), SEED)
    with pytest.raises(Rejected) as refused:
        load.apply(command, params, MIDWINTER)
    assert refused.value.detail
    assert load.on


# -- EV charger ------------------------------------------------------------------


def plugged_moment(device: Device) -> datetime:
    """A quarter-hour end by which the car has been charging for 30 minutes."""
    moments = MIDWINTER.timestamp() + np.arange(0, 7 * 86_400, 900)
    plugged = ev_plugged(SEED, device.id, moments)
    for k in range(2, len(moments)):
        if plugged[k - 2 : k + 1].all():
            return datetime.fromtimestamp(moments[k], UTC)
    raise AssertionError("no charging block in a week")


def test_an_uncommanded_ev_charger_reads_as_its_profile():
    device = Device("ev-1", "ev_charger", 7.4)
    charger = EvCharger(device, SEED)
    for k, reading in enumerate(quarters(charger, MIDWINTER, 96 * 2), start=1):
        usual = interval_kwh(device, MIDWINTER + QUARTER * k, QUARTER, SEED)
        assert reading.kwh == pytest.approx(usual.kwh, rel=1e-9, abs=1e-12)


def test_the_ev_current_sets_the_charging_power_and_zero_pauses():
    device = Device("ev-1", "ev_charger", 7.4)
    charger = EvCharger(device, SEED)
    assert (charger.phases, round(charger.max_amps, 2)) == (1, 32.17)
    at = plugged_moment(device)
    charger.read(at - QUARTER, QUARTER)
    assert charger.apply("ev_current", {"amps": 16}, at - QUARTER).startswith(
        "charging at 16 A on 1 phase"
    )
    sixteen = charger.read(at, QUARTER)
    assert sixteen.power_w == pytest.approx(16 * 230)
    # 16 A × 230 V for a quarter of an hour, with the profile's noise (σ 0.15).
    assert 0.5 < sixteen.kwh / (16 * 0.230 / 4) < 1.6
    assert charger.apply("ev_current", {"amps": 0}, at) == "paused"
    paused = charger.read(at + QUARTER, QUARTER)
    assert paused.kwh == 0 and paused.power_w == 0


def test_a_three_phase_charger_bounds_its_current():
    charger = EvCharger(Device("ev-3", "ev_charger", 11.0), SEED)
    assert charger.phases == 3 and charger.max_amps == pytest.approx(15.94, abs=0.01)
    assert "6.90 kW" in charger.apply("ev_current", {"amps": 10}, MIDWINTER)
    for amps in (16, 5, -1, 1e9, math.nan, True, "10", None):
        with pytest.raises(Rejected):
            charger.apply("ev_current", {"amps": amps}, MIDWINTER)
    assert charger.amps == 10


def test_an_ev_charger_switches_off_like_any_load():
    device = Device("ev-1", "ev_charger", 7.4)
    charger = EvCharger(device, SEED)
    at = plugged_moment(device)
    charger.read(at - QUARTER, QUARTER)
    charger.apply("switch", {"on": False}, at - QUARTER)
    assert charger.read(at, QUARTER).kwh == 0


# -- PV inverter -----------------------------------------------------------------


def day_of(model: PvInverter, day: datetime) -> list[Telemetry]:
    return quarters(model, day, 96)


def test_pv_exports_nothing_at_night_and_most_near_solar_noon():
    pv = PvInverter(Device("pv-1", "pv", 4.0), SEED, location=(51.48, 0.0))
    readings = day_of(pv, MIDSUMMER)
    exports = [r.export_kwh for r in readings]
    # Quarter k covers (k-1)/4 .. k/4 hours UTC.
    assert all(e == 0 for e in exports[:12]) and all(e == 0 for e in exports[-12:])
    peak = int(np.argmax(exports))
    assert 11.5 <= (peak + 0.5) / 4 <= 12.5
    assert readings[peak].power_w < 0
    assert readings[0].power_w >= 0 and readings[0].kwh > 0  # standby at night
    daily = sum(exports)
    # A clear midsummer day in London: 4 to 7 kWh per kW peak.
    assert 16 < daily < 28
    winter_pv = PvInverter(Device("pv-1", "pv", 4.0), SEED, location=(51.48, 0.0))
    winter = sum(r.export_kwh for r in day_of(winter_pv, MIDWINTER))
    assert 0 < winter < daily / 2


def test_pv_follows_its_place():
    # A quarter of the Earth east: solar noon at 06:00 UTC.
    east = PvInverter(Device("pv-2", "pv", 4.0), SEED, location=(0.0, 90.0))
    exports = [r.export_kwh for r in day_of(east, MIDSUMMER)]
    assert 5.5 <= (int(np.argmax(exports)) + 0.5) / 4 <= 6.5
    # South of the equator the modules face north, and June is winter.
    south = ClearSkyPv(-33.9, 18.4, 4.0)
    noon = MIDSUMMER.timestamp() + 10.8 * 3600
    assert 0 < south.watts(np.array([noon]))[0] < 4000


def test_curtailment_caps_the_export():
    device = Device("pv-1", "pv", 4.0)
    free = PvInverter(device, SEED)
    capped = PvInverter(device, SEED)
    detail = capped.apply("curtail", {"max_percent": 25}, MIDSUMMER)
    assert detail == "export at most 25 % of 4 kW"
    free_day, capped_day = day_of(free, MIDSUMMER), day_of(capped, MIDSUMMER)
    for f, c in zip(free_day, capped_day, strict=True):
        assert c.export_kwh <= min(f.export_kwh, 1.0 / 4) + 1e-9
        assert c.power_w >= -1000 - 1e-6
        assert c.kwh == f.kwh  # curtailing leaves the standby draw alone
    assert sum(c.export_kwh for c in capped_day) < sum(f.export_kwh for f in free_day)
    assert max(c.export_kwh for c in capped_day) == pytest.approx(0.25, rel=1e-6)
    capped.apply("curtail", {"max_percent": 100}, MIDSUMMER + timedelta(days=1))
    assert day_of(capped, MIDSUMMER + timedelta(days=1))[48].export_kwh > 0.25


@pytest.mark.parametrize("percent", [-1, 100.5, "50", None, math.inf, False])
def test_curtailment_out_of_range_is_rejected(percent):
    pv = PvInverter(Device("pv-1", "pv", 4.0), SEED)
    with pytest.raises(Rejected):
        pv.apply("curtail", {"max_percent": percent}, MIDSUMMER)
    assert pv.max_percent == 100


# -- battery ---------------------------------------------------------------------


def battery(power_kw: float = 5.0) -> Battery:
    return Battery(Device("bat-1", "battery", power_kw), SEED)


def test_a_battery_charges_and_discharges_at_its_setpoint():
    bat = battery()
    assert (bat.limits.capacity_kwh, bat.state.soc_kwh) == (10.0, 5.0)
    (idle,) = quarters(bat, MIDWINTER, 1)
    assert idle.soc_kwh == 5.0 and idle.export_kwh == 0
    standby = idle.kwh
    assert bat.apply("battery_setpoint", {"power_kw": 2}, MIDWINTER + QUARTER) == (
        "charging at 2 kW"
    )
    hour = quarters(bat, MIDWINTER + QUARTER, 4)
    leg = math.sqrt(0.9)
    assert hour[-1].soc_kwh == pytest.approx(5 + 2 * leg)
    assert sum(r.kwh for r in hour) == pytest.approx(2 + 4 * standby, rel=0.1)
    assert all(r.power_w == pytest.approx(2000, abs=200) for r in hour)
    bat.apply("battery_setpoint", {"power_kw": -4}, MIDWINTER + 5 * QUARTER)
    half = quarters(bat, MIDWINTER + 5 * QUARTER, 2)
    assert sum(r.export_kwh for r in half) == pytest.approx(2.0)
    assert half[-1].soc_kwh == pytest.approx(5 + 2 * leg - 2 / leg)
    assert half[-1].power_w < -3500
    assert bat.apply("battery_setpoint", {"power_kw": 0}, MIDWINTER + 7 * QUARTER) == (
        "idle"
    )
    (still,) = quarters(bat, MIDWINTER + 7 * QUARTER, 1)
    assert still.soc_kwh == half[-1].soc_kwh and still.export_kwh == 0


def test_a_battery_stops_at_full_and_counts_only_what_it_took():
    bat = battery()
    bat.read(MIDWINTER, QUARTER)
    bat.apply("battery_setpoint", {"power_kw": 5}, MIDWINTER)
    day = quarters(bat, MIDWINTER, 8)
    assert day[-1].soc_kwh == pytest.approx(10.0)
    charged = sum(r.kwh for r in day) - sum(
        interval_kwh(bat.device, MIDWINTER + QUARTER * k, QUARTER, SEED).kwh
        for k in range(1, 9)
    )
    # 5 kWh stored at √0.9 took 5/√0.9 kWh from the grid, then it stopped.
    assert charged == pytest.approx(5 / math.sqrt(0.9), rel=1e-6)
    assert bat.state.mode == "idle"
    with pytest.raises(Rejected, match="full"):
        bat.apply("battery_setpoint", {"power_kw": 1}, MIDWINTER + 8 * QUARTER)


@pytest.mark.parametrize("power", [5.01, -5.5, 100, math.nan, "2", None, True])
def test_a_battery_rejects_setpoints_outside_its_limits(power):
    bat = battery()
    with pytest.raises(Rejected):
        bat.apply("battery_setpoint", {"power_kw": power}, MIDWINTER)
    assert bat.state.mode == "idle"


def test_an_empty_battery_will_not_discharge():
    bat = battery()
    bat.apply("battery_setpoint", {"power_kw": -5}, MIDWINTER)
    bat.read(MIDWINTER + timedelta(hours=2), timedelta(hours=2))
    assert bat.state.soc_kwh == 0.0
    with pytest.raises(Rejected, match="empty"):
        bat.apply("battery_setpoint", {"power_kw": -1}, MIDWINTER + timedelta(hours=2))


# -- readings and the fleet ------------------------------------------------------


def test_what_a_reading_says_depends_on_the_device():
    assert Telemetry(0.1234567, 12.34).fields() == {"kwh": 0.123457}
    assert Telemetry(0.1, 12.34).fields(power=True) == {"kwh": 0.1, "power_w": 12.3}
    assert Telemetry(0.0, -800.0, export_kwh=0.2).fields() == {
        "kwh": 0.0,
        "export_kwh": 0.2,
        "power_w": -800.0,
    }
    assert set(Telemetry(0, 0, export_kwh=0, soc_kwh=4).fields()) == {
        "kwh",
        "export_kwh",
        "power_w",
        "soc_kwh",
    }


def test_the_fleet_gives_each_kind_its_model():
    fleet = Fleet(SEED, location=(40.0, -3.7))
    kinds = {
        "meter": SwitchableLoad,
        "appliance": SwitchableLoad,
        "heat_pump": SwitchableLoad,
        "something-new": SwitchableLoad,
        "ev_charger": EvCharger,
        "pv": PvInverter,
        "battery": Battery,
    }
    for kind, cls in kinds.items():
        assert type(fleet.model(Device(f"d-{kind}", kind, 3.0))) is cls
    assert fleet.model(Device("d-pv", "pv", 3.0)) is fleet.models["d-pv"]
    # A device whose kind or limit changed gets a new model.
    assert type(fleet.model(Device("d-pv", "battery", 3.0))) is Battery
    assert fleet.apply("d-battery", "battery_setpoint", {"power_kw": 1}, MIDWINTER)
    with pytest.raises(Rejected):
        fleet.apply("unknown", "ping", {}, MIDWINTER)
    reading = fleet.read(Device("d-battery", "battery", 3.0), MIDWINTER, QUARTER)
    assert reading.soc_kwh == 3.0
