"""Commands a socket sends: ``command.send``, handed to devices as the socket's user
and answered on the same socket.

A client sends ``{"type": "command.send", "ref": "<its own>", "data": {"device_id",
"type", "params", "ttl_s"}}``. The gateway calls ``devices.send_command`` with the
caller its handshake verified (``{"user_id", "role"}``) and the client's address
(for the audit log), the very call that ``POST /api/devices/{id}/commands`` makes,
so devices validates and decides alone;
it answers the socket ``command.accepted`` (``data``: the command) or
``command.refused`` (``data``: the error the HTTP route would answer, with the same
field errors), each with the client's ``ref``. The command's later changes reach
the socket as ``command.updated``, as they reach every socket of the user.

RPC rather than a queue that devices would consume: the refusal belongs to the one
socket that asked, and RPC brings it back to this process, and to that socket,
with no routing of its own; a request that waited in a queue while devices was
away would act long after the client was told nothing. The broker lets this
process's user call ``devices.send_command`` and nothing else (``ems/broker.py``).
Each call gives up after ``timeout`` seconds with ``UNAVAILABLE``, and its request
expires in the queue as long after, so a devices that comes back later does not
act on it (one taken just before the deadline may still be carried out: the
socket then sees its ``command.updated``). A socket's messages are handled one at
a time, so one socket has at most one call under way.
"""

import json
import logging
import uuid
from typing import Protocol

import pika
from nameko.exceptions import deserialize
from tornado.ioloop import IOLoop

from services.common import tracing
from services.common.errors import EmsError, Unavailable, ValidationFailed
from services.common.http import error_body
from services.common.pushes import COMMAND_ACCEPTED, COMMAND_REFUSED
from services.common.rpc import know_errors_of
from services.common.tokens import Identity
from services.common.topology import (
    RPC,
    WS_GATEWAY_RPC,
    client_message,
    rpc_reply_queue,
)
from ws_gateway.consumer import SERVICE, TornadoChannel

log = logging.getLogger(__name__)

#: What a client sends to have a command sent.
COMMAND_SEND = "command.send"
#: The longest ``ref`` a client may give.
MAX_REF = 200
#: Seconds a call may take unless configured otherwise.
DEFAULT_TIMEOUT = 10.0
SERVICE_NAME, _, METHOD = WS_GATEWAY_RPC.partition(".")

know_errors_of(SERVICE_NAME)


class DevicesUnavailable(Unavailable):
    """devices did not answer; try again."""


class Devices(Protocol):
    """What the socket needs of devices: ``send_command``, as the socket's user."""

    async def send_command(
        self, caller: dict, device_id: str, body: dict, client: str | None = None
    ) -> dict:
        """The command; an ``EmsError`` if refused."""


class DevicesCaller(TornadoChannel):
    """Calls ``devices.send_command`` over Nameko's RPC protocol on pika: a request
    on ``nameko-rpc`` with ``reply_to`` and ``correlation_id``, and its answer,
    ``{"result", "error"}``, on this process's own reply queue
    (``rpc.reply-ws_gateway-<uuid>``). Calls under way when the channel is lost
    fail with ``DevicesUnavailable``; the channel opens again by itself."""

    def __init__(
        self,
        parameters: pika.connection.Parameters,
        timeout: float = DEFAULT_TIMEOUT,
        ioloop: IOLoop | None = None,
    ):
        super().__init__(parameters, ioloop)
        self.timeout = timeout
        self.reply_id = str(uuid.uuid4())
        self._calls: dict[str, tuple] = {}

    # The channel and its reply queue.

    def channel_opened(self, channel) -> None:
        queue = rpc_reply_queue(SERVICE, self.reply_id)
        channel.add_on_return_callback(self._on_return)
        channel.exchange_declare(
            exchange=RPC.name, exchange_type=RPC.type, durable=RPC.durable
        )
        channel.queue_declare(
            queue=queue.name, durable=False, arguments=queue.queue_arguments
        )
        channel.queue_bind(
            queue=queue.name, exchange=RPC.name, routing_key=self.reply_id
        )
        channel.basic_consume(
            queue.name,
            self._on_reply,
            auto_ack=True,
            callback=lambda _frame: self._on_consume_ok(queue.name),
        )

    def _on_consume_ok(self, queue: str) -> None:
        self.queue = queue
        self.ready()
        log.info("calling %s, answers on %s", WS_GATEWAY_RPC, queue)

    def forget(self) -> None:
        self.queue = None
        for call_id in list(self._calls):
            self._fail(call_id, DevicesUnavailable("devices could not be reached"))

    # Calls.

    async def send_command(
        self, caller: dict, device_id: str, body: dict, client: str | None = None
    ) -> dict:
        return await self.call(
            caller=caller, device_id=device_id, body=body, client=client
        )

    async def call(self, **kwargs) -> dict:
        """``devices.send_command(**kwargs)``: its result, or the ``EmsError`` it
        raised, or ``DevicesUnavailable``."""
        if self._channel is None or not self.consuming:
            raise DevicesUnavailable("devices cannot be reached now; try again")
        call_id = str(uuid.uuid4())
        future = self.ioloop.asyncio_loop.create_future()
        timer = self.ioloop.call_later(
            self.timeout,
            self._fail,
            call_id,
            DevicesUnavailable(f"devices did not answer in {self.timeout:g} s"),
        )
        self._calls[call_id] = (future, timer)
        self._channel.basic_publish(
            RPC.name,
            WS_GATEWAY_RPC,
            json.dumps({"args": [], "kwargs": kwargs}),
            pika.BasicProperties(
                content_type="application/json",
                content_encoding="utf-8",
                reply_to=self.reply_id,
                correlation_id=call_id,
                # A request nobody took in time is dropped, not acted on late.
                expiration=str(int(self.timeout * 1000)),
                # Nameko's context: devices and what it publishes carry the id.
                headers=traced_headers(),
            ),
            mandatory=True,
        )
        return await future

    def _on_return(self, _channel, _method, properties, _body) -> None:
        # No queue took it: devices has never run on this broker.
        self._fail(properties.correlation_id, DevicesUnavailable())

    def _on_reply(self, _channel, _method, properties, body: bytes) -> None:
        call_id = properties.correlation_id
        try:
            reply = json.loads(body)
            error = reply.get("error")
        except (ValueError, AttributeError):
            log.warning("an answer of devices that is not JSON: %r", body[:200])
            self._fail(call_id, EmsError("devices answered what it cannot mean"))
            return
        if error:
            exc = deserialize(error)
            if not isinstance(exc, EmsError):
                log.warning("devices failed: %s", error.get("value"))
                exc = EmsError("the command could not be sent")
            self._fail(call_id, exc)
            return
        call = self._calls.pop(call_id, None)
        if call is not None:
            future, timer = call
            self.ioloop.remove_timeout(timer)
            if not future.done():
                future.set_result(reply.get("result"))

    def _fail(self, call_id: str, exc: Exception) -> None:
        call = self._calls.pop(call_id, None)
        if call is None:
            return
        future, timer = call
        self.ioloop.remove_timeout(timer)
        if not future.done():
            future.set_exception(exc)


def traced_headers() -> dict:
    """The correlation id of the command under way, as Nameko reads it."""
    correlation_id = tracing.current()
    return {tracing.AMQP_HEADER: correlation_id} if correlation_id else {}


def refused(ref, error: EmsError) -> dict:
    """``command.refused`` with the error's contract body."""
    body = error_body(error.code, error.message, error.details)
    return client_message(COMMAND_REFUSED.name, COMMAND_REFUSED.data(body)) | {
        "ref": ref
    }


def accepted(ref, command: dict) -> dict:
    """``command.accepted`` with the command as devices answered it."""
    return client_message(COMMAND_ACCEPTED.name, command) | {"ref": ref}


def invalid(**fields: str) -> ValidationFailed:
    return ValidationFailed(
        "invalid request", {name: [text] for name, text in fields.items()}
    )


async def answer(
    devices: Devices,
    identity: Identity,
    text: str | bytes,
    client: str | None = None,
):
    """The socket's answer to what its client sent, or None for anything but a
    ``command.send`` (clients otherwise only listen). ``client`` is the socket's
    address, which devices records with the command."""
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or message.get("type") != COMMAND_SEND:
        return None
    ref = message.get("ref")
    if ref is not None and not (isinstance(ref, str) and len(ref) <= MAX_REF):
        return refused(None, invalid(ref=f"text of at most {MAX_REF} characters"))
    data = message.get("data")
    if not isinstance(data, dict):
        return refused(ref, invalid(data="an object {device_id, type, params}"))
    body = dict(data)
    device_id = body.pop("device_id", None)
    if not isinstance(device_id, str):
        return refused(ref, invalid(device_id="the device's id"))
    caller = {"user_id": identity.user_id, "role": identity.role}
    try:
        command = await devices.send_command(caller, device_id, body, client)
    except EmsError as error:
        return refused(ref, error)
    return accepted(ref, command)
