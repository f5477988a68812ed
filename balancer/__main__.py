"""``python -m balancer``: run the relay with its settings (``config``, process
``balancer``) until SIGTERM or SIGINT."""

import signal

import config
from balancer.relay import Relay
from services.common.amqp import configure_logging, pika_parameters
from services.common.metrics import Heartbeat, Probes, serve_in_thread

CONNECTION_NAME = "balancer"


def target_queues(value: str | list[str]) -> list[str]:
    """``TARGETS`` as a list: the environment gives a comma-separated string."""
    names = value.split(",") if isinstance(value, str) else value
    return [name.strip() for name in names if name.strip()]


def make_relay(conf: dict) -> Relay:
    return Relay(
        pika_parameters(conf["AMQP_URI"], CONNECTION_NAME),
        target_queues(conf["TARGETS"]),
        prefetch=int(conf["PREFETCH"]),
        stats_interval=float(conf["STATS_INTERVAL"]),
        shutdown_timeout=float(conf["SHUTDOWN_TIMEOUT"]),
        max_body_bytes=int(conf["MAX_BODY_BYTES"]),
    )


def probes(relay: Relay, heartbeat: Heartbeat) -> Probes:
    """Alive while the relay's loop turns; ready while it consumes balancer.raw
    on a confirming channel."""
    checks = Probes()
    checks.live("loop", heartbeat.check)
    checks.ready(
        "broker", lambda: None if relay.is_ready else "not consuming balancer.raw"
    )
    return checks


def keep_beating(relay: Relay, heartbeat: Heartbeat) -> None:
    heartbeat.beat()
    relay.ioloop.call_later(heartbeat.interval, lambda: keep_beating(relay, heartbeat))


def main() -> None:
    conf = config.settings("balancer")
    configure_logging(conf)
    relay = make_relay(conf)
    heartbeat = Heartbeat()
    keep_beating(relay, heartbeat)
    serve_in_thread(conf["METRICS"], probes(relay, heartbeat), config.ROOT_DIR)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: relay.request_stop())
    relay.run()


if __name__ == "__main__":
    main()
