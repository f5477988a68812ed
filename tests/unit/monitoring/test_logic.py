"""What a reading is, which hour it counts in, when a device overconsumes."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.common.errors import ValidationFailed
from services.monitoring import logic
from services.monitoring.exceptions import InvalidReading

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
MAX = Decimal(100)
DEVICE = "7a2e0000-0000-4000-8000-000000000001"


def reading(**changes):
    body = {
        "reading_id": "r-1",
        "device_id": DEVICE,
        "timestamp": "2026-11-22T10:15:00Z",
        "kwh": 0.12,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


KEY = f"device.{DEVICE}.reading"


def parse(body, key=KEY):
    return logic.parse_reading(body, key, NOW, MAX)


@pytest.mark.parametrize(
    "stamp, hour",
    [
        ("2026-11-22T10:15:00Z", "2026-11-22T10:00:00+00:00"),
        ("2026-11-22T11:00:00Z", "2026-11-22T10:00:00+00:00"),
        ("2026-11-22T11:00:00.000001Z", "2026-11-22T11:00:00+00:00"),
        ("2026-11-22T10:00:00.5+00:00", "2026-11-22T10:00:00+00:00"),
        ("2026-11-23T00:00:00Z", "2026-11-22T23:00:00+00:00"),
        ("2026-11-22T12:30:00+02:00", "2026-11-22T10:00:00+00:00"),
    ],
)
def test_a_reading_counts_in_the_hour_its_interval_ends_in(stamp, hour):
    assert parse(reading(timestamp=stamp)).hour.isoformat() == hour


def test_a_valid_reading_is_parsed_exactly():
    parsed = parse(reading(kwh=0.1 + 0.2))
    assert parsed.kwh == Decimal("0.300000")
    assert parsed.timestamp == datetime(2026, 11, 22, 10, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "body, reason",
    [
        ([1, 2], "JSON object"),
        (reading(kwh=...), "missing fields: kwh"),
        (
            reading(reading_id=..., timestamp=...),
            "missing fields: reading_id, timestamp",
        ),
        (reading(kwh=float("nan")), "not finite"),
        (reading(kwh=float("inf")), "not finite"),
        (reading(kwh=-0.1), "negative"),
        (reading(kwh=1e9), "absurd"),
        (reading(kwh="0.1"), "must be a number"),
        (reading(kwh=True), "must be a number"),
        (reading(timestamp="yesterday"), "unparseable"),
        (reading(timestamp=1732270500), "ISO-8601"),
        (reading(timestamp="2026-11-22T10:15:00"), "time zone"),
        (reading(timestamp="2026-11-23T12:05:01Z"), "more than 300 s ahead"),
        (reading(timestamp="2026-11-24T12:00:00Z"), "more than 300 s ahead"),
        (reading(timestamp="9999-12-31T23:59:59-23:59"), "ahead"),
        (reading(timestamp="2026-10-09T11:59:59Z"), "back-fill window \\(45 days"),
        (reading(timestamp="1970-01-01T00:00:00Z"), "back-fill window"),
        (reading(timestamp="0001-01-01T00:00:00+23:59"), "back-fill window"),
        (reading(kwh=1e30), "absurd"),
        (reading(kwh=10**400), "absurd"),
        (reading(kwh=1.7976931348623157e308), "absurd"),
        (reading(reading_id=""), "reading_id"),
        (reading(reading_id="x" * 65), "reading_id"),
        (reading(reading_id="r\x00"), "reading_id contains a NUL"),
        (reading(reading_id="r\ud800"), "reading_id is not valid Unicode"),
        (reading(device_id="\udfff"), "device_id is not valid Unicode"),
        (reading(device_id="x" * 37), "device_id"),
        (reading(device_id="other"), "routing key"),
        (reading(device_id=7), "device_id"),
    ],
)
def test_bad_readings_say_why(body, reason):
    with pytest.raises(InvalidReading, match=reason):
        parse(body)


def test_a_reading_may_carry_telemetry_besides_energy_drawn():
    parsed = parse(
        reading(
            kwh=0,
            export_kwh=0.1 + 0.2,
            power_w=-1200.5,
            soc_kwh=7,
            measurements={"voltage_v": 231.4, "temperature_c": -3},
        )
    )
    assert parsed.kwh == Decimal(0)
    assert parsed.export_kwh == Decimal("0.300000")
    assert parsed.power_w == -1200.5
    assert parsed.soc_kwh == 7.0 and isinstance(parsed.soc_kwh, float)
    assert parsed.measurements == {"voltage_v": 231.4, "temperature_c": -3.0}


def test_telemetry_absent_or_null_is_not_reported():
    for body in (
        reading(),
        reading(export_kwh=None, power_w=None, soc_kwh=None, measurements=None),
    ):
        parsed = parse(body)
        assert (
            parsed.export_kwh,
            parsed.power_w,
            parsed.soc_kwh,
            parsed.measurements,
        ) == (None, None, None, None)


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"export_kwh": "0.1"}, "export_kwh must be a number"),
        ({"export_kwh": -0.1}, "export_kwh is negative"),
        ({"export_kwh": 101}, "export_kwh 101 is absurd"),
        ({"export_kwh": float("nan")}, "export_kwh is not finite"),
        ({"export_kwh": 10**400}, "export_kwh .* is absurd"),
        ({"power_w": True}, "power_w must be a number"),
        ({"power_w": float("-inf")}, "power_w is not finite"),
        ({"power_w": -10_000_001}, "power_w -10000001 is out of range"),
        ({"power_w": 10**400}, "power_w .* is out of range"),
        ({"soc_kwh": -0.001}, "soc_kwh -0.001 is out of range"),
        ({"soc_kwh": 2e6}, "soc_kwh .* is out of range"),
        ({"soc_kwh": [1]}, "soc_kwh must be a number"),
        ({"measurements": [1, 2]}, "at most 16 numbers"),
        ({"measurements": "231 V"}, "at most 16 numbers"),
        ({"measurements": {f"m{i}": i for i in range(17)}}, "at most 16 numbers"),
        ({"measurements": {"Voltage": 1}}, "'Voltage' must be lower-case"),
        ({"measurements": {"1st": 1}}, "must be lower-case"),
        ({"measurements": {"x" * 33: 1}}, "must be lower-case"),
        ({"measurements": {"v\x00": 1}}, "must be lower-case"),
        ({"measurements": {"": 1}}, "must be lower-case"),
        ({"measurements": {"voltage_v": "231"}}, "measurements.voltage_v must be"),
        ({"measurements": {"voltage_v": None}}, "measurements.voltage_v must be"),
        ({"measurements": {"voltage_v": False}}, "measurements.voltage_v must be"),
        ({"measurements": {"t": 1e10}}, "measurements.t .* out of range"),
        ({"measurements": {"t": float("nan")}}, "measurements.t is not finite"),
    ],
)
def test_bad_telemetry_refuses_the_reading_and_says_why(changes, reason):
    with pytest.raises(InvalidReading, match=reason):
        parse(reading(**changes))


def test_telemetry_at_its_bounds_is_accepted():
    parsed = parse(
        reading(
            export_kwh=100,
            power_w=-10_000_000,
            soc_kwh=1_000_000,
            measurements={"x" * 32: -1e9, **{f"m{i}": 1e9 for i in range(15)}},
        )
    )
    assert parsed.export_kwh == Decimal(100)
    assert len(parsed.measurements) == 16


def test_readings_within_the_windows_are_accepted_at_their_edges():
    assert parse(reading(timestamp="2026-11-23T12:05:00Z"))
    assert parse(reading(timestamp="2026-10-09T12:00:00Z"))
    assert parse(reading(kwh=100)).kwh == Decimal(100)
    assert parse(reading(kwh=1e-300)).kwh == Decimal(0)


def test_the_windows_are_settings():
    late = reading(timestamp="2026-11-20T12:00:00Z")
    with pytest.raises(InvalidReading, match="back-fill window \\(2 days"):
        logic.parse_reading(late, KEY, NOW, MAX, backfill=timedelta(days=2))
    early = reading(timestamp="2026-11-23T13:00:00Z")
    assert logic.parse_reading(early, KEY, NOW, MAX, ahead=timedelta(hours=1))


@pytest.mark.parametrize(
    "key", [f"device.{DEVICE}.reading", f"ems.devices.{DEVICE}.reading", "ingest.1"]
)
def test_the_routing_key_may_name_the_device_in_either_form(key):
    assert parse(reading(), key).device_id == DEVICE
    if key != "ingest.1":
        with pytest.raises(InvalidReading, match="routing key"):
            parse(reading(device_id="other"), key)


def readings(*specs):
    return [
        logic.ParsedReading(f"r-{i}", device, NOW, hour, Decimal(kwh))
        for i, (device, hour, kwh) in enumerate(specs)
    ]


H10 = datetime(2026, 11, 22, 10, tzinfo=UTC)
H11 = datetime(2026, 11, 22, 11, tzinfo=UTC)
DEVICES = {"d": logic.DeviceLimit("u", Decimal("0.5"))}


def test_increments_add_up_per_device_hour():
    added = logic.increments(
        readings(
            ("d", H10, "0.1"), ("d", H10, "0.2"), ("d", H11, "0.4"), ("e", H10, "1")
        )
    )
    assert added == {
        ("d", H10): logic.Energy(Decimal("0.3")),
        ("d", H11): logic.Energy(Decimal("0.4")),
        ("e", H10): logic.Energy(Decimal("1")),
    }


def test_exported_energy_adds_up_apart_from_energy_drawn():
    drawn, exported, both = (
        logic.ParsedReading("r-1", "d", NOW, H10, Decimal("0.1")),
        logic.ParsedReading("r-2", "d", NOW, H10, Decimal(0), Decimal("0.25")),
        logic.ParsedReading("r-3", "d", NOW, H11, Decimal("0.2"), Decimal("0.5")),
    )
    assert logic.increments([drawn, exported, both]) == {
        ("d", H10): logic.Energy(Decimal("0.1"), Decimal("0.25")),
        ("d", H11): logic.Energy(Decimal("0.2"), Decimal("0.5")),
    }


def test_duplicates_within_a_batch_count_once():
    batch = readings(("d", H10, "0.1"), ("d", H10, "0.2"))
    assert logic.unique(batch + batch[:1]) == batch


def change(before, after, alerted=False, hour=H10):
    return logic.TotalChange("d", hour, Decimal(before), Decimal(after), alerted)


def test_an_hour_first_crossing_its_limit_alerts_once():
    [alert] = logic.alerts([], [change("0.4", "0.6")], DEVICES)
    assert (alert.reason, alert.kwh, alert.limit_kwh) == (
        "hourly",
        Decimal("0.6"),
        Decimal("0.5"),
    )
    assert logic.alerts([], [change("0.6", "0.7", alerted=True)], DEVICES) == []
    assert logic.alerts([], [change("0.4", "0.6", alerted=True)], DEVICES) == []


def test_an_hour_already_over_a_lowered_limit_alerts_at_its_next_reading():
    # The limit (0.5) was lowered under what the hour had used: the hour was never
    # announced, and ``newly_over`` marks it announced with this alert.
    [alert] = logic.alerts([], [change("0.6", "0.7")], DEVICES)
    assert (alert.reason, alert.kwh) == ("hourly", Decimal("0.7"))
    assert logic.newly_over([change("0.6", "0.7")], DEVICES) == [("d", H10)]


def test_reaching_the_limit_exactly_is_not_over_it():
    assert logic.alerts([], [change("0.4", "0.5")], DEVICES) == []


def test_one_reading_over_the_limit_alerts_for_itself_not_also_for_its_hour():
    batch = readings(("d", H10, "0.7"))
    raised = logic.alerts(batch, [change("0", "0.7")], DEVICES)
    assert [(a.reason, a.reading_id) for a in raised] == [("reading", "r-0")]


def test_hours_over_the_limit_are_marked_so_they_alert_no_more():
    changes = [
        change("0.4", "0.6"),
        change("0.1", "0.2", hour=H11),
        change("0.6", "0.9", alerted=True),
    ]
    assert logic.newly_over(changes, DEVICES) == [("d", H10)]


def test_a_day_is_24_zero_filled_utc_hours():
    energy = logic.Energy(Decimal("1.5"), Decimal("0.5"))
    series = logic.day_series(date(2026, 11, 22), {H10: energy})
    assert len(series) == 24
    assert series[0] == {
        "hour": datetime(2026, 11, 22, tzinfo=UTC),
        "kwh": 0,
        "export_kwh": 0,
    }
    assert series[10] == {
        "hour": H10,
        "kwh": Decimal("1.5"),
        "export_kwh": Decimal("0.5"),
    }
    assert sum(h["kwh"] for h in series) == Decimal("1.5")


def test_a_series_is_every_hour_of_its_range_zero_filled():
    start, end = logic.hour_range("2026-11-22T10:30:00Z", "2026-11-22T13:00:00+00:00")
    assert (start, end) == (H10, datetime(2026, 11, 22, 13, tzinfo=UTC))
    series = logic.series(start, end, {H11: logic.Energy(Decimal("2"))})
    assert [(s["hour"].hour, s["kwh"]) for s in series] == [(10, 0), (11, 2), (12, 0)]


@pytest.mark.parametrize(
    "start, end",
    [
        ("2026-11-22T10:00:00Z", "2026-11-22T10:00:00Z"),
        ("2026-11-22T10:00:00Z", "2026-11-21T10:00:00Z"),
        ("2026-11-22T10:00:00", "2026-11-22T12:00:00Z"),
        ("yesterday", "2026-11-22T12:00:00Z"),
        ("2020-01-01T00:00:00Z", "2026-11-22T12:00:00Z"),
    ],
)
def test_bad_ranges_are_refused(start, end):
    from services.common.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        logic.hour_range(start, end)


def test_device_ids_of_a_call_about_several_are_a_list_of_strings():
    assert logic.device_ids(["b", "a", "b"]) == ["b", "a"]
    assert logic.device_ids([]) == []
    for bad in (None, "a", {"a": 1}, [1], ["a", None], ["a"] * 1001):
        with pytest.raises(ValidationFailed):
            logic.device_ids(bad)
