"""``python -m mqtt_bridge``: run the bridge until SIGTERM or SIGINT.

Exits 0 after a stop asked for, 1 if the bridge failed (a supervisor starts it
again; nothing unacknowledged is lost).
"""

import logging
import signal
import sys
import threading
import time

import config
from mqtt_bridge.bridge import (
    MQTT_KEEPALIVE,
    SERVICE,
    Bridge,
    Publisher,
    declare_topology,
    mqtt_client,
)
from services.common.amqp import configure_logging, pika_parameters

log = logging.getLogger("mqtt_bridge")

#: How often the main thread looks for a stop while it waits.
TICK = 0.2


class StopRequest:
    """Remembers SIGTERM or SIGINT.

    The handler only sets an attribute. Setting a ``threading.Event`` there could
    deadlock: the handler runs in the main thread, which may be inside that Event's
    lock at the time.
    """

    def __init__(self, stopping: threading.Event):
        self.stopping = stopping
        self.signal = None
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, frame):
        self.signal = signal.Signals(signum).name

    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds``; True as soon as a stop is asked for, by a signal or by
        the bridge itself."""
        deadline = time.monotonic() + seconds
        while self.signal is None and not self.stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(TICK, remaining))
        return True


def run(settings: dict) -> int:
    stopping = threading.Event()
    request = StopRequest(stopping)
    if not declare_topology(settings["AMQP_URI"], request.wait):
        return 0
    bridge = Bridge(
        Publisher(pika_parameters(settings["AMQP_URI"], SERVICE), stopping), stopping
    )
    client_id = str(settings["MQTT_CLIENT_ID"])
    client = mqtt_client(client_id, bridge)
    host, port = settings["MQTT_HOST"], int(settings["MQTT_PORT"])
    log.info("bridging MQTT %s:%s as %r", host, port, client_id)
    client.connect_async(host, port, keepalive=MQTT_KEEPALIVE)
    client.loop_start()
    interval = float(settings["STATS_INTERVAL"])
    while not request.wait(interval):
        log.info("%s", bridge.stats)
    log.info("stopping (%s)", request.signal or "failure")
    bridge.stop(client)
    log.info("stopped: %s", bridge.stats)
    return 1 if bridge.failed else 0


def main() -> None:
    settings = config.load("mqtt_bridge")
    configure_logging(settings["LOG_LEVEL"], quiet=("pika", "paho"))
    sys.exit(run(settings))


if __name__ == "__main__":
    main()
