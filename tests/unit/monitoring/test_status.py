"""When a device is online, what a batch of readings tells of it, and what a
presence message says."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.monitoring import status
from services.monitoring.exceptions import InvalidPresence
from services.monitoring.logic import DeviceLimit, ParsedReading, hour_of

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
A = "7a2e0000-0000-4000-8000-00000000000a"
B = "7a2e0000-0000-4000-8000-00000000000b"
DEVICES = {
    A: DeviceLimit("owner-a", Decimal(1), reading_interval_s=60),
    B: DeviceLimit("owner-b", Decimal(1), reading_interval_s=900),
}
RULE = status.OfflineRule(intervals=3, grace=timedelta(seconds=30))


def reading(device_id, seconds_ago, **telemetry):
    stamp = NOW - timedelta(seconds=seconds_ago)
    return ParsedReading(
        f"r-{device_id}-{seconds_ago}",
        device_id,
        stamp,
        hour_of(stamp),
        Decimal("0.1"),
        **telemetry,
    )


def test_a_device_may_be_silent_for_a_few_intervals_and_a_grace():
    assert RULE.silence(60) == timedelta(seconds=210)
    assert RULE.silence(900) == timedelta(seconds=2730)


def test_the_rule_comes_from_the_settings_or_the_defaults():
    rule = status.OfflineRule.from_settings(
        {"OFFLINE_AFTER_INTERVALS": "2", "OFFLINE_GRACE_SECONDS": "1.5"}
    )
    assert rule == status.OfflineRule(2, timedelta(seconds=1.5))
    assert status.OfflineRule.from_settings({}) == status.OfflineRule(
        3, timedelta(seconds=30)
    )


def test_a_batch_tells_when_each_device_was_last_heard_from_in_device_order():
    seen = status.sightings(
        [reading(B, 100), reading(A, 300), reading(A, 20), reading(A, 50)],
        DEVICES,
        NOW,
        RULE,
    )
    assert [(s.device_id, s.seen_at) for s in seen] == [
        (A, NOW - timedelta(seconds=20)),
        (B, NOW - timedelta(seconds=100)),
    ]
    assert [(s.user_id, s.reading_interval_s) for s in seen] == [
        ("owner-a", 60),
        ("owner-b", 900),
    ]


@pytest.mark.parametrize(
    ("device_id", "seconds_ago", "fresh"),
    [
        (A, 0, True),
        (A, 210, True),
        (A, 211, False),
        (B, 2730, True),
        (B, 2731, False),
        (A, -120, True),  # stamped ahead: seen now, no later
    ],
)
def test_a_reading_is_fresh_while_its_device_could_still_be_online(
    device_id, seconds_ago, fresh
):
    [seen] = status.sightings([reading(device_id, seconds_ago)], DEVICES, NOW, RULE)
    assert seen.fresh is fresh
    assert seen.seen_at <= NOW


def test_the_newest_power_and_charge_are_kept_each_from_its_own_reading():
    [seen] = status.sightings(
        [
            reading(A, 30, power_w=-500.0, soc_kwh=4.0),
            reading(A, 10, power_w=1200.0),
            reading(A, 20, soc_kwh=4.5),
            reading(A, 5),
        ],
        DEVICES,
        NOW,
        RULE,
    )
    assert (seen.power_w, seen.power_at) == (1200.0, NOW - timedelta(seconds=10))
    assert (seen.soc_kwh, seen.soc_at) == (4.5, NOW - timedelta(seconds=20))
    assert seen.seen_at == NOW - timedelta(seconds=5)


def test_a_device_without_power_or_charge_reports_none():
    [seen] = status.sightings([reading(A, 5)], DEVICES, NOW, RULE)
    assert (seen.power_w, seen.power_at, seen.soc_kwh, seen.soc_at) == (None,) * 4


def test_a_change_of_status_is_notified_as_online_or_offline():
    assert status.DeviceStatus(A, "u", 60, online=True).reason == "online"
    assert status.DeviceStatus(A, "u", 60, online=False).reason == "offline"


def test_a_device_never_heard_from_is_offline_and_never_seen():
    assert status.from_state(None, A, "u", 60) == status.DeviceStatus(A, "u", 60)


KEY = f"ems.devices.{A}.status"


@pytest.mark.parametrize(
    "body",
    [
        {"online": True},
        json.dumps({"online": True}),
        json.dumps({"online": True}).encode(),
        {"online": True, "firmware": "1.2"},
    ],
)
def test_a_presence_says_the_device_of_its_routing_key_is_online(body):
    assert status.parse_presence(body, KEY) == status.Presence(A, True)


def test_a_will_says_it_is_offline():
    assert status.parse_presence(b'{"online": false}', KEY) == status.Presence(A, False)


@pytest.mark.parametrize(
    ("body", "key", "reason"),
    [
        ({"online": True}, "ems.devices.not-an-id.status", "names no device"),
        ({"online": True}, f"ems.devices.{A}.reading", "names no device"),
        ({"online": True}, f"device.{A}.status", "names no device"),
        ({"online": True}, "ems.devices..status", "names no device"),
        ({"online": True}, f"ems.devices.{A.upper()}.status", "names no device"),
        (b"{not json", KEY, "not JSON"),
        (b"\xff\xfe", KEY, "not JSON"),
        ({}, KEY, '{"online": true}'),
        ({"online": "yes"}, KEY, '{"online": true}'),
        ({"online": 1}, KEY, '{"online": true}'),
        ([True], KEY, '{"online": true}'),
        (b"true", KEY, '{"online": true}'),
        (b"[" * 100_000, KEY, "not JSON"),
    ],
)
def test_garbage_is_refused_with_why(body, key, reason):
    with pytest.raises(InvalidPresence, match=reason.replace("{", "\\{")):
        status.parse_presence(body, key)
