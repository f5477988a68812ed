"""The generation forecast: pvlib's clear sky, the scale learned from a device's
export, the weather's cloud factor, the fallback, and the backtest against
yesterday's export."""

from datetime import UTC, datetime, timedelta
from functools import cache

import numpy as np
import pytest

from services.monitoring import generation

#: Greenwich, where solar noon is about noon UTC.
GREENWICH = (51.48, 0.0)
CAPE_TOWN = (-33.9, 18.4)
JUNE = datetime(2026, 6, 21, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 21, tzinfo=UTC)


@cache
def clear(place: tuple[float, float], start: datetime, hours: int) -> np.ndarray:
    return generation.clear_sky_kwh(*place, start, hours)


# -- the clear sky ---------------------------------------------------------------


def test_the_clear_sky_is_dark_at_night_and_brightest_near_noon():
    day = clear(GREENWICH, JUNE, 24)
    assert day[:3].tolist() == [0.0] * 3 and day[22:].tolist() == [0.0] * 2
    assert int(np.argmax(day)) in (11, 12)
    # A kW of peak never gives more than a kWh an hour.
    assert 0 < day.max() <= 1.0


def test_the_clear_sky_follows_the_seasons_of_its_hemisphere():
    north_summer, north_winter = (
        clear(GREENWICH, JUNE, 24),
        clear(GREENWICH, DECEMBER, 24),
    )
    south_summer, south_winter = (
        clear(CAPE_TOWN, DECEMBER, 24),
        clear(CAPE_TOWN, JUNE, 24),
    )
    assert north_summer.sum() > 1.5 * north_winter.sum()
    assert south_summer.sum() > 1.5 * south_winter.sum()
    # Cape Town's noon is an hour and more ahead of Greenwich's, in UTC.
    assert int(np.argmax(south_summer)) < int(np.argmax(north_summer))


def test_cloud_cover_takes_a_share_of_the_clear_sky():
    factors = generation.cloud_factor([0.0, 0.5, 1.0, 1.7, -0.2])
    assert factors[0] == 1.0 and factors[2] == pytest.approx(0.25)
    assert 0.25 < factors[1] < 1.0
    # Out-of-range covers are taken at the nearest bound.
    assert factors[3] == pytest.approx(0.25) and factors[4] == 1.0


# -- forecasts ---------------------------------------------------------------------


def test_no_whole_day_of_history_forecasts_the_nominal_peak_and_says_so():
    ahead = clear(GREENWICH, JUNE, 24)
    for history in ([], [0.5] * 23):
        result = generation.forecast(
            history,
            clear(GREENWICH, JUNE - timedelta(hours=23), 23)[: len(history)],
            ahead,
            nominal_kw=4.0,
        )
        assert result.method == "clear_sky_nominal" and result.fallback
        assert result.scale is None
        np.testing.assert_allclose(result.values, ahead * 4.0)
    # The weather's clouds, when known, take their share of it.
    cover = np.linspace(0, 1, 24)
    clouded = generation.forecast([], [], ahead, 4.0, cloud_cover=cover)
    assert clouded.method == "clear_sky_nominal"
    np.testing.assert_allclose(
        clouded.values, ahead * 4.0 * generation.cloud_factor(cover)
    )


def test_the_model_scales_the_clear_sky_by_the_median_day():
    days = 10
    start = JUNE - timedelta(days=days)
    past = clear(GREENWICH, start, days * 24)
    history = past * 3.0
    history[:24] = 0.0  # a day the inverter was off
    history[24:48] *= 1.6  # a day of spikes
    history[48:72] *= 0.2  # a grey day
    ahead = clear(GREENWICH, JUNE, 24)
    result = generation.forecast(history, past, ahead, nominal_kw=99.0)
    assert result.method == "clear_sky_scaled" and not result.fallback
    assert result.history_hours == days * 24
    assert result.scale == pytest.approx(3.0)
    np.testing.assert_allclose(result.values, ahead * 3.0)


def test_with_the_weather_the_clear_day_ratio_meets_the_cloud_cover():
    days = 14
    start = JUNE - timedelta(days=days)
    past = clear(GREENWICH, start, days * 24)
    weather = np.linspace(0.3, 1.0, days)  # the share of each day's clear sky
    history = past * 5.0 * np.repeat(weather, 24)
    ahead = clear(GREENWICH, JUNE, 24)
    cover = np.full(24, 0.8)
    result = generation.forecast(history, past, ahead, 5.0, cloud_cover=cover)
    assert result.method == "clear_sky_weather" and not result.fallback
    sunniest = np.percentile(5.0 * weather, generation.CLEAR_DAY_PERCENTILE)
    assert result.scale == pytest.approx(sunniest)
    np.testing.assert_allclose(
        result.values, ahead * sunniest * generation.cloud_factor(cover)
    )
    # Under a week of days, a 90th percentile is no sunny day: no weather.
    short = generation.forecast(history[-6 * 24 :], past[-6 * 24 :], ahead, 5.0, cover)
    assert short.method == "clear_sky_scaled"


def test_a_polar_night_forecasts_nothing():
    svalbard = (78.2, 15.6)
    past = clear(svalbard, DECEMBER - timedelta(days=3), 72)
    assert past.sum() == 0.0
    result = generation.forecast(np.zeros(72), past, clear(svalbard, DECEMBER, 24), 3)
    assert result.method == "clear_sky_nominal"
    assert result.values.tolist() == [0.0] * 24


# -- backtest ------------------------------------------------------------------------


def household_pv(seed: int, days: int = 42):
    """A 4 kW system at Greenwich under weather that changes from day to day."""
    start = datetime(2026, 4, 1, tzinfo=UTC)
    past = clear(GREENWICH, start, days * 24)
    weather = np.random.default_rng(seed).uniform(0.2, 1.0, days)
    return past * 4.0 * np.repeat(weather, 24), past


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_on_days_of_changing_weather_the_model_beats_yesterday(seed):
    history, past = household_pv(seed)
    result = generation.backtest(history, past, nominal_kw=4.0)
    assert result.folds == 14 and result.hours_evaluated == 14 * 24
    assert result.seasonal_period_hours == 24
    assert result.model.mae < result.seasonal_naive.mae
    assert result.skill > 0


def test_under_a_weather_that_repeats_yesterday_wins():
    history, past = household_pv(1)
    # The weather changes once a week: yesterday is nearly always right.
    weekly = np.repeat(np.random.default_rng(4).uniform(0.2, 1.0, 6), 7 * 24)
    history = past * 4.0 * weekly
    result = generation.backtest(history, past, nominal_kw=4.0)
    assert result.skill < 0


def test_a_history_too_short_for_a_fold_says_what_it_needs():
    history, past = household_pv(1, days=1)
    result = generation.backtest(history, past, nominal_kw=4.0, horizon=24)
    assert result.folds == 0 and result.min_history_hours == 48
    assert result.model.mae is None and result.skill is None
