"""A PV system's output under a clear sky, from pvlib.

pvlib's clear sky (Ineichen, with the Linke turbidity pvlib ships for the place) is
turned onto a plane tilted towards the equator, and PVWatts' module and inverter
models make the AC power of a system of ``peak_kw``: a crude but honest shape,
zero at night, highest near solar noon, higher in summer than in winter.
Deterministic, with no weather: clouds are for the generation forecast to guess.
The simulator's PV systems and monitoring's generation forecast share it.
"""

import numpy as np
import pandas as pd
import pvlib

DAY = 86_400
#: A day's power is computed once a minute and interpolated in between.
STEP = 60
#: How many days' curves a system keeps (a live run needs one or two).
CACHED_DAYS = 4
#: The plane of the modules: tilted this much, towards the equator.
TILT_DEGREES = 30.0
#: PVWatts' default system losses (soiling, shading, wiring, mismatch…).
SYSTEM_LOSSES = 0.14
#: PVWatts' power temperature coefficient of a standard module, per °C.
GAMMA_PDC = -0.0037
#: The inverter's nominal efficiency; it delivers at most ``peak_kw``.
INVERTER_EFFICIENCY = 0.96
#: A mild day, for the cells' temperature (°C, m/s).
AIR_TEMPERATURE = 20.0
WIND_SPEED = 1.0


class ClearSkyPv:
    """The AC power (W) of a PV system of ``peak_kw`` at a place, under a clear sky.

    ``peak_kw`` is both the modules' DC rating at standard conditions and the
    inverter's AC limit, so a cold, bright noon may clip at it.
    """

    def __init__(self, latitude: float, longitude: float, peak_kw: float):
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ValueError(f"not a place on Earth: {latitude}, {longitude}")
        if not peak_kw > 0:
            raise ValueError(f"peak_kw must be positive, not {peak_kw!r}")
        self.location = pvlib.location.Location(latitude, longitude, tz="UTC")
        self.peak_w = peak_kw * 1000.0
        # Facing the equator: south in the northern hemisphere, north in the south.
        self.azimuth = 180.0 if latitude >= 0 else 0.0
        self.days: dict[int, np.ndarray] = {}

    def watts(self, moments: np.ndarray) -> np.ndarray:
        """The AC power at ``moments`` (epoch seconds), ≥ 0 and ≤ the peak."""
        moments = np.asarray(moments, dtype=float)
        power = np.zeros(moments.shape)
        grid = np.arange(0, DAY + STEP, STEP, dtype=float)
        days = np.floor(moments / DAY).astype(int)
        for day in np.unique(days):
            inside = days == day
            power[inside] = np.interp(
                moments[inside] - day * DAY, grid, self.day_curve(int(day))
            )
        return power

    def day_curve(self, day: int) -> np.ndarray:
        """The power at every ``STEP`` of UTC day ``day`` (days since the epoch),
        both midnights included."""
        if day not in self.days:
            if len(self.days) >= CACHED_DAYS:
                self.days.pop(next(iter(self.days)))
            self.days[day] = self.compute(day * DAY + np.arange(0, DAY + STEP, STEP))
        return self.days[day]

    def compute(self, moments: np.ndarray) -> np.ndarray:
        times = pd.DatetimeIndex(pd.to_datetime(moments, unit="s", utc=True))
        sun = self.location.get_solarposition(times)
        sky = self.location.get_clearsky(times, solar_position=sun)
        plane = pvlib.irradiance.get_total_irradiance(
            TILT_DEGREES,
            self.azimuth,
            sun["apparent_zenith"],
            sun["azimuth"],
            sky["dni"],
            sky["ghi"],
            sky["dhi"],
        )["poa_global"]
        cells = pvlib.temperature.faiman(plane, AIR_TEMPERATURE, WIND_SPEED)
        dc = pvlib.pvsystem.pvwatts_dc(plane, cells, self.peak_w, GAMMA_PDC)
        ac = pvlib.inverter.pvwatts(
            dc * (1 - SYSTEM_LOSSES),
            self.peak_w / INVERTER_EFFICIENCY,
            eta_inv_nom=INVERTER_EFFICIENCY,
        )
        ac = np.nan_to_num(np.asarray(ac, dtype=float), nan=0.0)
        return np.clip(ac, 0.0, self.peak_w)
