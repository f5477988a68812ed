"""The balancer as a process (``python -m balancer``) on a real broker, in the test's
virtual host: split, fallback and dead-lettering, and a crash mid-stream."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from amqp.exceptions import NotFound
from kombu import Connection

import config
from config import variables as v
from config.environment import environment as config_environment
from services.common.topology import (
    BALANCER_RAW,
    DATA,
    DEAD,
    REASON_HEADER,
    RECEIVED_AT_HEADER,
    ROUTING_KEY_HEADER,
    SERVICE_HEADER,
    ingest_queue,
    reading_key,
)

INGEST = [ingest_queue(1).name, ingest_queue(2).name]
READY = "relaying balancer.raw"


def eventually(condition, timeout: float, what: str, interval: float = 0.1):
    """Wait for ``condition()`` to be true, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"never: {what}")
        time.sleep(interval)


class BalancerProcess:
    """``python -m balancer`` as Procfile runs it, its output in ``log_path``."""

    def __init__(self, amqp_uri: str, log_path: Path, **environment: str):
        self.log_path = log_path
        self.env = {
            **os.environ,
            "PYTHONWARNINGS": "ignore",
            **config_environment(
                {v.BROKER_LOGINS["balancer"]: amqp_uri, v.BALANCER_STATS_INTERVAL: 1}
            ),
            **environment,
        }
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20.0) -> "BalancerProcess":
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as stream:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "balancer"],
                cwd=config.ROOT_DIR,
                env=self.env,
                stdout=stream,
                stderr=subprocess.STDOUT,
            )

        def ready() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"balancer exited:\n{self.log()}")
            return READY in self.log()[offset:]

        eventually(ready, timeout, f"balancer ready:\n{self.log()}")
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, as honcho stops it; the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=15)

    def cleanup(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=15)


class Broker:
    """The test's side of the vhost: publishes readings, counts and drains queues."""

    def __init__(self, amqp_uri: str):
        self.connection = Connection(
            amqp_uri, transport_options={"confirm_publish": True}
        )
        self.producer = self.connection.Producer()

    def publish(self, number: int, device: str = "d1") -> None:
        """A reading, persistent and confirmed, with its number as message id."""
        self.producer.publish(
            json.dumps({"device_id": device, "n": number}).encode(),
            exchange=DATA.name,
            routing_key=reading_key(device),
            headers={"x-test-n": number, "x-test-device": device},
            message_id=f"m-{number}",
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
        )

    def count(self, queue: str) -> int | None:
        """Ready messages of ``queue``, None if there is no such queue."""
        channel = self.connection.channel()
        try:
            return channel.queue_declare(queue=queue, passive=True).message_count
        except NotFound:
            return None
        finally:
            if channel.is_open:
                channel.close()

    def consumers(self, queue: str) -> int:
        return self.connection.default_channel.queue_declare(
            queue=queue, passive=True
        ).consumer_count

    def drain(self, queue: str) -> list:
        """Every message now ready in ``queue``, taken off it."""
        messages, channel = [], self.connection.default_channel
        while (message := channel.basic_get(queue=queue, no_ack=True)) is not None:
            messages.append(message)
        return messages

    def delete(self, queue: str) -> None:
        self.connection.default_channel.queue_delete(queue=queue)

    def close(self) -> None:
        self.connection.release()


@pytest.fixture
def broker(rabbit_config):
    broker = Broker(rabbit_config["AMQP_URI"])
    yield broker
    broker.close()


@pytest.fixture
def balancer(rabbit_config, tmp_path):
    """Makes balancer processes of the test's vhost; kills what is left at the end."""
    processes = []

    def make(**environment: str) -> BalancerProcess:
        process = BalancerProcess(
            rabbit_config["AMQP_URI"], tmp_path / "balancer.log", **environment
        )
        processes.append(process)
        return process

    yield make
    for process in processes:
        process.cleanup()


def headers(message) -> dict:
    return message.properties.get("application_headers") or {}


def test_readings_are_split_evenly_and_arrive_intact(broker, balancer):
    relay = balancer().start()
    for number in range(100):
        broker.publish(number, device=f"d{number % 7}")
    eventually(lambda: sum(broker.count(q) for q in INGEST) == 100, 20, "100 forwarded")
    assert relay.stop() == 0
    # Stopped, so anything it had left unacked would be ready again.
    assert broker.count(BALANCER_RAW.name) == 0
    assert broker.consumers(BALANCER_RAW.name) == 0

    received = {queue: broker.drain(queue) for queue in INGEST}
    assert [len(messages) for messages in received.values()] == [50, 50]
    for message in received[INGEST[0]] + received[INGEST[1]]:
        number = headers(message)["x-test-n"]
        device = f"d{number % 7}"
        assert json.loads(message.body) == {"device_id": device, "n": number}
        received_at = float(headers(message).pop(RECEIVED_AT_HEADER))
        assert time.time() - 120 < received_at <= time.time()
        assert headers(message) == {
            "x-test-n": number,
            "x-test-device": device,
            ROUTING_KEY_HEADER: f"device.{device}.reading",
        }
        assert message.properties["message_id"] == f"m-{number}"
        assert message.properties["content_type"] == "application/json"
        assert message.properties["delivery_mode"] == 2
    assert {
        headers(m)["x-test-n"] for m in received[INGEST[0]] + received[INGEST[1]]
    } == set(range(100))
    assert (
        f"stopped: forwarded {INGEST[0]}=50, {INGEST[1]}=50; dead-lettered 0; "
        "requeued 0" in relay.log()
    )


def test_unroutable_readings_fall_back_then_go_to_dead(broker, balancer):
    relay = balancer().start()
    broker.delete(INGEST[1])
    for number in range(50):
        broker.publish(number)
    eventually(lambda: broker.count(INGEST[0]) == 50, 20, "50 in the other queue")
    assert broker.count(INGEST[1]) is None
    first = broker.drain(INGEST[0])
    assert sorted(headers(m)["x-test-n"] for m in first) == list(range(50))

    broker.delete(INGEST[0])  # Now no ingest queue is left.
    for number in range(50, 100):
        broker.publish(number)
    eventually(lambda: broker.count(DEAD.name) == 50, 20, "50 dead-lettered")
    assert relay.stop() == 0
    assert broker.count(BALANCER_RAW.name) == 0

    dead = broker.drain(DEAD.name)
    assert sorted(headers(m)["x-test-n"] for m in dead) == list(range(50, 100))
    for message in dead:
        assert message.delivery_info["routing_key"] == reading_key("d1")
        assert headers(message)[REASON_HEADER] == "unroutable: no ingest queue"
        assert headers(message)[SERVICE_HEADER] == "balancer"
        assert headers(message)["x-test-device"] == "d1"
    assert "dead-lettered 50" in relay.log()


def test_a_crash_mid_stream_loses_nothing(broker, balancer, rabbit_config):
    total, published = 2000, []
    relay = balancer().start()
    assert relay.stop() == 0  # The queues are declared; let readings pile up.

    def publish_all():
        publisher = Broker(rabbit_config["AMQP_URI"])
        try:
            for number in range(total):
                publisher.publish(number, device=f"d{number % 13}")
                published.append(number)
                if number % 20 == 0:
                    time.sleep(0.01)  # A steady stream rather than one burst.
        finally:
            publisher.close()

    # A green thread: the tests run under eventlet.
    publishing = threading.Thread(target=publish_all)
    publishing.start()
    try:
        eventually(lambda: broker.count(BALANCER_RAW.name) >= 600, 30, "a backlog")
        relay.start()
        eventually(
            lambda: sum(broker.count(q) for q in INGEST) >= 300, 30, "300 forwarded"
        )
        relay.kill()
        published_at_kill = len(published)
        relay.start()  # The same command again, as honcho or compose would.
    finally:
        publishing.join(timeout=60)
    assert not publishing.is_alive() and len(published) == total
    assert published_at_kill < total, "the crash was not mid-stream"

    seen, copies = set(), 0

    def all_arrived() -> bool:
        nonlocal copies
        for queue in INGEST:
            for message in broker.drain(queue):
                seen.add(message.properties["message_id"])
                copies += 1
        return len(seen) == total

    eventually(all_arrived, 60, f"{total} distinct readings", interval=0.2)
    assert seen == {f"m-{number}" for number in range(total)}
    assert relay.stop() == 0
    assert broker.count(BALANCER_RAW.name) == 0
    print(f"{copies - total} duplicates after the crash")


def test_it_reconnects_after_losing_its_connection(
    broker, balancer, rabbit_config, rabbit_manager
):
    relay = balancer().start()
    for number in range(50):
        broker.publish(number)
    eventually(lambda: sum(broker.count(q) for q in INGEST) == 50, 20, "50 forwarded")

    def balancer_connections() -> list[str]:
        return [
            connection["name"]
            for connection in rabbit_manager.get_connections()
            if connection.get("vhost") == rabbit_config["vhost"]
            and connection.get("user_provided_name") == "balancer"
        ]

    # The management API lists a new connection within its statistics interval.
    eventually(balancer_connections, 30, "the balancer's connection listed")
    for name in balancer_connections():
        rabbit_manager.delete_connection(name)
    eventually(lambda: relay.log().count(READY) == 2, 20, "reconnected")
    assert "connection lost" in relay.log()

    for number in range(50, 100):
        broker.publish(number)
    eventually(lambda: sum(broker.count(q) for q in INGEST) == 100, 20, "100 forwarded")
    assert relay.stop() == 0
    assert broker.count(BALANCER_RAW.name) == 0
    received = broker.drain(INGEST[0]) + broker.drain(INGEST[1])
    assert sorted(headers(m)["x-test-n"] for m in received) == list(range(100))
