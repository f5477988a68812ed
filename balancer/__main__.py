"""``python -m balancer``: run the relay with ``config/balancer.yaml`` until SIGTERM
or SIGINT."""

import logging
import signal

import pika

import config as settings
from balancer.relay import Relay

CONNECTION_NAME = "balancer"


def connection_parameters(amqp_uri: str) -> pika.URLParameters:
    """pika's parameters for an AMQP URI; kombu's ``pyamqp://`` spelling, which
    Nameko settings may use, is the same protocol."""
    if amqp_uri.startswith("pyamqp://"):
        amqp_uri = "amqp://" + amqp_uri.removeprefix("pyamqp://")
    parameters = pika.URLParameters(amqp_uri)
    # How the management UI and ``rabbitmqctl list_connections`` name it.
    parameters.client_properties = {"connection_name": CONNECTION_NAME}
    return parameters


def target_queues(value: str | list[str]) -> list[str]:
    """``TARGETS`` as a list: YAML gives a list, the environment a comma-separated
    string."""
    names = value.split(",") if isinstance(value, str) else value
    return [name.strip() for name in names if name.strip()]


def make_relay(conf: dict) -> Relay:
    return Relay(
        connection_parameters(conf["AMQP_URI"]),
        target_queues(conf["TARGETS"]),
        prefetch=int(conf["PREFETCH"]),
        stats_interval=float(conf["STATS_INTERVAL"]),
        shutdown_timeout=float(conf["SHUTDOWN_TIMEOUT"]),
    )


def main() -> None:
    conf = settings.load("balancer")
    logging.basicConfig(
        level=conf["LOG_LEVEL"],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # pika logs each step of a failed connection attempt as an ERROR; the relay
    # logs the loss once, with its reason, and when it retries.
    logging.getLogger("pika").setLevel(logging.CRITICAL)
    relay = make_relay(conf)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: relay.request_stop())
    relay.run()


if __name__ == "__main__":
    main()
