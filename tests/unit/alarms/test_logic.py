"""What each type of rule finds on what is known of a device, which rule decides,
and when people are told."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.alarms import evaluation, logic
from services.alarms.logic import DeviceFacts

NOW = datetime(2026, 12, 2, 14, 30, tzinfo=UTC)
HOUR = datetime(2026, 12, 2, 14, tzinfo=UTC)


def rule(type, threshold=None, duration_min=None, severity="major", **scope):
    return SimpleNamespace(
        id=f"rule-{type}-{severity}",
        type=type,
        severity=severity,
        threshold=None if threshold is None else Decimal(str(threshold)),
        duration_min=duration_min,
        device_id=scope.get("device_id"),
        room_id=scope.get("room_id"),
        site_id=scope.get("site_id"),
        kind=scope.get("kind"),
    )


def test_energy_over_holds_above_the_limit_and_says_so():
    found = logic.observe(
        rule("energy_over", 2), "Heat pump", DeviceFacts(HOUR, Decimal("3.2")), NOW
    )
    assert found.holds and found.value == Decimal("3.2") and found.unit == "kWh"
    assert found.message == (
        "Heat pump used 3.2 kWh in the hour from 14:00 UTC, over its 2 kWh limit"
    )
    at_limit = logic.observe(
        rule("energy_over", 2), "Heat pump", DeviceFacts(HOUR, Decimal(2)), NOW
    )
    assert not at_limit.holds


def test_nothing_is_found_without_the_facts():
    for kind, threshold, minutes in (
        ("energy_over", 1, None),
        ("power_over", 100, 5),
        ("offline", None, 5),
        ("no_reading", None, 5),
        ("generation_below_forecast", 30, None),
        ("soc_below", 20, None),
    ):
        assert (
            logic.observe(rule(kind, threshold, minutes), "x", DeviceFacts(), NOW)
            is None
        )


def power(lowest, first_at, count, power_w=3000.0, power_at=NOW, interval=60):
    return DeviceFacts(
        online=True,
        reading_interval_s=interval,
        power_w=power_w,
        power_at=power_at,
        power_floor={10: (lowest, first_at, count)},
    )


def test_power_over_holds_when_every_reading_of_the_window_is_over():
    start = NOW - timedelta(minutes=10)
    over = power(2600.0, start + timedelta(seconds=30), 10)
    assert logic.observe(rule("power_over", 2500, 10), "Oven", over, NOW).holds
    dipped = power(2400.0, start + timedelta(seconds=30), 10)
    assert not logic.observe(rule("power_over", 2500, 10), "Oven", dipped, NOW).holds


def test_power_over_waits_until_the_readings_cover_the_window():
    start = NOW - timedelta(minutes=10)
    # The first reading over came only 5 minutes ago.
    late = power(2600.0, start + timedelta(minutes=5), 5)
    assert not logic.observe(rule("power_over", 2500, 10), "Oven", late, NOW).holds
    # The device went quiet: its newest power is old.
    stale = power(
        2600.0, start + timedelta(seconds=10), 3, power_at=NOW - timedelta(minutes=5)
    )
    assert not logic.observe(rule("power_over", 2500, 10), "Oven", stale, NOW).holds
    none = power(None, None, 0)
    assert not logic.observe(rule("power_over", 2500, 10), "Oven", none, NOW).holds


def test_offline_counts_minutes_since_it_went_offline():
    facts = DeviceFacts(online=False, since=NOW - timedelta(minutes=16))
    found = logic.observe(rule("offline", duration_min=15), "Meter", facts, NOW)
    assert found.holds and found.value == 16 and found.unit == "min"
    assert found.message == "Meter has been offline for 16 minutes"
    online = DeviceFacts(online=True, since=NOW - timedelta(hours=3))
    assert not logic.observe(
        rule("offline", duration_min=15), "Meter", online, NOW
    ).holds


def test_no_reading_waits_for_a_first_reading():
    never = DeviceFacts(online=False, last_seen=None)
    assert not logic.observe(rule("no_reading", duration_min=5), "M", never, NOW).holds
    silent = DeviceFacts(online=True, last_seen=NOW - timedelta(minutes=7))
    found = logic.observe(rule("no_reading", duration_min=5), "M", silent, NOW)
    assert found.holds and found.value == 7


def test_generation_below_forecast_by_a_share():
    last = HOUR - timedelta(hours=1)
    facts = DeviceFacts(
        generated_hour=last, generated_kwh=Decimal("0.6"), forecast_kwh=Decimal("2")
    )
    found = logic.observe(rule("generation_below_forecast", 50), "Roof", facts, NOW)
    assert found.holds and found.value == Decimal(70)
    assert "70 % below its forecast of 2 kWh" in found.message
    assert not logic.observe(
        rule("generation_below_forecast", 80), "Roof", facts, NOW
    ).holds
    night = DeviceFacts(
        generated_hour=last, generated_kwh=Decimal(0), forecast_kwh=Decimal("0.01")
    )
    assert not logic.observe(
        rule("generation_below_forecast", 10), "Roof", night, NOW
    ).holds


def test_soc_below_a_level():
    found = logic.observe(
        rule("soc_below", 20), "Battery", DeviceFacts(soc_pct=12.5), NOW
    )
    assert found.holds and found.value == Decimal("12.5") and found.unit == "%"
    assert not logic.observe(
        rule("soc_below", 20), "Battery", DeviceFacts(soc_pct=20.0), NOW
    ).holds


def test_the_most_severe_rule_that_holds_decides():
    facts = DeviceFacts(HOUR, Decimal(6))
    found = [
        logic.observe(rule("energy_over", 2, severity="minor"), "x", facts, NOW),
        logic.observe(rule("energy_over", 5, severity="critical"), "x", facts, NOW),
        logic.observe(rule("energy_over", 9, severity="warning"), "x", facts, NOW),
    ]
    assert logic.deciding(found).severity == "critical"
    assert logic.deciding([found[2]]) is None


@pytest.mark.parametrize(
    ("clock", "start", "end", "quiet"),
    [
        ("23:30", "22:00", "07:00", True),
        ("06:59", "22:00", "07:00", True),
        ("07:00", "22:00", "07:00", False),
        ("12:00", "22:00", "07:00", False),
        ("13:00", "12:00", "14:00", True),
        ("14:00", "12:00", "14:00", False),
        ("13:00", None, None, False),
    ],
)
def test_quiet_hours(clock, start, end, quiet):
    hours, minutes = map(int, clock.split(":"))
    local = datetime(2026, 12, 2, hours, minutes, tzinfo=ZoneInfo("Europe/Berlin"))
    assert logic.in_quiet_hours(local, start, end) is quiet


def test_a_digest_is_due_once_a_day_from_its_hour():
    local = datetime(2026, 12, 2, 8, 5, tzinfo=ZoneInfo("Europe/London"))
    assert logic.digest_due(local, 8, None)
    assert logic.digest_due(local, 8, date(2026, 12, 1))
    assert not logic.digest_due(local, 8, date(2026, 12, 2))
    assert not logic.digest_due(local, 9, None)


def test_an_alarm_concerns_the_owner_and_the_site_s_members_once_each():
    members = [{"user_id": "a", "role": "owner"}, {"user_id": "b", "role": "viewer"}]
    assert logic.recipients("a", members) == ["a", "b"]
    assert logic.recipients(None, members) == ["a", "b"]


def device(id, kind="meter", site_id="s1", room_id=None, name=None):
    return SimpleNamespace(
        id=id, kind=kind, site_id=site_id, room_id=room_id, name=name or id, user_id="u"
    )


def test_what_each_rule_watches():
    devices = [
        device("d1", "meter", "s1", "r1"),
        device("d2", "pv", "s1"),
        device("d3", "pv", "s2"),
    ]
    rules = [
        rule("offline", duration_min=5, device_id="d1"),
        rule("no_reading", duration_min=5, room_id="r1"),
        rule("offline", duration_min=9, site_id="s1", kind="pv"),
        rule("generation_below_forecast", 20, kind="pv"),
        rule("energy_over", 10, site_id="s1"),
        rule("soc_below", 10, site_id="s2"),
    ]
    coverage = evaluation.covered(rules, devices)
    assert {d: [r.type for r in rs] for d, rs in coverage.devices.items()} == {
        "d1": ["offline", "no_reading"],
        "d2": ["offline", "generation_below_forecast"],
        "d3": ["generation_below_forecast", "soc_below"],
    }
    # energy on a whole site is the site's total, raised on the site
    assert list(coverage.sites) == ["s1"]
    assert ("s1", "energy_over") in evaluation.watched(coverage)


def test_a_site_total_is_only_judged_when_every_device_s_energy_is_known():
    devices = {"d1": device("d1"), "d2": device("d2")}
    site = SimpleNamespace(
        id="s1", name="Home", members=[{"user_id": "u", "role": "owner"}]
    )
    coverage = evaluation.covered(
        [rule("energy_over", 5, site_id="s1")], devices.values()
    )
    facts = {"d1": DeviceFacts(HOUR, Decimal(3)), "d2": DeviceFacts(HOUR, Decimal(3))}
    found, originators = evaluation.observe_all(
        coverage, facts, devices, {"s1": site}, {"s1": ["d1", "d2"]}, NOW
    )
    assert found[("s1", "energy_over")][0].holds
    assert found[("s1", "energy_over")][0].value == Decimal(6)
    assert originators["s1"].type == "site" and originators["s1"].user_id == "u"
    partial, _ = evaluation.observe_all(
        coverage, {"d1": facts["d1"]}, devices, {"s1": site}, {"s1": ["d1", "d2"]}, NOW
    )
    assert ("s1", "energy_over") not in partial


def watches(rule, device) -> bool:
    """A rule's reach, said plainly: what ``covered`` must agree with."""
    if rule.device_id:
        return rule.device_id == device.id
    if rule.room_id:
        return rule.room_id == device.room_id
    if rule.kind and rule.kind != device.kind:
        return False
    if rule.site_id:
        return rule.site_id == device.site_id
    return bool(rule.kind)


small = st.sampled_from
devices_drawn = st.lists(
    st.builds(
        device,
        id=small(["d1", "d2", "d3", "d4"]),
        kind=small(["meter", "pv", "battery"]),
        site_id=small(["s1", "s2", None]),
        room_id=small(["r1", "r2", None]),
    ),
    unique_by=lambda d: d.id,
)
rules_drawn = st.lists(
    st.one_of(
        st.builds(rule, st.just("offline"), device_id=small(["d1", "d2", "d9"])),
        st.builds(rule, st.just("offline"), room_id=small(["r1", "r2"])),
        st.builds(
            rule,
            small(["offline", "energy_over"]),
            site_id=small(["s1", "s2"]),
            kind=small(["meter", "pv", None]),
        ),
        st.builds(rule, st.just("soc_below"), kind=small(["battery", "pv"])),
    )
)


@given(rules_drawn, devices_drawn)
def test_coverage_is_each_rule_s_reach(rules, devices):
    coverage = evaluation.covered(rules, devices)
    for item in devices:
        expected = [
            r
            for r in rules
            if watches(r, item)
            and not (r.site_id and not r.kind and r.type == "energy_over")
        ]
        assert coverage.devices.get(item.id, []) == expected
    assert set(coverage.sites) == {
        r.site_id for r in rules if r.site_id and not r.kind and r.type == "energy_over"
    }
