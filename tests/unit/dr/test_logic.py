"""Demand-response rules: status, windows, the 10-in-10 baseline, reductions,
incentives and flexibility."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.dr import logic

D = Decimal


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


# 2026-11-18 is a Wednesday, 2026-11-21 a Saturday.
WEDNESDAY = date(2026, 11, 18)
SATURDAY = date(2026, 11, 21)
LATER = date(2026, 12, 31)  # "today", long after every event below


# -- status and windows --------------------------------------------------------------


@pytest.mark.parametrize(
    "now, expected",
    [
        (at(WEDNESDAY, 16), "scheduled"),
        (at(WEDNESDAY, 17) - timedelta(microseconds=1), "scheduled"),
        (at(WEDNESDAY, 17), "active"),
        (at(WEDNESDAY, 18) + timedelta(minutes=59), "active"),
        (at(WEDNESDAY, 19), "finished"),
        (at(LATER, 0), "finished"),
    ],
)
def test_status_follows_the_time(now, expected):
    assert logic.status(at(WEDNESDAY, 17), at(WEDNESDAY, 19), None, now) == expected


def test_a_cancelled_event_stays_cancelled():
    cancelled = at(WEDNESDAY, 10)
    for now in (at(WEDNESDAY, 11), at(WEDNESDAY, 18), at(LATER, 0)):
        assert (
            logic.status(at(WEDNESDAY, 17), at(WEDNESDAY, 19), cancelled, now)
            == "cancelled"
        )


NOW = datetime(2026, 11, 22, 19, 15, tzinfo=UTC)


def test_a_good_window_has_no_errors():
    start = datetime(2026, 11, 23, 17, tzinfo=UTC)
    assert logic.window_errors(start, start + timedelta(hours=2), NOW) == {}
    assert logic.window_errors(start, start + timedelta(hours=24), NOW) == {}


@pytest.mark.parametrize(
    "start, end, expected",
    [
        (NOW.replace(minute=0), NOW.replace(minute=0, hour=21), {"start"}),  # past
        (
            datetime(2026, 11, 23, 17, 30, tzinfo=UTC),
            datetime(2026, 11, 23, 19, tzinfo=UTC),
            {"start"},
        ),
        (
            datetime(2026, 11, 23, 17, tzinfo=UTC),
            datetime(2026, 11, 23, 17, tzinfo=UTC),
            {"end"},
        ),
        (
            datetime(2026, 11, 23, 17, tzinfo=UTC),
            datetime(2026, 11, 23, 16, tzinfo=UTC),
            {"end"},
        ),
        (
            datetime(2026, 11, 23, 17, tzinfo=UTC),
            datetime(2026, 11, 24, 18, tzinfo=UTC),
            {"end"},
        ),  # 25 hours
        (
            datetime(2028, 1, 1, 0, tzinfo=UTC),
            datetime(2028, 1, 1, 1, tzinfo=UTC),
            {"start"},
        ),  # too far ahead
        (
            # 17:00 in India is 11:30 UTC: not a whole UTC hour.
            datetime.fromisoformat("2026-11-23T17:00:00+05:30"),
            datetime(2026, 11, 23, 13, tzinfo=UTC),
            {"start"},
        ),
    ],
    ids=["past", "half hour", "empty", "backwards", "too long", "far", "offset"],
)
def test_bad_windows_name_their_fields(start, end, expected):
    assert set(logic.window_errors(start, end, NOW)) == expected


def test_moments_beyond_the_calendar_in_utc_are_refused_not_crashed_on():
    first = datetime.fromisoformat("0001-01-01T00:00:00+01:00")
    last = datetime.fromisoformat("9999-12-31T23:00:00-01:00")
    assert logic.window_errors(first, last, NOW) == {
        "start": ["is out of range"],
        "end": ["is out of range"],
    }


def test_an_event_crossing_midnight_touches_two_days():
    assert logic.event_days(
        at(WEDNESDAY, 22), at(WEDNESDAY, 22) + timedelta(hours=4)
    ) == {
        WEDNESDAY,
        WEDNESDAY + timedelta(days=1),
    }
    # Ending at midnight exactly does not touch the next day.
    assert logic.event_days(at(WEDNESDAY, 22), at(WEDNESDAY + timedelta(1), 0)) == {
        WEDNESDAY
    }


# -- eligible days -----------------------------------------------------------------


def weekdays_before(day: date, count: int) -> list[date]:
    found, candidate = [], day
    while len(found) < count:
        candidate -= timedelta(days=1)
        if candidate.weekday() < 5:
            found.append(candidate)
    return found


def test_a_weekday_event_uses_the_last_ten_weekdays():
    days = logic.eligible_days(WEDNESDAY, set(), LATER)
    assert days == weekdays_before(WEDNESDAY, 10)
    assert days[0] == date(2026, 11, 17) and days[-1] == date(2026, 11, 4)
    assert all(day.weekday() < 5 for day in days)


def test_a_weekend_event_uses_weekend_days_only_and_fewer_if_fewer_exist():
    days = logic.eligible_days(SATURDAY, set(), LATER)
    assert all(day.weekday() >= 5 for day in days)
    # 30 days before Saturday 21 November hold 8 weekend days.
    assert days == [
        date(2026, 11, 15),
        date(2026, 11, 14),
        date(2026, 11, 8),
        date(2026, 11, 7),
        date(2026, 11, 1),
        date(2026, 10, 31),
        date(2026, 10, 25),
        date(2026, 10, 24),
    ]


def test_days_of_other_events_are_skipped():
    excluded = {date(2026, 11, 17), date(2026, 11, 12)}
    days = logic.eligible_days(WEDNESDAY, excluded, LATER)
    assert len(days) == 10 and not excluded & set(days)
    assert days[0] == date(2026, 11, 16)
    assert days[-1] == date(2026, 11, 2)


def test_the_lookback_is_limited_to_thirty_days():
    every_weekday = set(weekdays_before(WEDNESDAY, 19))  # 17 Nov to 22 Oct
    days = logic.eligible_days(WEDNESDAY, every_weekday, LATER)
    # 30 days back from 18 November reach 19 October.
    assert days == [date(2026, 10, 21), date(2026, 10, 20), date(2026, 10, 19)]
    assert logic.eligible_days(WEDNESDAY, every_weekday, LATER, lookback=20) == []


def test_only_days_already_over_count():
    # Seen on Monday 16 November, a Wednesday event can use Friday 13th and back.
    days = logic.eligible_days(WEDNESDAY, set(), date(2026, 11, 16))
    assert days[0] == date(2026, 11, 13) and len(days) == 10


def test_the_history_span_covers_every_candidate_day():
    start, end = at(WEDNESDAY, 22), at(WEDNESDAY, 22) + timedelta(hours=4)
    first, last = logic.history_span(start, end, LATER)
    assert first == start - timedelta(days=30)
    assert last == end - timedelta(days=1)
    first, last = logic.history_span(start, end, date(2026, 11, 16))
    assert (first, last) == (start - timedelta(days=32), end - timedelta(days=3))


# -- the baseline --------------------------------------------------------------------


def load_on(days: list[date], hours: dict[int, list[Decimal]]) -> dict:
    """``hours[h][i]``: the load at ``h`` o'clock on ``days[i]``."""
    return {
        at(day, hour): values[i]
        for hour, values in hours.items()
        for i, day in enumerate(days)
    }


def test_the_baseline_is_the_mean_of_the_same_hours():
    days = weekdays_before(WEDNESDAY, 10)
    load = load_on(
        days,
        {
            17: [D(i + 1) / 10 for i in range(10)],  # 0.1 … 1.0: mean 0.55
            18: [D(2)] * 10,
            19: [D(9)] * 10,  # after the event: not in it
        },
    )
    load[at(date(2026, 11, 15), 17)] = D(100)  # a Sunday: not eligible
    expected = logic.baseline(at(WEDNESDAY, 17), at(WEDNESDAY, 19), load, days)
    assert expected.hours == {at(WEDNESDAY, 17): D("0.55"), at(WEDNESDAY, 18): D(2)}
    assert expected.days == tuple(days) and expected.note is None


def test_a_baseline_of_fewer_days_says_so():
    days = weekdays_before(WEDNESDAY, 3)
    load = load_on(days, {17: [D(1), D(2), D(4)]})
    expected = logic.baseline(at(WEDNESDAY, 17), at(WEDNESDAY, 18), load, days)
    assert expected.hours == {at(WEDNESDAY, 17): D("2.333333")}  # to the micro-kWh
    assert expected.note == "only 3 eligible days of 10"


def test_without_eligible_days_the_baseline_is_zero():
    expected = logic.baseline(at(WEDNESDAY, 17), at(WEDNESDAY, 19), {}, [])
    assert expected.hours == {at(WEDNESDAY, 17): 0, at(WEDNESDAY, 18): 0}
    assert expected.note == "no eligible day in the last 30 days: baseline 0"


def test_an_event_across_midnight_compares_with_the_night_after_each_day():
    days = [date(2026, 11, 17), date(2026, 11, 16)]
    load = {
        at(date(2026, 11, 17), 23): D(1),
        at(date(2026, 11, 18), 0): D(3),  # the night after Tuesday 17th
        at(date(2026, 11, 16), 23): D(2),
        at(date(2026, 11, 17), 0): D(5),
    }
    expected = logic.baseline(
        at(WEDNESDAY, 23), at(WEDNESDAY + timedelta(days=1), 1), load, days
    )
    assert list(expected.hours.values()) == [D("1.5"), D(4)]


# -- results ---------------------------------------------------------------------------


def test_reduction_counts_each_hour_below_the_baseline_and_the_incentive_follows():
    days = weekdays_before(WEDNESDAY, 10)
    load = load_on(days, {17: [D(2)] * 10, 18: [D(2)] * 10, 19: [D(1)] * 10})
    load[at(WEDNESDAY, 17)] = D("0.5")  # 1.5 below
    load[at(WEDNESDAY, 18)] = D("1.25")  # 0.75 below
    load[at(WEDNESDAY, 19)] = D(3)  # 2 above: no negative reduction
    result = logic.participant_result(
        "u-1", at(WEDNESDAY, 17), at(WEDNESDAY, 20), load, days, D("0.3")
    )
    assert [row["reduction_kwh"] for row in result["hours"]] == [
        D("1.5"),
        D("0.75"),
        D(0),
    ]
    assert result["baseline_kwh"] == D(5)
    assert result["actual_kwh"] == D("4.75")
    assert result["reduction_kwh"] == D("2.25")
    assert result["incentive"] == D("0.675")
    assert result["baseline_days"] == 10 and result["baseline_note"] is None
    assert logic.totals([result, result]) == {
        "reduction_kwh": D("4.5"),
        "incentive": D("1.35"),
    }


def test_the_incentive_is_rounded_to_six_decimals():
    days = weekdays_before(WEDNESDAY, 3)
    load = load_on(days, {17: [D(1), D(1), D(2)]})  # baseline 1.333333
    result = logic.participant_result(
        "u-1", at(WEDNESDAY, 17), at(WEDNESDAY, 18), load, days, D("0.333333")
    )
    assert result["reduction_kwh"] == D("1.333333")
    assert result["incentive"] == D("0.444444")


def test_series_of_several_devices_add_up():
    load = logic.sum_series(
        [
            [{"hour": "2026-11-18T17:00:00Z", "kwh": 0.1}],
            [
                {"hour": "2026-11-18T17:00:00Z", "kwh": 0.2},
                {"hour": "2026-11-18T18:00:00Z", "kwh": 0},
            ],
        ]
    )
    assert load == {at(WEDNESDAY, 17): D("0.3"), at(WEDNESDAY, 18): D(0)}


# -- flexibility -------------------------------------------------------------------


def test_batteries_are_read_defensively():
    batteries = logic.parse_batteries(
        [
            {"user_id": "u-1", "max_discharge_kw": 5, "available_kwh": 4},
            {"user_id": "u-2", "max_discharge_kw": 3.5, "available_kwh": "0.5"},
            {
                "user_id": "u-3",
                "device_id": "d-3",
                "max_discharge_kw": 2,
                "available_kwh": 1,
            },
        ]
    )
    assert batteries == [
        logic.Battery("u-1", D(5), D(4)),
        logic.Battery("u-2", D("3.5"), D("0.5")),
        logic.Battery("u-3", D(2), D(1), "d-3"),
    ]
    for reply in (
        None,
        {"u-1": []},
        [{"max_discharge_kw": 1, "available_kwh": 1}],
        [{"user_id": "u", "max_discharge_kw": -1, "available_kwh": 1}],
        [{"user_id": "u", "max_discharge_kw": "NaN", "available_kwh": 1}],
        [{"user_id": "u", "max_discharge_kw": True, "available_kwh": 1}],
        [{"user_id": "u", "available_kwh": 1}],
        [{"user_id": "u", "device_id": 7, "max_discharge_kw": 1, "available_kwh": 1}],
        # A battery of unknown charge is not taken for a full one.
        [{"user_id": "u", "max_discharge_kw": 3, "soc_kwh": 5}],
    ):
        with pytest.raises(ValueError):
            logic.parse_batteries(reply)


def test_a_battery_gives_what_it_can_sustain_through_the_window():
    assert logic.discharge_headroom_kw(logic.Battery("u", D(5), D(4)), 2) == D(2)
    assert logic.discharge_headroom_kw(logic.Battery("u", D(1), D(4)), 2) == D(1)
    assert logic.discharge_headroom_kw(logic.Battery("u", D(3), D(0)), 8) == D(0)


def test_flexibility_adds_opted_in_load_and_battery_headroom():
    start, end = at(WEDNESDAY, 17), at(WEDNESDAY, 19)
    baselines = [
        logic.Baseline({at(WEDNESDAY, 17): D("1.5"), at(WEDNESDAY, 18): D(1)}, ()),
        logic.Baseline({at(WEDNESDAY, 17): D("0.5"), at(WEDNESDAY, 18): D(2)}, ()),
    ]
    batteries = [logic.Battery("u-1", D(5), D(4)), logic.Battery("u-2", D(1), D(9))]
    offer = logic.flexibility(start, end, baselines, batteries)
    assert [
        (row["opted_in_load_kw"], row["flexibility_kw"]) for row in offer["hours"]
    ] == [(D(2), D(5)), (D(3), D(6))]
    assert offer["battery_count"] == 2 and offer["battery_headroom_kw"] == D(3)
    # The weakest hour is what holds through the window.
    assert offer["opted_in_load_kw"] == D(2) and offer["flexibility_kw"] == D(5)


def test_flexibility_without_participants_is_zero():
    offer = logic.flexibility(at(WEDNESDAY, 17), at(WEDNESDAY, 18), [], [])
    assert offer["flexibility_kw"] == 0 and offer["battery_count"] == 0
    assert len(offer["hours"]) == 1
