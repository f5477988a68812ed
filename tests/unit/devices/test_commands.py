"""The catalogue of commands: which kinds take which types with what parameters, how
a status moves, and what a device's ack and presence say."""

import json

import pytest

from services.common.errors import ValidationFailed
from services.devices import commands
from services.devices.commands import (
    ACKED,
    DELIVERED,
    EXPIRED,
    PENDING,
    REJECTED,
    STATUSES,
    Ack,
    came_online,
    load_params,
    may_move,
    parse_ack,
    types_for,
)
from services.devices.exceptions import InvalidAck
from services.devices.schemas import KINDS, DeviceCommandRequestSchema

DEVICE = "7a2e0c1d-0000-4000-8000-000000000001"
COMMAND = "c41d0c1d-0000-4000-8000-000000000002"


def refusal(kind, type_name, params) -> dict:
    with pytest.raises(ValidationFailed) as refused:
        load_params(kind, type_name, params)
    return refused.value.details


def test_every_kind_takes_ping_and_the_types_of_its_own():
    assert {kind: types_for(kind) for kind in KINDS} == {
        "meter": ["ping"],
        "appliance": ["ping", "switch"],
        "heat_pump": ["ping", "switch"],
        "ev_charger": ["ping", "switch", "ev_current"],
        "pv": ["ping", "curtail"],
        "battery": ["ping", "battery_setpoint"],
    }


def test_every_kind_the_catalogue_names_is_a_device_kind():
    named = set().union(
        *(command.kinds or set() for command in commands.CATALOGUE.values())
    )
    assert named <= set(KINDS)


@pytest.mark.parametrize(
    ("kind", "type_name", "params", "loaded"),
    [
        ("meter", "ping", {}, {}),
        ("appliance", "switch", {"on": True}, {"on": True}),
        ("heat_pump", "switch", {"on": False}, {"on": False}),
        ("battery", "battery_setpoint", {"power_kw": 3}, {"power_kw": 3.0}),
        ("battery", "battery_setpoint", {"power_kw": -2.5}, {"power_kw": -2.5}),
        ("battery", "battery_setpoint", {"power_kw": 0}, {"power_kw": 0.0}),
        ("pv", "curtail", {"max_percent": 0}, {"max_percent": 0.0}),
        ("pv", "curtail", {"max_percent": 100}, {"max_percent": 100.0}),
        ("ev_charger", "ev_current", {"amps": 16}, {"amps": 16.0}),
        ("ev_charger", "ev_current", {"amps": 0}, {"amps": 0.0}),
        ("ev_charger", "switch", {"on": True}, {"on": True}),
    ],
)
def test_good_parameters_are_loaded(kind, type_name, params, loaded):
    assert load_params(kind, type_name, params) == loaded


@pytest.mark.parametrize(
    ("kind", "type_name", "params", "field"),
    [
        ("appliance", "switch", {}, "on"),
        ("appliance", "switch", {"on": "maybe"}, "on"),
        ("appliance", "switch", {"on": True, "dim": 3}, "dim"),
        ("meter", "ping", {"x": 1}, "x"),
        ("battery", "battery_setpoint", {"power_kw": 100.5}, "power_kw"),
        ("battery", "battery_setpoint", {"power_kw": -101}, "power_kw"),
        ("battery", "battery_setpoint", {"power_kw": "fast"}, "power_kw"),
        ("battery", "battery_setpoint", {"power_kw": float("nan")}, "power_kw"),
        ("pv", "curtail", {"max_percent": -1}, "max_percent"),
        ("pv", "curtail", {"max_percent": 101}, "max_percent"),
        ("ev_charger", "ev_current", {"amps": 5}, "amps"),
        ("ev_charger", "ev_current", {"amps": -1}, "amps"),
        ("ev_charger", "ev_current", {"amps": 81}, "amps"),
        ("ev_charger", "ev_current", {"amps": None}, "amps"),
    ],
)
def test_bad_parameters_are_refused_naming_the_field(kind, type_name, params, field):
    details = refusal(kind, type_name, params)
    assert set(details) == {"params"}
    assert field in details["params"]


def test_a_type_the_kind_does_not_take_is_refused_naming_what_it_takes():
    assert refusal("meter", "switch", {"on": True}) == {
        "type": ["a meter device does not take switch; it takes ping"]
    }
    assert refusal("pv", "battery_setpoint", {"power_kw": 1})["type"]


def test_an_unknown_type_or_params_not_an_object_are_refused():
    assert "type" in refusal("meter", "reboot", {})
    assert refusal("appliance", "switch", [True]) == {"params": ["must be an object"]}


def test_a_request_has_a_known_type_and_a_bounded_time_to_live():
    schema = DeviceCommandRequestSchema()
    assert schema.load({"type": "ping"}) == {"type": "ping", "params": {}, "ttl_s": 60}
    for body, field in [
        ({"type": "reboot"}, "type"),
        ({}, "type"),
        ({"type": "ping", "ttl_s": 0}, "ttl_s"),
        ({"type": "ping", "ttl_s": 86_401}, "ttl_s"),
        ({"type": "ping", "params": "on"}, "params"),
        ({"type": "ping", "when": "now"}, "when"),
    ]:
        assert field in schema.validate(body), body


# -- statuses ------------------------------------------------------------------------

#: (from, to): allowed.
MOVES = {
    (PENDING, DELIVERED): True,
    (PENDING, ACKED): True,
    (PENDING, REJECTED): True,
    (PENDING, EXPIRED): True,
    (DELIVERED, ACKED): True,
    (DELIVERED, REJECTED): True,
    (DELIVERED, EXPIRED): True,
}


@pytest.mark.parametrize("current", STATUSES)
@pytest.mark.parametrize("new", STATUSES)
def test_a_status_moves_forward_only_and_an_outcome_is_final(current, new):
    assert may_move(current, new) is MOVES.get((current, new), False)


# -- acks and presence ---------------------------------------------------------------


def ack_body(**changes) -> bytes:
    body = {"command_id": COMMAND, "status": "ok", "detail": "switched on"}
    return json.dumps(body | changes).encode()


def test_an_ack_names_its_device_by_its_routing_key():
    key = f"ems.devices.{DEVICE}.acks"
    assert parse_ack(ack_body(), key) == Ack(DEVICE, COMMAND, ACKED, "switched on")
    rejected = parse_ack(ack_body(status="rejected", detail=None), key)
    assert (rejected.status, rejected.detail) == (REJECTED, None)
    # An AMQP device may send it as JSON, which kombu decodes.
    decoded = {"command_id": COMMAND, "status": "ok"}
    assert parse_ack(decoded, key) == Ack(DEVICE, COMMAND, ACKED, None)
    assert len(parse_ack(ack_body(detail="x" * 5000), key).detail) == 500


@pytest.mark.parametrize(
    ("body", "key", "reason"),
    [
        (ack_body(), "ems.devices.x.reading", "not a device's acks"),
        (ack_body(), f"device.{DEVICE}.acks", "not a device's acks"),
        (b"\xff\xfe", None, "not UTF-8"),
        (b"ok", None, "not JSON"),
        (b"[1]", None, "not a JSON object"),
        (b"[" * 100_000, None, "not JSON"),
        (ack_body(command_id="c1"), None, "command_id"),
        (ack_body(command_id=None), None, "command_id"),
        (ack_body(status="done"), None, "status"),
        (ack_body(status=None), None, "status"),
        (ack_body(detail=["a"]), None, "detail must be text"),
        (ack_body(detail="a\u0000b"), None, "NUL"),
    ],
)
def test_anything_but_an_ack_is_refused_with_why(body, key, reason):
    with pytest.raises(InvalidAck, match=reason):
        parse_ack(body, key or f"ems.devices.{DEVICE}.acks")


@pytest.mark.parametrize(
    ("body", "online"),
    [
        (b'{"online": true}', True),
        ({"online": True}, True),
        (b'{"online": false}', False),
        (b'{"online": "yes"}', False),
        (b"online", False),
        (b"\xff", False),
    ],
)
def test_only_online_true_says_a_device_came_online(body, online):
    assert came_online(body) is online


def test_the_catalogue_tells_clients_each_type_s_kinds_and_parameters():
    described = {entry["type"]: entry for entry in commands.describe_all()}
    assert list(described) == list(commands.TYPES)
    assert described["ping"]["kinds"] is None
    assert described["ping"]["params"] == []
    assert described["switch"]["kinds"] == ["appliance", "ev_charger", "heat_pump"]
    [on] = described["switch"]["params"]
    assert on["name"] == "on"
    assert on["type"] == "boolean"
    assert (on["min"], on["max"], on["unit"]) == (None, None, None)
    [power] = described["battery_setpoint"]["params"]
    assert (power["type"], power["min"], power["max"], power["unit"]) == (
        "number",
        -commands.MAX_BATTERY_KW,
        commands.MAX_BATTERY_KW,
        "kW",
    )
    [share] = described["curtail"]["params"]
    assert (share["min"], share["max"], share["unit"]) == (0, 100, "%")
    [amps] = described["ev_current"]["params"]
    assert (amps["min"], amps["max"], amps["unit"], amps["min_nonzero"]) == (
        0,
        commands.MAX_EV_AMPS,
        "A",
        commands.MIN_EV_AMPS,
    )
    assert all(p["required"] for e in described.values() for p in e["params"])


@pytest.mark.parametrize("entry", commands.describe_all(), ids=lambda e: e["type"])
def test_the_bounds_told_are_those_the_schemas_load(entry):
    """A value at each bound told is taken, one just past it refused: what a form
    checks from the description is what the route takes."""
    kind = (entry["kinds"] or ["meter"])[0]
    for param in entry["params"]:
        if param["type"] != "number":
            continue
        for good in (param["min"], param["max"]):
            load_params(kind, entry["type"], {param["name"]: good})
        for bad in (param["min"] - 0.5, param["max"] + 0.5):
            assert (
                param["name"]
                in refusal(kind, entry["type"], {param["name"]: bad})["params"]
            )
        if param["min_nonzero"]:
            below = param["min_nonzero"] - 0.5
            assert (
                param["name"]
                in refusal(kind, entry["type"], {param["name"]: below})["params"]
            )
