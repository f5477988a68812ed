"""Tariff pricing by local hour, and which local day and month a UTC hour counts
in: across DST in Europe/Berlin and America/New_York, and in a +05:30 zone."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.monitoring import energy, rollups
from services.monitoring.logic import Energy
from services.monitoring.tariffs import DEFAULT, SiteTerms, Tariff

TOU = {
    "currency": "EUR",
    "import_per_kwh": 0.30,
    "export_per_kwh": 0.08,
    "periods": [
        {
            "start_hour": 17,
            "end_hour": 21,
            "import_per_kwh": 0.45,
            "export_per_kwh": 0.1,
        }
    ],
}
BERLIN = SiteTerms.of_site(
    {"timezone": "Europe/Berlin", "tariff": TOU, "co2_kg_per_kwh": 0.38}
)
KOLKATA = SiteTerms.of_site({"timezone": "Asia/Kolkata", "tariff": TOU})
NEW_YORK = SiteTerms.of_site({"timezone": "America/New_York", "tariff": TOU})


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_an_hour_in_no_period_takes_the_flat_prices_and_one_in_a_period_its_own():
    tariff = Tariff.from_dict(TOU)
    assert tariff.prices_at(16) == (Decimal("0.3"), Decimal("0.08"))
    assert tariff.prices_at(17) == (Decimal("0.45"), Decimal("0.1"))
    assert tariff.prices_at(20) == (Decimal("0.45"), Decimal("0.1"))
    assert tariff.prices_at(21) == (Decimal("0.3"), Decimal("0.08"))


def test_cost_is_priced_by_the_local_hour_the_utc_hour_starts_in():
    # 16:00 UTC is 17:00 in Berlin in winter (a peak hour), 18:00 in summer.
    winter, summer = utc("2026-01-10T16:00"), utc("2026-07-10T15:00")
    kwh, export = Decimal("2.000001"), Decimal("0.5")
    assert BERLIN.cost(winter, kwh, export) == kwh * Decimal("0.45") - export * Decimal(
        "0.1"
    )
    assert BERLIN.cost(summer, kwh, export) == BERLIN.cost(winter, kwh, export)
    assert BERLIN.cost(utc("2026-01-10T15:00"), kwh, export) == kwh * Decimal(
        "0.3"
    ) - export * Decimal("0.08")
    assert BERLIN.co2_kg(kwh) == kwh * Decimal("0.38")


def test_a_site_unknown_is_utc_at_the_default_tariff():
    assert SiteTerms.of_site(None) is DEFAULT
    assert DEFAULT.cost(utc("2026-01-10T18:00"), Decimal(1), Decimal(1)) == Decimal(
        "0.22"
    )
    assert DEFAULT.co2_kg(Decimal(2)) == Decimal("0.8")


def hours_of_local_day(terms: SiteTerms, day: date) -> list[datetime]:
    start = utc(f"{day.isoformat()}T00:00") - timedelta(days=1)
    hours = [start + i * energy.HOUR for i in range(72)]
    return [hour for hour in hours if rollups.local_day(hour, terms) == day]


@pytest.mark.parametrize(
    ("terms", "day", "count"),
    [
        (BERLIN, date(2026, 3, 29), 23),
        (BERLIN, date(2026, 10, 25), 25),
        (BERLIN, date(2026, 6, 1), 24),
        (NEW_YORK, date(2026, 3, 8), 23),
        (NEW_YORK, date(2026, 11, 1), 25),
        (KOLKATA, date(2026, 6, 1), 24),
    ],
)
def test_a_local_day_has_the_hours_that_start_in_it(terms, day, count):
    hours = hours_of_local_day(terms, day)
    assert len(hours) == count
    # Consecutive, and what the answer's range says a day covers.
    assert hours == [hours[0] + i * energy.HOUR for i in range(count)]
    window = energy.Range("day", day, day + energy.DAY)
    assert energy.hours_of(window, terms.zone) == (hours[0], hours[-1] + energy.HOUR)


def test_in_a_half_hour_zone_the_day_boundary_falls_mid_hour():
    # 18:00 UTC starts at 23:30 in Kolkata: wholly in that day; 19:00 (00:30) in
    # the next.
    assert rollups.local_day(utc("2026-06-01T18:00"), KOLKATA) == date(2026, 6, 1)
    assert rollups.local_day(utc("2026-06-01T19:00"), KOLKATA) == date(2026, 6, 2)
    assert hours_of_local_day(KOLKATA, date(2026, 6, 2))[0] == utc("2026-06-01T19:00")
    # Priced by the local hour it starts in: 11:00 UTC is 16:30, off-peak; 12:00
    # is 17:30, peak.
    assert KOLKATA.tariff.prices_at(KOLKATA.local_start(utc("2026-06-01T11:00")).hour)[
        0
    ] == Decimal("0.3")
    assert KOLKATA.cost(utc("2026-06-01T12:00"), Decimal(1), Decimal(0)) == Decimal(
        "0.45"
    )


def test_increments_add_to_days_and_months_what_the_hours_get():
    added = {
        ("a", utc("2026-03-31T21:00")): Energy(Decimal("1.5"), Decimal("0.25")),
        ("a", utc("2026-03-31T22:00")): Energy(Decimal("2"), Decimal(0)),
        ("b", utc("2026-03-31T22:00")): Energy(Decimal("1"), Decimal(0)),
    }
    days, months = rollups.increments(added, {"a": BERLIN})
    # 22:00 UTC on 31 March is midnight of 1 April in Berlin (CEST, +02:00).
    assert set(days) == {
        ("a", date(2026, 3, 31)),
        ("a", date(2026, 4, 1)),
        ("b", date(2026, 3, 31)),
    }
    assert set(months) == {
        ("a", date(2026, 3, 1)),
        ("a", date(2026, 4, 1)),
        ("b", date(2026, 3, 1)),
    }
    hour = rollups.of_hour(
        utc("2026-03-31T21:00"), added[("a", utc("2026-03-31T21:00"))], BERLIN
    )
    assert days[("a", date(2026, 3, 31))] == hour
    assert hour.cost == Decimal("1.5") * Decimal("0.3") - Decimal("0.25") * Decimal(
        "0.08"
    )
    assert days[("b", date(2026, 3, 31))].cost == Decimal("0.30")


def test_a_range_is_whole_buckets_and_too_many_or_none_is_refused():
    berlin, now = BERLIN.zone, utc("2026-03-29T12:00")
    window = energy.resolve("day", date(2026, 3, 1), date(2026, 4, 1), berlin, now)
    assert len(window.keys()) == 31
    months = energy.resolve("month", date(2026, 1, 15), None, berlin, now)
    assert (months.start, months.end) == (date(2026, 1, 1), date(2027, 1, 1))
    hours = energy.resolve("hour", date(2026, 3, 29), date(2026, 3, 30), berlin, now)
    assert len(hours.keys()) == 23
    assert energy.bucket_start("day", date(2026, 3, 29), berlin) == (
        "2026-03-29T00:00:00+01:00"
    )
    assert energy.bucket_start("day", date(2026, 3, 30), berlin) == (
        "2026-03-30T00:00:00+02:00"
    )
    with pytest.raises(Exception) as refused:
        energy.resolve("day", date(2026, 3, 2), date(2026, 3, 1), berlin, now)
    assert "to" in refused.value.details
    with pytest.raises(Exception) as refused:
        energy.resolve("hour", date(2020, 1, 1), date(2026, 1, 1), berlin, now)
    assert "to" in refused.value.details


def test_an_export_pages_through_a_range_after_the_last_key():
    window = energy.Range("day", date(2026, 1, 1), date(2026, 1, 11))
    first = energy.page(window, None, 4)
    second = energy.page(window, first.keys()[-1].isoformat(), 4)
    third = energy.page(window, second.keys()[-1].isoformat(), 4)
    assert first.keys() + second.keys() + third.keys() == window.keys()
    assert len(third.keys()) == 2
