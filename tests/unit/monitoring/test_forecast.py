"""The consumption forecast: its fallbacks, its alignment, and its backtest against
seasonal-naive on the simulator's household profiles."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache

import numpy as np
import pytest

from services.monitoring import forecast
from simulator.profiles import Device, interval_kwh

HOUR = timedelta(hours=1)
QUARTER = timedelta(minutes=15)
#: A Monday, midnight UTC.
MONDAY = datetime(2026, 1, 5, tzinfo=UTC)
#: The simulator's default chance of a spike per reading
#: (EMS_SIMULATOR_SPIKE_PROBABILITY).
SPIKE_PROBABILITY = 0.01


def daily(days: int, start_hour: int = 0) -> np.ndarray:
    """``days`` days of a noiseless daily shape: hour h of the day uses h + 1."""
    return (np.arange(start_hour, start_hour + days * 24) % 24 + 1).astype(float)


# -- fallbacks -------------------------------------------------------------------


def test_no_history_forecasts_zeros_and_says_so():
    result = forecast.forecast([], MONDAY, 24)
    assert result.method == "no_history" and result.fallback
    assert result.history_hours == 0
    assert result.values.tolist() == [0.0] * 24


def test_under_a_day_forecasts_the_mean_of_the_hours_seen():
    result = forecast.forecast([1.0, 2.0, 6.0], MONDAY, 5)
    assert result.method == "history_mean" and result.fallback
    assert result.history_hours == 3
    assert result.values.tolist() == [3.0] * 5


def test_one_to_two_days_repeat_the_last_day():
    history = np.arange(30, dtype=float)  # ends just before MONDAY
    result = forecast.forecast(history, MONDAY, 48)
    assert result.method == "last_day" and result.fallback
    assert result.history_hours == 30
    assert result.values.tolist() == list(range(6, 30)) * 2


@pytest.mark.parametrize("hours", [48, 24 * 7, 24 * 40])
def test_from_two_days_on_the_model_runs(hours):
    result = forecast.forecast(np.ones(hours), MONDAY, 24)
    assert result.method == "profile" and not result.fallback
    assert result.history_hours == min(hours, forecast.WINDOW_HOURS)
    assert set(forecast.FALLBACKS) == set(forecast.METHODS) - {"profile"}


# -- the model -------------------------------------------------------------------


@pytest.mark.parametrize("hours", [1, 24, 48])
def test_forecast_has_the_length_asked_for(hours):
    assert len(forecast.forecast(daily(14), MONDAY, hours).values) == hours


@pytest.mark.parametrize("start_hour", [0, 7, 13, 23])
def test_forecast_is_aligned_with_the_hours_of_the_day(start_hour):
    # The history ends just before the forecast's first hour, whatever it is.
    start = MONDAY + start_hour * HOUR
    history = daily(10, start_hour)
    values = forecast.forecast(history, start, 48).values
    expected = (np.arange(start_hour, start_hour + 48) % 24 + 1).astype(float)
    assert values.tolist() == expected.tolist()


def test_forecast_is_never_negative():
    rng = np.random.default_rng(3)
    history = np.clip(rng.normal(0.05, 0.2, 24 * 21), 0, None)
    for hours_of_history in (0, 5, 30, 60, len(history)):
        values = forecast.forecast(history[:hours_of_history], MONDAY, 48).values
        assert (values >= 0).all() and np.isfinite(values).all()


def test_rare_spikes_do_not_move_the_forecast():
    history = daily(21)
    history[::37] = 50.0  # a spike every day and a half, at drifting hours
    values = forecast.forecast(history, MONDAY, 24).values
    assert values.tolist() == list(range(1, 25))


def test_weekends_get_their_own_profile_once_weekends_are_known():
    # Three weeks ending on a Monday: weekend days use twice as much.
    start = MONDAY + timedelta(days=21)
    history = np.ones(24 * 21)
    days = (np.arange(24 * 21) // 24) % 7  # day 0 is a Monday
    history[days >= 5] = 2.0
    values = forecast.forecast(history, start, 24 * 7).values
    by_day = values.reshape(7, 24)
    assert by_day[:5].tolist() == np.ones((5, 24)).tolist()
    assert by_day[5:].tolist() == np.full((2, 24), 2.0).tolist()


def test_with_less_than_a_week_a_weekend_is_forecast_from_weekdays():
    start = MONDAY + timedelta(days=5)  # Saturday; history Monday to Friday
    values = forecast.forecast(daily(5), start, 48).values
    assert values.tolist() == list(range(1, 25)) * 2


def test_recent_days_weigh_more():
    # Two weeks at 1, then a week at 3: the level changed and the model follows.
    history = np.concatenate([np.ones(24 * 14), np.full(24 * 7, 3.0)])
    values = forecast.forecast(history, MONDAY + timedelta(days=21), 24).values
    assert values.tolist() == [3.0] * 24


def test_history_older_than_the_window_is_ignored():
    history = np.concatenate([np.full(24 * 30, 9.0), np.ones(forecast.WINDOW_HOURS)])
    assert forecast.forecast(history, MONDAY, 24).values.tolist() == [1.0] * 24


# -- seasonal-naive --------------------------------------------------------------


def test_seasonal_naive_is_a_week_ago_or_a_day_ago_with_less_than_a_week():
    week = np.arange(24 * 8, dtype=float)
    assert forecast.seasonal_naive(week, 3).tolist() == [24.0, 25.0, 26.0]
    days = np.arange(24 * 3, dtype=float)
    assert forecast.seasonal_naive(days, 3).tolist() == [48.0, 49.0, 50.0]
    # Past one period the last period repeats.
    assert forecast.seasonal_naive(days, 26)[24:].tolist() == [48.0, 49.0]
    with pytest.raises(ValueError):
        forecast.seasonal_naive(np.ones(23), 3)


# -- history from stored totals --------------------------------------------------


def test_history_starts_at_the_first_total_and_is_zero_filled():
    end = MONDAY + 5 * HOUR
    totals = {
        MONDAY + HOUR: Decimal("0.5"),
        MONDAY + 3 * HOUR: Decimal("0.25"),
        end: Decimal("9"),  # the current hour: not history
    }
    assert forecast.history_from_totals(totals, end).tolist() == [0.5, 0, 0.25, 0]
    assert forecast.history_from_totals({}, end).tolist() == []
    assert forecast.history_from_totals({end: Decimal(1)}, end).tolist() == []


def test_hour_start_is_the_utc_hour():
    moment = datetime.fromisoformat("2026-11-22T11:37:12.5+01:00")
    assert forecast.hour_start(moment) == datetime(2026, 11, 22, 10, tzinfo=UTC)


# -- scores and backtest ---------------------------------------------------------


def test_mape_leaves_out_hours_whose_actual_is_zero():
    scores = forecast.scores(np.array([1.0, 1.0, 3.0]), np.array([0.0, 2.0, 2.0]))
    assert scores.mae == pytest.approx((1 + 1 + 1) / 3)
    assert scores.mape == pytest.approx(50.0)
    assert forecast.scores(np.array([1.0]), np.array([0.0])) == forecast.Scores(
        1.0, None
    )
    assert forecast.scores(np.zeros(0), np.zeros(0)) == forecast.Scores(None, None)


def test_backtest_counts_the_hours_left_out_of_mape():
    history = daily(21)
    history[-24:-20] = 0.0  # four hours without consumption in the last fold
    result = forecast.backtest(history, MONDAY + timedelta(days=21), 24, folds=3)
    assert result.folds == 3 and result.hours_evaluated == 72
    assert result.hours_excluded_from_mape == 4
    assert result.seasonal_period_hours == 168


def test_backtest_without_enough_history_evaluates_nothing():
    result = forecast.backtest(np.ones(60), MONDAY, 24)
    assert result.folds == 0 and result.hours_evaluated == 0
    assert result.model == result.seasonal_naive == forecast.Scores(None, None)
    assert result.skill is None
    assert result.min_history_hours == 48 + 24


def test_backtest_with_less_than_a_week_uses_the_daily_seasonal_naive():
    result = forecast.backtest(daily(5), MONDAY, 24, folds=14)
    assert result.seasonal_period_hours == 24
    assert result.folds == 3  # origins after 2, 3 and 4 days
    assert result.model.mae == result.seasonal_naive.mae == 0.0


def test_backtest_uses_only_the_hours_before_each_origin():
    # A level jump in the last day: no forecast made before it can know.
    history = np.concatenate([np.ones(24 * 13), np.full(24, 5.0)])
    result = forecast.backtest(history, MONDAY, 24, folds=1)
    assert result.model.mae == pytest.approx(4.0)
    assert result.seasonal_naive.mae == pytest.approx(4.0)


# -- the simulator's household profiles ------------------------------------------

KINDS = ("meter", "appliance", "heat_pump", "ev_charger", "pv", "battery")
SEED = 7


@cache
def simulated_hours(kind: str, weeks: int = 8) -> np.ndarray:
    """Hourly totals of a device the way ``ems simulate`` back-fills it: 15-minute
    readings with the default spike probability, summed per UTC hour."""
    device = Device(f"forecast-{kind}", kind, 1.0)
    hours = np.zeros(weeks * 7 * 24)
    for i in range(len(hours)):
        hour = MONDAY + i * HOUR
        ends = (hour + k * QUARTER for k in range(1, 5))
        hours[i] = sum(
            interval_kwh(device, end, QUARTER, SEED, SPIKE_PROBABILITY).kwh
            for end in ends
        )
    hours.flags.writeable = False  # cached: shared by the tests
    return hours


@pytest.mark.parametrize("kind", KINDS)
def test_the_model_beats_seasonal_naive_on_the_simulators_profiles(kind):
    """Every kind: 28 forecasts of 24 h, from 8 weeks of hourly history.

    No kind is exempt: the median profile beats seasonal-naive on all of them, the
    EV charger included, whose forecast is its standby draw (see the module
    docstring of ``services.monitoring.forecast``)."""
    hours = simulated_hours(kind)
    end = MONDAY + len(hours) * HOUR
    result = forecast.backtest(hours, end, horizon=24, folds=28)
    assert result.folds == 28 and result.hours_evaluated == 28 * 24
    assert result.seasonal_period_hours == 168
    assert result.model.mae < result.seasonal_naive.mae, (kind, result)
    assert result.skill > 0.2, (kind, result)
    if kind == "pv":
        # A PV inverter draws nothing while the sun feeds it.
        assert result.hours_excluded_from_mape > 0
    assert result.model.mape is not None and result.seasonal_naive.mape is not None


def test_the_forecast_of_a_simulated_meter_follows_its_daily_shape():
    hours = simulated_hours("meter")
    values = forecast.forecast(hours, MONDAY + len(hours) * HOUR, 24).values
    # The household shape is lowest at night and highest in the evening.
    assert values[19] > 3 * values[3]
    assert abs(values.sum() - np.median(hours.reshape(-1, 24).sum(axis=1))) < 2.0


def test_an_ev_chargers_forecast_is_its_standby_draw():
    """The known cost of forecasting the typical hour: the charger charges on 70 %
    of evenings but at no hour on more than half of the days, so every hour is
    forecast at standby and the day's sum is far below its energy."""
    hours = simulated_hours("ev_charger")
    values = forecast.forecast(hours, MONDAY + len(hours) * HOUR, 24).values
    assert values.max() < 0.01
    assert values.sum() < 0.1 * hours.reshape(-1, 24).sum(axis=1).mean()
