"""Hourly generation forecasts of one PV device, and their backtest: numpy, with
pvlib for the clear sky.

**Clear sky** (``clear_sky_kwh``): what one kW of peak would export in each UTC hour
at the device's place under a cloudless sky — pvlib's Ineichen clear sky on a plane
tilted towards the equator, through PVWatts (``services/common/solar.py``, the
model the simulated PV systems follow). It has the shape of the day and of the season,
and knows nothing of the device's size, orientation, shading or weather.

**The model** (method ``clear_sky_scaled``) scales that profile by the device's own
history of metered export: each whole day (24 hours back from the forecast's start)
of the last 28 whose clear sky has energy gives a ratio, exported ÷ clear-sky, and
the forecast is the clear sky ahead times the *median* of those ratios. The ratio
holds the size of the system, its losses and the place's typical weather at once;
the median keeps a day of outage or a spike from moving it, and is the level that
minimises the absolute error of a day's energy. It does not know tomorrow's
weather: a sunny day after a grey week is forecast grey.

**Weather** (method ``clear_sky_weather``, only with a provider configured,
``services/monitoring/weather.py``): the clear sky ahead times the device's
*clear-day* ratio (the 90th percentile of the daily ratios: its sunniest days) times
a cloud factor per hour, Kasten and Czeplak's ``1 − 0.75 · (cloud cover)^3.4`` (the
share of clear-sky irradiance that reaches the ground under that cover). With fewer
than ``MIN_WEATHER_DAYS`` days the 90th percentile is not a sunny day's yet, so the
model without weather is used.

**Fallbacks** (``Forecast.fallback``): no whole day of history with daylight →
``clear_sky_nominal``, the clear sky times the device's hourly limit taken as its
peak in kW (the simulator's PV systems are that size), times the cloud factor when
the weather is known: without it an upper bound, with no losses or clouds known.
A weather provider that fails or times out leaves the model
without weather, and the service says so.

**Seasonal-naive**, the baseline of the backtest, is yesterday: the same hour 24 h
earlier. A week earlier, the consumption forecast's baseline, is a weaker one for
PV, whose output follows the sun and the weather, not the days of the week.

**Backtest**: rolling origin on the device's history, as the consumption forecast's
(``forecast.backtest``): origins a day apart, each model seeing only the hours
before it. The weather is not backtested: the forecasts of cloud cover issued in
the past are not kept.
"""

from dataclasses import dataclass
from datetime import datetime

import numpy as np

# pvlib and pandas take seconds to import: monitoring pays for them when it starts,
# not in its first forecast of PV.
from services.common.solar import ClearSkyPv
from services.monitoring.forecast import DAY_HOURS, WINDOW_HOURS, Backtest, compared

#: The methods, for the people reading a forecast.
METHODS = {
    "clear_sky_scaled": "pvlib's clear sky at the device's place, times the median "
    "ratio of its metered export to the clear sky over its last 28 days",
    "clear_sky_weather": "pvlib's clear sky at the device's place, times the ratio "
    "of its sunniest days, times the cloud cover's share of sunlight (Kasten & "
    "Czeplak) from the weather forecast",
    "clear_sky_nominal": "fallback: no whole day of export history, the clear sky "
    "of a system whose peak in kW is the device's hourly limit, under the weather's "
    "cloud cover when it is known (without it, an upper bound)",
}
FALLBACKS = frozenset({"clear_sky_nominal"})
#: The percentile of daily ratios taken for a clear day.
CLEAR_DAY_PERCENTILE = 90
#: Days of ratios the weather model needs, for a 90th percentile to be sunny.
MIN_WEATHER_DAYS = 7
#: Kasten and Czeplak (1980): global irradiance under cloud cover ``c`` (0 to 1) is
#: ``1 − A · c^B`` of the clear sky's.
CLOUD_A, CLOUD_B = 0.75, 3.4
#: Samples of the clear sky's power in each hour (every five minutes).
SAMPLES_PER_HOUR = 12
HOUR_S = 3600
#: Days of clear sky kept, over every place: a few hundred PV devices' four weeks.
CLEAR_DAYS_KEPT = 20_000
#: ``{((latitude, longitude), day since the epoch): kWh of each UTC hour}``.
_CLEAR_DAYS: dict[tuple[tuple[float, float], int], np.ndarray] = {}
#: The seasonal-naive period of the backtest: yesterday.
NAIVE_PERIOD_HOURS = DAY_HOURS


@dataclass(frozen=True)
class Forecast:
    values: np.ndarray
    method: str
    #: Hours of history the method had (at most ``WINDOW_HOURS``).
    history_hours: int
    #: The ratio of export to clear sky the forecast used; None for the fallback.
    scale: float | None

    @property
    def fallback(self) -> bool:
        return self.method in FALLBACKS


def clear_sky_kwh(
    latitude: float, longitude: float, start: datetime, hours: int
) -> np.ndarray:
    """What one kW of peak exports in each of ``hours`` UTC hours from ``start``
    (an hour start) under a clear sky at the place, kWh: the mean of the power
    sampled every five minutes, at mid-interval."""
    first = int(start.timestamp()) // HOUR_S
    days = range(first // DAY_HOURS, (first + hours - 1) // DAY_HOURS + 1)
    place = (round(latitude, 4), round(longitude, 4))
    known = {day: _CLEAR_DAYS.get((place, day)) for day in days}
    known |= _clear_days(place, [day for day, kwh in known.items() if kwh is None])
    kwh = np.concatenate([known[day] for day in days])
    offset = first - days[0] * DAY_HOURS
    return kwh[offset : offset + hours]


def _clear_days(place: tuple[float, float], days: list[int]) -> dict:
    """The clear sky of the UTC ``days`` (since the epoch) at ``place``, worked out
    in one pass of pvlib and kept: a place's clear sky never changes, and a
    forecast reads four weeks of it. (Forecasts run in OS threads: the oldest
    days kept may be dropped by two at once.)"""
    if not days:
        return {}
    sky = ClearSkyPv(*place, peak_kw=1.0)
    step = HOUR_S / SAMPLES_PER_HOUR
    in_day = step / 2 + step * np.arange(DAY_HOURS * SAMPLES_PER_HOUR)
    moments = np.concatenate([day * DAY_HOURS * HOUR_S + in_day for day in days])
    watts = sky.compute(moments).reshape(len(days), DAY_HOURS, SAMPLES_PER_HOUR)
    computed = {
        day: day_watts.mean(axis=1) / 1000.0
        for day, day_watts in zip(days, watts, strict=True)
    }
    for oldest in list(_CLEAR_DAYS)[
        : max(0, len(_CLEAR_DAYS) + len(days) - CLEAR_DAYS_KEPT)
    ]:
        _CLEAR_DAYS.pop(oldest, None)
    _CLEAR_DAYS.update({(place, day): kwh for day, kwh in computed.items()})
    return computed


def cloud_factor(cloud_cover) -> np.ndarray:
    """The share of the clear sky's irradiance that reaches the ground under
    ``cloud_cover`` (fractions 0 to 1)."""
    cover = np.clip(np.asarray(cloud_cover, dtype=float), 0.0, 1.0)
    return 1.0 - CLOUD_A * cover**CLOUD_B


def daily_ratios(history, clear_history) -> np.ndarray:
    """Exported ÷ clear sky of each whole day of the history (24-hour blocks back
    from its end, the last ``WINDOW_HOURS`` only) whose clear sky has energy,
    oldest first."""
    history = np.asarray(history, dtype=float)[-WINDOW_HOURS:]
    clear = np.asarray(clear_history, dtype=float)[-len(history) :]
    days = len(history) // DAY_HOURS
    if not days:
        return np.zeros(0)
    blocks = slice(len(history) - days * DAY_HOURS, None)
    exported = history[blocks].reshape(days, DAY_HOURS).sum(axis=1)
    sunny = clear[blocks].reshape(days, DAY_HOURS).sum(axis=1)
    lit = sunny > 0
    return exported[lit] / sunny[lit]


def forecast(
    history,
    clear_history,
    clear_ahead,
    nominal_kw: float,
    cloud_cover=None,
) -> Forecast:
    """The hours of ``clear_ahead`` (clear-sky kWh per kW of peak) forecast from
    ``history`` (the device's export in the consecutive hours just before them,
    ``clear_history`` the clear sky of the same hours), with the cloud cover of
    each hour ahead if it is known."""
    history = np.asarray(history, dtype=float)
    clear_ahead = np.asarray(clear_ahead, dtype=float)
    used = min(len(history), WINDOW_HOURS)
    ratios = daily_ratios(history, clear_history)
    if not len(ratios):
        values = clear_ahead * nominal_kw
        if cloud_cover is not None:
            values = values * cloud_factor(cloud_cover)
        return Forecast(values, "clear_sky_nominal", used, None)
    if cloud_cover is not None and len(ratios) >= MIN_WEATHER_DAYS:
        scale = float(np.percentile(ratios, CLEAR_DAY_PERCENTILE))
        values = clear_ahead * scale * cloud_factor(cloud_cover)
        return Forecast(values, "clear_sky_weather", used, scale)
    scale = float(np.median(ratios))
    return Forecast(clear_ahead * scale, "clear_sky_scaled", used, scale)


def backtest(
    history, clear_history, nominal_kw: float, horizon: int = 24, folds: int = 14
) -> Backtest:
    """Rolling-origin evaluation of the model (without weather) against
    yesterday's export on ``history`` (consecutive hours; ``clear_history`` the
    clear sky of the same hours): up to ``folds`` origins a day apart, each with
    at least a day of training before it. A fold whose training has no daylit
    whole day is forecast by the fallback, as the service would."""
    history = np.asarray(history, dtype=float)
    clear = np.asarray(clear_history, dtype=float)
    n = len(history)
    min_training = NAIVE_PERIOD_HOURS
    origins = [
        origin
        for origin in (n - horizon - DAY_HOURS * fold for fold in range(folds))
        if origin >= min_training
    ]
    model, naive, actual = [np.zeros(0)], [np.zeros(0)], [np.zeros(0)]
    for origin in origins:
        ahead = clear[origin : origin + horizon]
        result = forecast(history[:origin], clear[:origin], ahead, nominal_kw)
        model.append(result.values)
        yesterday = (
            origin - NAIVE_PERIOD_HOURS + np.arange(horizon) % NAIVE_PERIOD_HOURS
        )
        naive.append(history[yesterday])
        actual.append(history[origin : origin + horizon])
    return compared(
        model,
        naive,
        actual,
        horizon,
        len(origins),
        NAIVE_PERIOD_HOURS,
        min_training + horizon,
    )
