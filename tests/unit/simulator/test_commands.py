"""What a simulated device answers to each command message."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from simulator.commands import (
    Behaviour,
    Command,
    CommandHandler,
    Unreadable,
    parse_command,
)
from simulator.devices import Battery, SwitchableLoad
from simulator.profiles import Device

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def body(**fields) -> bytes:
    command = {
        "command_id": "c-1",
        "type": "ping",
        "params": {},
        "expires_at": "2026-11-22T10:05:00Z",
    }
    command.update(fields)
    return json.dumps({k: v for k, v in command.items() if v is not ...}).encode()


class Recording:
    """A model's ``apply`` that records its calls."""

    def __init__(self, model):
        self.model, self.calls = model, []

    def __call__(self, command_type, params, at):
        self.calls.append((command_type, params, at))
        return self.model.apply(command_type, params, at)


def handler(behaviour=Behaviour.OBEY, kind="battery"):
    model = (Battery if kind == "battery" else SwitchableLoad)(
        Device("d-1", kind, 5.0), seed=1
    )
    apply = Recording(model)
    return CommandHandler(apply, behaviour), apply, model


def test_a_command_is_parsed():
    command = parse_command(body(type="curtail", params={"max_percent": 50}))
    assert command == Command(
        "c-1", "curtail", {"max_percent": 50}, datetime(2026, 11, 22, 10, 5, tzinfo=UTC)
    )
    assert parse_command(body(params=..., expires_at=...)) == Command("c-1", "ping")
    naive = parse_command(body(expires_at="2026-11-22T10:05:00"))
    assert naive.expires_at.tzinfo is UTC
    offset = parse_command(body(expires_at="2026-11-22T11:05:00+01:00"))
    assert offset.expires_at == datetime(2026, 11, 22, 10, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "payload, command_id",
    [
        (b"not json", None),
        (b"[1, 2]", None),
        (body(command_id=...), None),
        (body(command_id=""), None),
        (body(command_id=7), None),
        (body(type=...), "c-1"),
        (body(type=""), "c-1"),
        (body(params=[1]), "c-1"),
        (body(expires_at="soon"), "c-1"),
        (body(expires_at=5), "c-1"),
    ],
)
def test_what_is_not_a_command(payload, command_id):
    with pytest.raises(Unreadable) as unreadable:
        parse_command(payload)
    assert unreadable.value.command_id == command_id


def test_an_obeyed_command_is_applied_and_answered_ok():
    commands, apply, model = handler()
    response = commands.handle(
        body(type="battery_setpoint", params={"power_kw": 2.5}), NOW
    )
    assert response.ack == {
        "command_id": "c-1",
        "status": "ok",
        "detail": "charging at 2.5 kW",
    }
    assert not response.silent
    assert apply.calls == [("battery_setpoint", {"power_kw": 2.5}, NOW)]
    assert model.state.power_kw == 2.5


def test_every_device_answers_ping():
    for kind in ("battery", "meter"):
        commands, apply, _ = handler(kind=kind)
        assert commands.handle(body(), NOW).ack["status"] == "ok"
        assert apply.calls == []


def test_a_command_the_device_cannot_do_is_rejected_with_the_reason():
    commands, _, model = handler()
    too_much = commands.handle(
        body(type="battery_setpoint", params={"power_kw": 50}), NOW
    )
    assert too_much.ack["status"] == "rejected"
    assert "between -5 (discharge) and 5 (charge)" in too_much.ack["detail"]
    other = commands.handle(body(command_id="c-2", type="switch"), NOW)
    assert other.ack["status"] == "rejected" and "switch" in other.ack["detail"]
    assert model.state.mode == "idle"


def test_an_expired_command_is_rejected_not_applied():
    commands, apply, _ = handler()
    expired = body(type="battery_setpoint", params={"power_kw": 1})
    late = NOW + timedelta(minutes=5)
    response = commands.handle(expired, late)
    assert response.ack == {
        "command_id": "c-1",
        "status": "rejected",
        "detail": "expired at 2026-11-22T10:05:00Z",
    }
    assert apply.calls == []
    # One without expires_at never expires.
    forever = body(command_id="c-2", expires_at=...)
    assert commands.handle(forever, late + timedelta(days=300)).ack["status"] == "ok"


def test_a_malformed_command_with_an_id_is_rejected_one_without_is_dropped():
    commands, _, _ = handler()
    response = commands.handle(body(params="full power"), NOW)
    assert response.ack == {
        "command_id": "c-1",
        "status": "rejected",
        "detail": "params must be an object",
    }
    dropped = commands.handle(b"{}", NOW)
    assert dropped.ack is None and "no command_id" in dropped.note


def test_a_redelivered_command_is_answered_again_but_applied_once():
    commands, apply, model = handler()
    message = body(type="battery_setpoint", params={"power_kw": -1})
    first = commands.handle(message, NOW)
    again = commands.handle(message, NOW + timedelta(seconds=30))
    assert again.ack == first.ack and len(apply.calls) == 1
    # Even after it expired: the answer was already given.
    assert commands.handle(message, NOW + timedelta(hours=1)).ack == first.ack


def test_a_rejecting_device_rejects_everything():
    commands, apply, _ = handler(Behaviour.REJECT)
    for n, message in enumerate([body(), body(type="battery_setpoint")]):
        response = commands.handle(message.replace(b"c-1", f"r-{n}".encode()), NOW)
        assert response.ack["status"] == "rejected"
        assert response.ack["command_id"] == f"r-{n}"
    assert apply.calls == []


def test_an_ignoring_device_answers_nothing():
    commands, apply, _ = handler(Behaviour.IGNORE)
    response = commands.handle(body(), NOW)
    assert response.ack is None and not response.silent and apply.calls == []


def test_a_silent_device_goes_silent_at_its_first_command():
    commands, apply, _ = handler("silent")
    response = commands.handle(body(), NOW)
    assert response.silent and response.ack is None and apply.calls == []
