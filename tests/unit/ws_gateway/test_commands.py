"""A socket's ``command.send``: what the gateway answers, and its RPC to devices on a
stand-in channel."""

import asyncio
import json
import time
from types import SimpleNamespace

import pika
import pytest
from nameko.exceptions import serialize
from tornado.ioloop import IOLoop

from services.common.errors import ValidationFailed
from services.common.tokens import Identity
from services.devices.exceptions import DeviceNotFound
from ws_gateway.commands import DevicesCaller, DevicesUnavailable, answer

ALICE = Identity("alice", "USER", "jti-1", int(time.time()) + 3600, int(time.time()))
COMMAND = {"id": "c1", "device_id": "d1", "type": "ping", "status": "pending"}


class FakeDevices:
    def __init__(self, error=None):
        self.error = error
        self.calls = []

    async def send_command(self, caller, device_id, body, client=None):
        self.calls.append((caller, device_id, body))
        if self.error is not None:
            raise self.error
        return COMMAND


def reply_to(message, devices=None):
    devices = devices or FakeDevices()
    text = message if isinstance(message, str) else json.dumps(message)
    return asyncio.run(answer(devices, ALICE, text)), devices


def send(data, ref="r1"):
    return {"type": "command.send", "ref": ref, "data": data}


@pytest.mark.parametrize(
    "message", ["hello", "[1]", '{"type": "ping"}', '{"data": {}}', "[" * 10_000]
)
def test_what_is_not_a_command_is_not_answered(message):
    reply, devices = reply_to(message)
    assert reply is None and devices.calls == []


def test_a_command_goes_to_devices_as_the_socket_s_user_and_is_accepted():
    data = {"device_id": "d1", "type": "ping", "params": {}, "ttl_s": 5}
    reply, devices = reply_to(send(data))
    assert devices.calls == [
        (
            {"user_id": "alice", "role": "USER"},
            "d1",
            {"type": "ping", "params": {}, "ttl_s": 5},
        )
    ]
    assert reply["type"] == "command.accepted"
    assert (reply["ref"], reply["data"]) == ("r1", COMMAND)
    assert reply["ts"].endswith("Z")


@pytest.mark.parametrize(
    ("error", "code", "details"),
    [
        (
            ValidationFailed("invalid request", {"params": {"on": ["Not a bool."]}}),
            "VALIDATION_ERROR",
            {"params": {"on": ["Not a bool."]}},
        ),
        (DeviceNotFound(), "NOT_FOUND", {}),
        (DevicesUnavailable(), "UNAVAILABLE", {}),
    ],
)
def test_a_refusal_is_the_http_route_s_error_with_the_ref(error, code, details):
    reply, _ = reply_to(send({"device_id": "d1", "type": "x"}), FakeDevices(error))
    assert reply["type"] == "command.refused"
    assert reply["ref"] == "r1"
    assert reply["data"] == {
        "error": code,
        "message": error.message,
        "details": details,
    }


@pytest.mark.parametrize(
    ("message", "ref", "field"),
    [
        (send(None), "r1", "data"),
        (send(["d1"]), "r1", "data"),
        (send({"type": "ping"}), "r1", "device_id"),
        (send({"device_id": 7, "type": "ping"}), "r1", "device_id"),
        (send({"device_id": "d1"}, ref="x" * 201), None, "ref"),
        (send({"device_id": "d1"}, ref=5), None, "ref"),
    ],
)
def test_a_malformed_command_is_refused_without_asking_devices(message, ref, field):
    reply, devices = reply_to(message)
    assert devices.calls == []
    assert (reply["type"], reply["ref"]) == ("command.refused", ref)
    assert reply["data"]["error"] == "VALIDATION_ERROR"
    assert set(reply["data"]["details"]) == {field}


# -- the RPC ----------------------------------------------------------------------


class FakeChannel:
    def __init__(self):
        self.published = []

    def basic_publish(self, exchange, routing_key, body, properties, mandatory):
        self.published.append((exchange, routing_key, body, properties, mandatory))


def caller(timeout=1.0) -> tuple[DevicesCaller, FakeChannel]:
    devices = DevicesCaller(
        pika.URLParameters("amqp://localhost/"),
        timeout=timeout,
        ioloop=IOLoop.current(),
    )
    channel = FakeChannel()
    devices._channel, devices.queue = channel, "rpc.reply-ws_gateway-x"
    return devices, channel


def answered(devices, channel, body: dict) -> None:
    *_, properties, _ = channel.published[-1]
    devices._on_reply(
        None,
        None,
        SimpleNamespace(correlation_id=properties.correlation_id),
        json.dumps(body).encode(),
    )


def test_a_call_is_nameko_s_rpc_request_and_its_result_comes_back():
    async def scenario():
        devices, channel = caller(timeout=2.5)
        call = asyncio.ensure_future(
            devices.send_command(
                {"user_id": "alice"}, "d1", {"type": "ping"}, "203.0.113.7"
            )
        )
        await asyncio.sleep(0)
        ((exchange, key, body, properties, mandatory),) = channel.published
        assert (exchange, key, mandatory) == (
            "nameko-rpc",
            "devices.send_command",
            True,
        )
        assert json.loads(body) == {
            "args": [],
            "kwargs": {
                "caller": {"user_id": "alice"},
                "device_id": "d1",
                "body": {"type": "ping"},
                "client": "203.0.113.7",
            },
        }
        assert properties.reply_to == devices.reply_id
        assert properties.content_type == "application/json"
        assert properties.expiration == "2500"
        answered(devices, channel, {"result": COMMAND, "error": None})
        assert await call == COMMAND

    asyncio.run(scenario())


def test_devices_errors_come_back_as_themselves():
    async def scenario():
        devices, channel = caller()
        call = asyncio.ensure_future(devices.call())
        await asyncio.sleep(0)
        answered(
            devices, channel, {"result": None, "error": serialize(DeviceNotFound())}
        )
        with pytest.raises(DeviceNotFound):
            await call

    asyncio.run(scenario())


def test_a_call_without_an_answer_in_time_or_a_channel_is_unavailable():
    async def scenario():
        devices, channel = caller(timeout=0.05)
        with pytest.raises(DevicesUnavailable, match="did not answer"):
            await devices.call()
        lost = asyncio.ensure_future(devices.call())
        await asyncio.sleep(0)
        devices.forget()  # the channel is gone
        with pytest.raises(DevicesUnavailable):
            await lost
        with pytest.raises(DevicesUnavailable, match="cannot be reached"):
            await devices.call()
        assert devices._calls == {}

    asyncio.run(scenario())


def test_a_returned_request_is_unavailable_at_once():
    async def scenario():
        devices, channel = caller()
        call = asyncio.ensure_future(devices.call())
        await asyncio.sleep(0)
        *_, properties, _ = channel.published[-1]
        devices._on_return(None, None, properties, b"")
        with pytest.raises(DevicesUnavailable):
            await call

    asyncio.run(scenario())
