"""What of a dead letter monitoring keeps, and where a replay may send it."""

import json

from services.common.messaging import RawMessage
from services.monitoring import dead_letters

KEY = "device.7a2e.reading"


def raw(body=b"{}", routing_key=KEY, **headers):
    return RawMessage(body, headers, "", routing_key, "application/json", "utf-8")


def test_a_reading_is_kept_with_why_who_and_where_it_came_from():
    kept = dead_letters.record(
        raw(
            b'{"kwh": 1e30}',
            "monitoring.ingest.1",
            **{
                "x-ems-reason": "kwh is absurd",
                "x-ems-service": "monitoring_worker",
                "x-ems-routing-key": KEY,
            },
        ),
        1024,
    )
    assert kept["reason"] == "kwh is absurd"
    assert kept["service"] == "monitoring_worker"
    assert (kept["exchange"], kept["routing_key"]) == ("ems.data", KEY)
    assert (kept["size"], kept["body"], kept["truncated"]) == (
        13,
        b'{"kwh": 1e30}',
        False,
    )


def test_a_long_body_keeps_its_start_and_cannot_be_replayed():
    kept = dead_letters.record(raw(b"x" * 100), 10)
    assert (kept["size"], kept["body"], kept["truncated"]) == (100, b"x" * 10, True)
    assert "only the start" in dead_letters.why_not_replayable("ems.data", True)


def test_text_postgresql_refuses_is_made_storable():
    kept = dead_letters.record(
        raw(**{"x-ems-reason": "bad\x00\ud800", "x-nul": "a\x00"}), 1024
    )
    assert kept["reason"] == "bad\ufffd?"
    assert "\x00" not in kept["headers"] and kept["headers"].isascii()
    assert json.loads(kept["headers"])["x-nul"] == "a\x00"


def test_a_replay_goes_only_to_the_platforms_data_and_sync_exchanges():
    assert dead_letters.origin_exchange({"x-ems-exchange": "ems.sync"}, "user.x")
    assert dead_letters.origin_exchange({}, "ems.devices.d.reading") == "ems.data"
    assert dead_letters.origin_exchange({}, "user.created") is None
    rpc = {"x-ems-exchange": "nameko-rpc"}
    assert dead_letters.origin_exchange(rpc, "users.create_user") is None
    assert dead_letters.origin_exchange(rpc, KEY) is None
    assert "not published to" in dead_letters.why_not_replayable(None, False)


def test_a_replay_carries_the_headers_it_was_first_published_with():
    headers = {
        "x-trace": "t",
        "x-ems-reason": "r",
        "x-ems-service": "s",
        "x-ems-exchange": "ems.sync",
        "x-ems-routing-key": KEY,
    }
    assert dead_letters.replay_headers(headers) == {"x-trace": "t"}
