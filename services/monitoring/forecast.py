"""Hourly consumption forecasts of one device, and their backtest: pure numpy.

**The model** (method ``profile``) forecasts each hour as the *weighted median* of
the same UTC hour of the day over the last 28 days. A day weighs half as much every
7 days back (so the profile follows a season or a change of habits within a week or
two), and days of the other type — weekday against Saturday/Sunday — weigh 0.3 of
days of the same type: a household that lives differently at weekends gets its own
weekend profile once a couple of weekends are known, while a week of history, or a
device with no weekly rhythm, still draws on every day.

Why a median of a calendar profile, and nothing cleverer:

- The error we report is MAE, and the median is the point forecast that minimises
  absolute error. Energy readings have rare, large outliers — the simulator spikes
  1 % of its readings to 1.1–1.6 times the device's limit — which drag a mean up at
  every hour of the day they fall on; a median ignores them. On the simulator's
  profiles (with its default spikes) a weighted *mean* of the same profile had 3 to
  14 % less MAE than seasonal-naive, and lost to it for some PV seeds; the median
  has 30 to 50 % less for every kind (``tests/unit/monitoring/test_forecast.py``).
- The cost, said plainly: the median forecasts the *typical* hour, not the expected
  energy. A load that runs at a given hour on fewer than half of the days — an EV
  charger's evening sessions — is forecast at its standby draw, and the sum of the
  forecast underestimates such a device's energy. Planning that needs expected kWh
  should not add these values up for intermittent devices.
- Blending in the level of the last hours (a short-term correction) was tried with
  the mean variant and made no difference or made it worse: the simulator's hours
  are independent around their profile, and real level shifts are followed by the
  day weights. Ridge regression on calendar one-hots fits the mean, so it shares the
  mean's trouble with outliers.

**Fallbacks**, chosen by the hours of history (``Forecast.fallback`` is true for
all but ``profile``): none → ``no_history`` (zeros, nothing to learn from); under a
day → ``history_mean`` (the mean of the hours seen, flat); one to two days →
``last_day`` (the last 24 hours repeated: a daily seasonal-naive forecast). From two
days on the model runs; with less than a week its weekend profile is made of
weekdays, and the other way round.

**Seasonal-naive**, the baseline: the same hour one week (168 h) earlier; with less
than a week of history, one day (24 h) earlier. A forecast longer than the period
repeats the last period.

**Backtest**: rolling origin on the device's own history. Origins step back a day
at a time from the last hour at which a whole horizon is known; at each, the model
and seasonal-naive see only the hours before it and forecast ``horizon`` hours,
which are compared with what was measured. MAE is over every forecast hour; MAPE
(percent) only over hours whose actual is above zero, and the number left out is
reported; skill is ``1 - MAE(model) / MAE(seasonal-naive)``.

Hours are UTC hour starts; a history is consecutive hours, oldest first, ending
just before the first hour to forecast.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

HOUR = timedelta(hours=1)
DAY_HOURS = 24
WEEK_HOURS = 7 * DAY_HOURS

#: The model looks back this far; older hours are not used.
WINDOW_DAYS = 28
WINDOW_HOURS = WINDOW_DAYS * DAY_HOURS
#: A day's weight halves every this many days back.
HALF_LIFE_DAYS = 7.0
#: Weight of a day of the other type (weekday / weekend) than the forecast hour's.
OTHER_DAY_TYPE_WEIGHT = 0.3
#: Below this many hours of history the model falls back.
MIN_PROFILE_HOURS = 2 * DAY_HOURS

#: What each method is, for the people reading a forecast.
METHODS = {
    "profile": "weighted median of the same hour of the day over the last "
    f"{WINDOW_DAYS} days, recent days and days of the same type weighing more",
    "last_day": "fallback: less than two days of history, the last 24 hours repeated",
    "history_mean": "fallback: less than a day of history, the mean of the hours seen",
    "no_history": "fallback: no history at all, zeros",
}
FALLBACKS = frozenset(METHODS) - {"profile"}


@dataclass(frozen=True)
class Forecast:
    values: np.ndarray
    method: str
    #: Hours of history the method had (at most ``WINDOW_HOURS``).
    history_hours: int

    @property
    def fallback(self) -> bool:
        return self.method in FALLBACKS


@dataclass(frozen=True)
class Scores:
    mae: float | None
    #: Percent, over the hours whose actual is above zero; None if there are none.
    mape: float | None


@dataclass(frozen=True)
class Backtest:
    horizon: int
    #: Origins evaluated; 0 when the history is too short for one.
    folds: int
    #: Forecast hours compared (folds × horizon; folds overlap if horizon > 24).
    hours_evaluated: int
    #: Forecast hours whose actual is 0, left out of MAPE.
    hours_excluded_from_mape: int
    #: The seasonal-naive period used: 168, or 24 with less than a week of history.
    seasonal_period_hours: int
    model: Scores
    seasonal_naive: Scores
    #: ``1 - MAE(model) / MAE(seasonal-naive)``: above 0 the model is better.
    skill: float | None
    #: Hours a backtest needs at least: the shortest training plus one horizon.
    min_history_hours: int


# -- history -------------------------------------------------------------------


def hour_start(moment: datetime) -> datetime:
    """The start of the UTC hour ``moment`` falls in."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def history_from_totals(totals: Mapping[datetime, object], end: datetime) -> np.ndarray:
    """Hourly kWh from the first hour in ``totals`` up to ``end`` (excluded),
    zero-filled: a device's hours before its first total are not history, hours
    without a total after it used nothing."""
    known = [hour for hour in totals if hour < end]
    if not known:
        return np.zeros(0)
    first = min(known)
    values = np.zeros(int((end - first) / HOUR))
    for hour in known:
        values[int((hour - first) / HOUR)] = float(totals[hour])
    return values


def _calendar(start: datetime, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hour of the day and whether it is a weekend, for hours ``offsets`` after
    ``start`` (negative: before it)."""
    start = start.astimezone(UTC)
    since_monday = start.weekday() * DAY_HOURS + start.hour + offsets
    return since_monday % DAY_HOURS, (since_monday // DAY_HOURS) % 7 >= 5


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


# -- forecasts -------------------------------------------------------------------


def profile(history: np.ndarray, start: datetime, hours: int) -> np.ndarray:
    """The model: needs at least one value of every hour of the day."""
    history = np.asarray(history, dtype=float)[-WINDOW_HOURS:]
    n = len(history)
    past_hour, past_weekend = _calendar(start, np.arange(-n, 0))
    days_back = (n - 1 - np.arange(n)) // DAY_HOURS
    decay = 0.5 ** (days_back / HALF_LIFE_DAYS)
    target_hour, target_weekend = _calendar(start, np.arange(hours))
    medians: dict[tuple[int, bool], float] = {}
    values = np.empty(hours)
    for i, key in enumerate(
        zip(target_hour.tolist(), target_weekend.tolist(), strict=True)
    ):
        if key not in medians:
            hour, weekend = key
            same = past_hour == hour
            kind = np.where(past_weekend[same] == weekend, 1.0, OTHER_DAY_TYPE_WEIGHT)
            medians[key] = _weighted_median(history[same], decay[same] * kind)
        values[i] = medians[key]
    return values


def forecast(history, start: datetime, hours: int) -> Forecast:
    """``hours`` hourly values from ``start`` on, learned from ``history`` (the
    consecutive hours just before ``start``), by the model or the fallback its
    length allows."""
    history = np.asarray(history, dtype=float)
    n = len(history)
    if n >= MIN_PROFILE_HOURS:
        return Forecast(profile(history, start, hours), "profile", min(n, WINDOW_HOURS))
    if n >= DAY_HOURS:
        values = history[n - DAY_HOURS + np.arange(hours) % DAY_HOURS]
        return Forecast(values, "last_day", n)
    if n:
        return Forecast(np.full(hours, history.mean()), "history_mean", n)
    return Forecast(np.zeros(hours), "no_history", 0)


def seasonal_naive(history, hours: int, period: int | None = None) -> np.ndarray:
    """The same hour one ``period`` earlier: by default a week, or a day with less
    than a week of history. ``ValueError`` with less than one period."""
    history = np.asarray(history, dtype=float)
    n = len(history)
    if period is None:
        period = WEEK_HOURS if n >= WEEK_HOURS else DAY_HOURS
    if n < period:
        raise ValueError(f"seasonal-naive needs {period} hours of history, not {n}")
    return history[n - period + np.arange(hours) % period]


# -- backtest --------------------------------------------------------------------


def scores(predicted: np.ndarray, actual: np.ndarray) -> Scores:
    """MAE, and MAPE in percent over the hours whose actual is above zero."""
    if not len(actual):
        return Scores(None, None)
    errors = np.abs(predicted - actual)
    measured = actual > 0
    mape = (
        float(np.mean(errors[measured] / actual[measured]) * 100)
        if measured.any()
        else None
    )
    return Scores(float(errors.mean()), mape)


def backtest(history, end: datetime, horizon: int = 24, folds: int = 14) -> Backtest:
    """Rolling-origin evaluation of the model against seasonal-naive on ``history``
    (consecutive hours ending just before ``end``): up to ``folds`` origins, a day
    apart, each with at least two days (a week when the history has one to spare)
    of training before it."""
    history = np.asarray(history, dtype=float)
    n = len(history)
    period = WEEK_HOURS if n >= WEEK_HOURS + horizon else DAY_HOURS
    min_training = max(period, MIN_PROFILE_HOURS)
    origins = [
        origin
        for origin in (n - horizon - DAY_HOURS * fold for fold in range(folds))
        if origin >= min_training
    ]
    model, naive, actual = [np.zeros(0)], [np.zeros(0)], [np.zeros(0)]
    for origin in origins:
        training = history[:origin]
        start = end - (n - origin) * HOUR
        model.append(forecast(training, start, horizon).values)
        naive.append(seasonal_naive(training, horizon, period))
        actual.append(history[origin : origin + horizon])
    return compared(
        model, naive, actual, horizon, len(origins), period, min_training + horizon
    )


def compared(
    model: list[np.ndarray],
    naive: list[np.ndarray],
    actual: list[np.ndarray],
    horizon: int,
    folds: int,
    period: int,
    min_history_hours: int,
) -> Backtest:
    """The backtest of the folds' forecasts (``model``), the baseline's (``naive``)
    and what happened (``actual``), each a list of one array per fold."""
    model, naive, actual = (np.concatenate(parts) for parts in (model, naive, actual))
    model_scores, naive_scores = scores(model, actual), scores(naive, actual)
    skill = None
    if naive_scores.mae:
        skill = 1 - model_scores.mae / naive_scores.mae
    return Backtest(
        horizon=horizon,
        folds=folds,
        hours_evaluated=len(actual),
        hours_excluded_from_mape=int(np.sum(actual <= 0)),
        seasonal_period_hours=period,
        model=model_scores,
        seasonal_naive=naive_scores,
        skill=skill,
        min_history_hours=min_history_hours,
    )
