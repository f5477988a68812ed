"""``python -m ws_gateway``: serve ``/ws`` with its settings (``config``, process
``ws_gateway``) until SIGTERM or SIGINT, then close every socket with 1001 (going
away)."""

import asyncio
import logging
import signal
from collections.abc import Callable

from tornado.ioloop import IOLoop, PeriodicCallback

import config
from services.common import tracing
from services.common.amqp import configure_logging, pika_parameters
from services.common.metrics import (
    WS_SOCKETS_OPEN,
    Heartbeat,
    Probes,
    serve_in_thread,
)
from services.common.tokens import TokenVerifier
from services.common.topology import WS
from ws_gateway.app import GatewayApplication, SocketHandler
from ws_gateway.commands import Devices, DevicesCaller
from ws_gateway.consumer import SERVICE, Consumer
from ws_gateway.outbox import Outbox
from ws_gateway.recheck import SessionRecheck
from ws_gateway.registry import GOING_AWAY_CODE, Registry
from ws_gateway.routing import decode, destination, traced
from ws_gateway.sessions import SessionChecker

log = logging.getLogger("ws_gateway")

#: Seconds a stop gives clients to answer the close frame.
CLOSE_GRACE = 2.0


def allowed_origins(value: str | list[str]) -> list[str]:
    """``ALLOWED_ORIGINS`` as a list: the environment gives a comma-separated
    string."""
    names = value.split(",") if isinstance(value, str) else value
    return [name.strip() for name in names if name and name.strip()]


def delivery(outbox: Outbox) -> Callable[..., None]:
    """What the consumer does with a message of ``ems.ws`` (its key, body and
    headers): read it, or raise ``Undeliverable``, and hand it to the outbox."""

    def deliver(routing_key: str, body: bytes, headers: dict | None = None) -> None:
        target = destination(routing_key)
        text, message = traced(*decode(body), headers)
        token = tracing.begin(message.get("request_id"))
        try:
            outbox.add(target, text, message)
        finally:
            tracing.end(token)

    return deliver


def make_application(
    conf: dict,
    registry: Registry,
    devices: Devices | None = None,
    ready: Callable[[], dict] | None = None,
) -> GatewayApplication:
    sessions = SessionChecker(
        TokenVerifier.from_config(conf), str(conf["AUTH_VERIFY_URL"])
    )
    return GatewayApplication(
        registry,
        sessions,
        allowed_origins(conf["ALLOWED_ORIGINS"]),
        ping_interval=float(conf["PING_INTERVAL"]),
        ping_timeout=float(conf["PING_TIMEOUT"]),
        max_sockets_per_user=int(conf["MAX_SOCKETS_PER_USER"]),
        devices=devices,
        ready=ready,
    )


def consuming(consumer: Consumer) -> Callable[[], dict]:
    """Readiness: the ``ems.ws`` consumer is attached (else no push gets out)."""

    def failing() -> dict:
        return {} if consumer.consuming else {"broker": "not consuming ems.ws"}

    return failing


async def wait_closed(sockets: list[SocketHandler], timeout: float) -> None:
    """Until every socket is closed at both ends, at most ``timeout`` seconds."""
    if sockets:
        await asyncio.wait(
            [asyncio.create_task(s.gone.wait()) for s in sockets], timeout=timeout
        )


def probes(heartbeat: Heartbeat, consumer: Consumer, devices: DevicesCaller) -> Probes:
    """Alive while the IOLoop turns; ready while it consumes ``ems.ws`` and can
    call devices."""
    checks = Probes()
    checks.live("loop", heartbeat.check)
    checks.ready(
        "broker", lambda: None if consumer.is_ready else f"not consuming {WS.name}"
    )
    checks.ready(
        "devices",
        lambda: None if devices.is_ready else "no channel to send commands on",
    )
    return checks


async def serve(conf: dict) -> None:
    registry = Registry(max_pending=int(conf["MAX_PENDING"]))
    devices = DevicesCaller(
        pika_parameters(conf["AMQP_URI"], f"{SERVICE} commands"),
        timeout=float(conf["RPC_TIMEOUT"]),
    )
    outbox = Outbox(registry, IOLoop.current().add_callback)
    consumer = Consumer(pika_parameters(conf["AMQP_URI"], SERVICE), delivery(outbox))
    application = make_application(conf, registry, devices, consuming(consumer))
    # xheaders: behind Traefik, the access log shows the client's address.
    server = application.listen(
        int(conf["PORT"]), address=str(conf["ADDRESS"]), xheaders=True
    )
    consumer.start()
    devices.start()
    WS_SOCKETS_OPEN.set_function(lambda: len(registry))
    heartbeat = Heartbeat()
    PeriodicCallback(heartbeat.beat, heartbeat.interval * 1000).start()
    metrics = serve_in_thread(
        conf["METRICS"], probes(heartbeat, consumer, devices), config.ROOT_DIR
    )
    interval = float(conf["SESSION_RECHECK_INTERVAL"])
    rechecking = None
    if interval > 0:
        recheck = SessionRecheck(registry, str(conf["AUTH_SESSIONS_URL"]), interval)
        rechecking = asyncio.create_task(recheck.run())
    else:
        log.warning("open sockets are not re-checked (SESSION_RECHECK_INTERVAL 0)")
    log.info("serving /ws on %s:%s", conf["ADDRESS"], conf["PORT"])

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()

    log.info("stopping: closing %d sockets", len(registry))
    if rechecking is not None:
        rechecking.cancel()
    server.stop()
    closed = registry.close_all(GOING_AWAY_CODE, "server stopping")
    await consumer.stop()
    await devices.stop()
    await wait_closed(closed, CLOSE_GRACE)
    metrics.shutdown()
    log.info("stopped")


def main() -> None:
    conf = config.settings("ws_gateway")
    configure_logging(conf)
    asyncio.run(serve(conf))


if __name__ == "__main__":
    main()
