"""Routing keys of devices, and what may hear a device's commands."""

import re

import pytest

from services.common.topology import (
    ACKS,
    COMMANDS,
    DATA,
    QUEUES,
    STATUS,
    WS_GATEWAY,
    device_command_queue,
    device_key,
    device_of_key,
)

DEVICE = "7a2e0c1d-0000-4000-8000-000000000001"


def matches(binding_key: str, routing_key: str) -> bool:
    """Whether a topic exchange routes ``routing_key`` along ``binding_key``."""
    pattern = re.escape(binding_key).replace(r"\*", r"[^.]+").replace(r"\#", ".*")
    return re.fullmatch(pattern, routing_key) is not None


def test_a_device_key_names_its_device():
    for what in (COMMANDS, ACKS, STATUS):
        assert device_of_key(device_key(DEVICE, what), what) == DEVICE
    assert device_of_key(device_key(DEVICE, ACKS), COMMANDS) is None
    assert device_of_key(f"device.{DEVICE}.reading", "reading") is None
    assert device_of_key("ems.devices..acks", ACKS) is None
    assert device_of_key(f"ems.devices.{DEVICE}.acks.x", ACKS) is None


@pytest.mark.parametrize("queue", [*QUEUES, WS_GATEWAY], ids=lambda q: q.name or "ws")
def test_no_queue_of_the_platform_hears_a_device_s_commands(queue):
    """A command counts as delivered when the broker routed it to a queue; only a
    device's own queues may be bound to its commands' key."""
    command = device_key(DEVICE, COMMANDS)
    for binding in queue.bindings or [queue]:
        if binding.exchange is not None and binding.exchange.name == DATA.name:
            assert not matches(binding.routing_key or "", command), queue.name


def test_an_amqp_device_s_queue_hears_its_commands_only():
    queue = device_command_queue(DEVICE)
    assert queue.name == f"device.{DEVICE}.commands" and queue.durable
    assert matches(queue.routing_key, device_key(DEVICE, COMMANDS))
    assert not matches(queue.routing_key, device_key("other", COMMANDS))
