"""The telemetry pipeline's throughput, measured against raw RabbitMQ publishing and
consuming of the same readings, in one run on one broker; and the latency from a
reading's publish to its overconsumption notification on ``ems.ws``.

The script starts a throw-away platform (``harness.stack.Stack``: every process of the
``Procfile``), registers a user and creates devices through the API, then measures:

(a) BASELINE: the same reading bodies, published with the simulator's publisher
    (pika ``BlockingConnection``, ``confirm_delivery``, one confirm awaited per
    publish, persistent, mandatory) to a topic exchange bound to ONE durable queue,
    and consumed by a separate process (its own connection, prefetch 500, one ack
    per message). Readings/s = N / (first publish to last ack). Measured first
    and last, pooled. (a2) is the same with pipelined confirms (pika
    ``SelectConnection``, up to ``--window`` unconfirmed publishes), for reference.
(b) END-TO-END: the same readings, published with the simulator's
    ``AmqpPublisher`` to ``ems.data``; the balancer relays them from
    ``balancer.raw`` to ``monitoring.ingest.1`` and ``.2``, both monitoring workers
    count them into ``readings`` and ``hourly_totals``. Readings/s = N / (first
    publish to the moment ``count(readings)`` of the devices is N, committed). Then
    checks: no confirmed reading lost, none counted twice, ``sum(hourly_totals)``
    equals the sum of the confirmed readings.
(b2) the same end to end with the publisher of (a2), for devices of its own: what
    the pipeline takes when the publisher is not the limit (b2/a2).
(c) LATENCY: readings of a device whose ``max_hourly_kwh`` is tiny, each alone over
    the limit and in an hour of its own, paced; each raises one ``reading``
    notification on ``ems.ws`` (``user.<id>.overconsumption``), matched to its
    reading by ``data.hour``.

b/a is the pipeline's share of what the broker does with one hop; the issue asks for
0.35 or more (each reading crosses the broker twice, and is written to PostgreSQL).
CPU seconds of every process during (a) and (b) (from ``/proc``), the ingest queues'
depths during (b) and the readings per ingest transaction (PostgreSQL ``xmin``) say
where the time goes.

Run from the repository root::

    .venv/bin/python benchmarks/bench_pipeline.py [--readings N] [--devices D]
"""

import argparse
import collections
import json
import multiprocessing
import os
import random
import signal
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pika
import requests
from benchkit import (
    CpuUsage,
    CpuWindow,
    account,
    bearer,
    command_line,
    header,
    markdown_table,
    percentile,
    ratio,
    roots_of,
    run_script,
    running,
    scratch,
    write_results,
)
from pika.spec import Basic
from sqlalchemy import create_engine, text

import config
from harness.stack import Stack
from services.common.amqp import pika_parameters
from services.common.topology import DATA, WS, iso_utc, reading_key, user_message_key
from simulator.publisher import AmqpPublisher, Stopper

RESULTS = Path(__file__).resolve().parent / "results" / "pipeline.json"
BASELINE_EXCHANGE = "bench.baseline"
BASELINE_QUEUE = "bench.baseline"
INGEST_QUEUES = ("balancer.raw", "monitoring.ingest.1", "monitoring.ingest.2")
INTERVAL = timedelta(minutes=15)
#: The devices of (b) never alert; the device of (c) alerts on every reading.
HIGH_LIMIT_KWH = 1000.0
LOW_LIMIT_KWH = 0.001
ALERT_KWH = 0.01
GOAL = 0.35
MICRO = Decimal("0.000001")


def amqp_parameters(amqp_uri: str):
    return pika_parameters(amqp_uri, "bench-pipeline")


# -- readings -----------------------------------------------------------------------


def make_readings(device_ids: list[str], count: int, seed: int) -> list[dict]:
    """``count`` readings over the devices, one per device per 15 minutes, going
    back from the last quarter-hour, published oldest first (as a back-fill is)."""
    rng = random.Random(seed)
    step = int(INTERVAL.total_seconds())
    last = int(time.time()) // step * step - step
    rounds = -(-count // len(device_ids))
    readings = []
    for number in range(rounds):
        end = datetime.fromtimestamp(last - (rounds - 1 - number) * step, UTC)
        for device_id in device_ids:
            if len(readings) == count:
                break
            readings.append(
                {
                    "reading_id": str(uuid.uuid4()),
                    "device_id": device_id,
                    "timestamp": iso_utc(end),
                    "kwh": round(rng.uniform(0.005, 0.5), 6),
                }
            )
    return readings


def exact_kwh(value: float) -> Decimal:
    """A reading's kWh as monitoring stores it."""
    return Decimal(repr(value)).quantize(MICRO)


# -- CPU per process ----------------------------------------------------------------


def cpu_usage(usage: CpuUsage, wall: float) -> dict:
    """CPU seconds per process group of a ``CpuWindow``, busiest first.

    Processes of no group (``other``) that took 0.1 s or more are listed with their
    command line, so that load from outside the benchmark shows as such.
    """
    seconds: dict[str, float] = collections.Counter()
    outsiders = []
    for process in usage.processes:
        label = process.group or f"other ({process.comm})"
        seconds[label] += process.seconds
        if process.group is None and process.seconds >= 0.1:
            outsiders.append(
                {
                    "pid": process.pid,
                    "cpu_s": round(process.seconds, 2),
                    "command": command_line(process.pid, 160),
                }
            )
    for name in [n for n in seconds if n.startswith("other (")]:
        if seconds[name] < 0.1:
            seconds["other (rest)"] += seconds.pop(name)
    total = sum(seconds.values())
    outside = sum(v for n, v in seconds.items() if n.startswith("other"))
    capacity = wall * (os.cpu_count() or 1)
    return {
        "wall_s": round(wall, 2),
        "cpu_s_total": round(total, 2),
        "machine_busy_pct": round(100 * total / capacity, 1),
        # Neither this benchmark, its stack, RabbitMQ nor PostgreSQL.
        "outside_cores": round(outside / wall, 2),
        "by_process": {
            name: {"cpu_s": round(value, 2), "cores": round(value / wall, 2)}
            for name, value in sorted(seconds.items(), key=lambda item: -item[1])
            if value >= 0.01
        },
        "other_processes": sorted(outsiders, key=lambda item: -item["cpu_s"]),
    }


def process_roots(stack, extra: dict[int, str]) -> dict[int, str]:
    return {os.getpid(): "benchmark (publisher)", **roots_of(stack), **extra}


# -- (a) the baseline -----------------------------------------------------------------


class BaselinePublisher(AmqpPublisher):
    """The simulator's ``AmqpPublisher`` with the baseline's exchange for
    ``ems.data``: the same pika calls, one awaited confirm per publish."""

    def connect(self) -> None:
        self.connection = pika.BlockingConnection(self.parameters)
        channel = self.connection.channel()
        channel.exchange_declare(BASELINE_EXCHANGE, exchange_type="topic", durable=True)
        channel.confirm_delivery()
        self.channel = channel

    def send(self, reading: dict, body: bytes) -> None:
        if self.channel is None:
            self.connect()
        self.channel.basic_publish(
            BASELINE_EXCHANGE,
            reading_key(reading["device_id"]),
            body,
            properties=pika.BasicProperties(
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=pika.DeliveryMode.Persistent,
                message_id=reading["reading_id"],
            ),
            mandatory=True,
        )


class PipelinedPublisher:
    """The same publishes, but up to ``window`` unconfirmed at once (pika's
    asynchronous ``SelectConnection``); returns once all are confirmed."""

    def __init__(self, parameters, exchange: str, readings: list[dict], window: int):
        self.parameters = parameters
        self.exchange = exchange
        self.readings = readings
        self.window = window
        self.next = 0
        self.pending: collections.deque[int] = collections.deque()
        self.acked = self.nacked = self.returned = 0
        self.connection = self.channel = None
        self.error = None
        self.started = None

    def run(self, timeout: float) -> None:
        self.connection = pika.SelectConnection(
            self.parameters,
            on_open_callback=self._on_open,
            on_open_error_callback=self._on_failure,
            on_close_callback=self._on_closed,
        )
        self.connection.ioloop.call_later(timeout, self._on_timeout)
        self.connection.ioloop.start()
        if self.error is not None:
            raise RuntimeError(f"pipelined publisher: {self.error}")

    def _on_open(self, connection) -> None:
        connection.channel(on_open_callback=self._on_channel)

    def _on_channel(self, channel) -> None:
        self.channel = channel
        channel.add_on_return_callback(self._on_return)
        channel.confirm_delivery(self._on_confirm, callback=lambda _: self._publish())

    def _publish(self) -> None:
        if self.started is None:
            self.started = time.monotonic()
        while len(self.pending) < self.window and self.next < len(self.readings):
            reading = self.readings[self.next]
            self.channel.basic_publish(
                self.exchange,
                reading_key(reading["device_id"]),
                json.dumps(reading).encode(),
                properties=pika.BasicProperties(
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=pika.DeliveryMode.Persistent,
                    message_id=reading["reading_id"],
                ),
                mandatory=True,
            )
            self.next += 1
            self.pending.append(self.next)  # the broker numbers publishes 1, 2, …

    def _on_confirm(self, frame) -> None:
        method = frame.method
        tag = method.delivery_tag
        if method.multiple:
            settled = 0
            while self.pending and self.pending[0] <= tag:
                self.pending.popleft()
                settled += 1
        else:
            self.pending.remove(tag)
            settled = 1
        if isinstance(method, Basic.Ack):
            self.acked += settled
        else:
            self.nacked += settled
        if self.acked + self.nacked == len(self.readings):
            self.connection.close()
        else:
            self._publish()

    def _on_return(self, channel, method, properties, body) -> None:
        self.returned += 1

    def _on_timeout(self) -> None:
        self.error = f"timed out with {len(self.pending)} unconfirmed"
        self.connection.close()

    def _on_failure(self, connection, error) -> None:
        self.error = repr(error)
        connection.ioloop.stop()

    def _on_closed(self, connection, reason) -> None:
        connection.ioloop.stop()


def consume_baseline(amqp_uri, expected, prefetch, timeout, ready, results) -> None:
    """The baseline's consumer (a process of its own): ack each message; report the
    time of the first delivery and of the ``expected``-th ack."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops it
    parameters = amqp_parameters(amqp_uri)
    parameters.client_properties = {"connection_name": "bench-baseline-consumer"}
    connection = pika.BlockingConnection(parameters)
    channel = connection.channel()
    channel.basic_qos(prefetch_count=prefetch)
    state = {"count": 0, "first": None, "last": None, "duplicates": 0}
    seen = set()

    def on_message(channel, method, properties, body):
        channel.basic_ack(method.delivery_tag)
        if state["first"] is None:
            state["first"] = time.monotonic()
        state["count"] += 1
        if properties.message_id in seen:
            state["duplicates"] += 1
        seen.add(properties.message_id)
        if state["count"] == expected:
            state["last"] = time.monotonic()
            channel.stop_consuming()

    channel.basic_consume(BASELINE_QUEUE, on_message)
    connection.call_later(timeout, channel.stop_consuming)
    ready.set()
    channel.start_consuming()
    connection.close()
    results.put(state)


def declare_baseline_queue(amqp_uri: str) -> None:
    connection = pika.BlockingConnection(amqp_parameters(amqp_uri))
    channel = connection.channel()
    channel.exchange_declare(BASELINE_EXCHANGE, exchange_type="topic", durable=True)
    channel.queue_declare(BASELINE_QUEUE, durable=True)
    channel.queue_bind(
        BASELINE_QUEUE, BASELINE_EXCHANGE, routing_key="device.*.reading"
    )
    channel.queue_purge(BASELINE_QUEUE)
    connection.close()


def run_baseline(stack, readings, args, pipelined: bool) -> dict:
    """One baseline measurement: consumer process up, then publish everything."""
    amqp_uri = stack.resources.amqp_uri
    declare_baseline_queue(amqp_uri)
    context = multiprocessing.get_context("spawn")
    ready, results = context.Event(), context.Queue()
    consumer = context.Process(
        target=consume_baseline,
        args=(amqp_uri, len(readings), args.prefetch, 240.0, ready, results),
        daemon=True,
    )
    consumer.start()
    try:
        if not ready.wait(60):
            raise RuntimeError("the baseline consumer did not start")
        window = CpuWindow(process_roots(stack, {consumer.pid: "baseline consumer"}))
        if pipelined:
            # The clock starts at the first publish, once the channel is open.
            publisher = PipelinedPublisher(
                amqp_parameters(amqp_uri),
                BASELINE_EXCHANGE,
                readings,
                args.window,
            )
            publisher.run(timeout=240.0)
            started = publisher.started
            confirmed, problems = publisher.acked, publisher.nacked + publisher.returned
        else:
            publisher = BaselinePublisher(amqp_uri, Stopper())
            publisher.connect()  # as in (b): connected before the clock starts
            started = time.monotonic()
            try:
                for reading in readings:
                    publisher.publish(reading)
            finally:
                publisher.close()
            confirmed, problems = publisher.confirmed, publisher.resent
        published = time.monotonic()
        state = results.get(timeout=300)
        usage = window.close()
        consumer.join(timeout=30)
    finally:
        if consumer.is_alive():
            consumer.terminate()
            consumer.join(timeout=10)
    if state["last"] is None:
        raise RuntimeError(f"baseline consumer got {state['count']} of {len(readings)}")
    seconds = state["last"] - started
    return {
        "readings": len(readings),
        "confirmed": confirmed,
        "not_confirmed_or_resent": problems,
        "consumed": state["count"],
        "duplicates": state["duplicates"],
        "publish_s": round(published - started, 3),
        "seconds": round(seconds, 3),
        "readings_per_s": round(len(readings) / seconds, 1),
        "cpu": cpu_usage(usage, state["last"] - started),
    }


# -- the platform -------------------------------------------------------------------


def create_user_and_devices(stack: Stack, devices: int) -> tuple:
    """Registers a user; ``(user id, ids of the quiet devices of (b), of (b2), id of
    the alerting device)``."""
    _, token = account(stack)

    def create(name: str, limit: float) -> dict:
        response = requests.post(
            stack.url("/api/devices"),
            json={"name": name, "kind": "meter", "max_hourly_kwh": limit},
            headers=bearer(token),
            timeout=15,
        )
        response.raise_for_status()
        return response.json()

    quiet = [create(f"Meter b{n}", HIGH_LIMIT_KWH)["id"] for n in range(devices)]
    quiet2 = [create(f"Meter b2-{n}", HIGH_LIMIT_KWH)["id"] for n in range(devices)]
    alerting = create("Alerting meter", LOW_LIMIT_KWH)
    return alerting["user_id"], quiet, quiet2, alerting["id"]


def wait_for_sync(engine, device_ids: list[str], timeout: float = 60.0) -> bool:
    """Until monitoring knows every device from ``ems.sync`` (so no measured batch
    asks the devices service); False if it did not in time."""
    deadline = time.monotonic() + timeout
    query = text("SELECT count(*) FROM monitored_devices WHERE id = ANY(:ids)")
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            if connection.execute(query, {"ids": device_ids}).scalar() == len(
                device_ids
            ):
                return True
        time.sleep(0.2)
    return False


# -- (b) end to end -----------------------------------------------------------------


@dataclass
class Sampler:
    """Every ``period`` s, in a thread: the ready messages of the pipeline's queues
    and the readings committed so far."""

    amqp_uri: str
    engine: object
    device_ids: list[str]
    started: float
    period: float = 1.0
    samples: list[dict] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        connection = pika.BlockingConnection(amqp_parameters(self.amqp_uri))
        channel = connection.channel()
        query = text("SELECT count(*) FROM readings WHERE device_id = ANY(:ids)")
        try:
            while not self.stop.is_set():
                sample = {"t_s": round(time.monotonic() - self.started, 2)}
                for queue in INGEST_QUEUES:
                    declared = channel.queue_declare(queue, passive=True)
                    sample[queue] = declared.method.message_count
                with self.engine.connect() as db:
                    sample["committed"] = db.execute(
                        query, {"ids": self.device_ids}
                    ).scalar()
                self.samples.append(sample)
                self.stop.wait(self.period)
        finally:
            connection.close()


def stored_state(engine, device_ids: list[str]) -> dict:
    with engine.connect() as connection:
        count, distinct, kwh = connection.execute(
            text(
                "SELECT count(*), count(DISTINCT reading_id), coalesce(sum(kwh), 0) "
                "FROM readings WHERE device_id = ANY(:ids)"
            ),
            {"ids": device_ids},
        ).one()
        hourly = connection.execute(
            text(
                "SELECT coalesce(sum(kwh), 0), count(*) FROM hourly_totals "
                "WHERE device_id = ANY(:ids)"
            ),
            {"ids": device_ids},
        ).one()
        ids = set(
            connection.execute(
                text("SELECT reading_id FROM readings WHERE device_id = ANY(:ids)"),
                {"ids": device_ids},
            ).scalars()
        )
        totals = {
            (device_id, iso_utc(hour)): kwh_
            for device_id, hour, kwh_ in connection.execute(
                text(
                    "SELECT device_id, hour, kwh FROM hourly_totals "
                    "WHERE device_id = ANY(:ids)"
                ),
                {"ids": device_ids},
            )
        }
        # Rows written by one transaction share its xmin: readings per batch.
        batches = [
            size
            for (size,) in connection.execute(
                text(
                    "SELECT count(*) FROM readings WHERE device_id = ANY(:ids) "
                    "GROUP BY xmin::text"
                ),
                {"ids": device_ids},
            )
        ]
    return {
        "count": count,
        "distinct": distinct,
        "readings_kwh": Decimal(kwh),
        "hourly_kwh": Decimal(hourly[0]),
        "device_hours": hourly[1],
        "ids": ids,
        "totals": totals,
        "batches": batches,
    }


def expected_totals(readings: list[dict]) -> dict[tuple[str, str], Decimal]:
    """Each device-hour's total, as the confirmed readings should add up."""
    totals: dict[tuple[str, str], Decimal] = collections.defaultdict(Decimal)
    for reading in readings:
        moment = datetime.fromisoformat(reading["timestamp"]) - timedelta(
            microseconds=1
        )
        hour = moment.replace(minute=0, second=0, microsecond=0)
        totals[(reading["device_id"], iso_utc(hour))] += exact_kwh(reading["kwh"])
    return totals


def run_end_to_end(stack, engine, readings, device_ids, args, pipelined) -> dict:
    amqp_uri = stack.resources.amqp_uri
    count_query = text("SELECT count(*) FROM readings WHERE device_id = ANY(:ids)")
    window = CpuWindow(process_roots(stack, {}))
    sampler = Sampler(amqp_uri, engine, device_ids, time.monotonic())
    sampling = threading.Thread(target=sampler.run, daemon=True)
    sampling.start()
    if pipelined:
        # The clock starts at the first publish, once the channel is open.
        publisher = PipelinedPublisher(
            amqp_parameters(amqp_uri),
            DATA.name,
            readings,
            args.window,
        )
        publisher.run(timeout=240.0)
        started, resent = publisher.started, 0
        if publisher.acked != len(readings) or publisher.returned:
            raise RuntimeError(
                f"pipelined publish: {publisher.acked} acked, {publisher.nacked} "
                f"nacked, {publisher.returned} returned of {len(readings)}"
            )
        confirmed = list(readings)
    else:
        publisher = AmqpPublisher(amqp_uri, Stopper())
        publisher.connect()  # as in (a): connected before the clock starts
        started = time.monotonic()
        confirmed = []
        try:
            for reading in readings:
                publisher.publish(reading)
                confirmed.append(reading)
        finally:
            publisher.close()
        resent = publisher.resent
    published = time.monotonic()
    committed_at = None
    deadline = published + args.drain_timeout
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            asked = time.monotonic()
            count = connection.execute(count_query, {"ids": device_ids}).scalar()
            connection.commit()  # a fresh snapshot for the next poll
            if count >= len(confirmed):
                committed_at = asked
                break
            time.sleep(args.poll)
    usage = window.close()
    sampler.stop.set()
    sampling.join(timeout=10)
    if committed_at is None:
        raise RuntimeError(
            f"only {count} of {len(confirmed)} readings committed after "
            f"{args.drain_timeout} s"
        )
    time.sleep(1.0)  # anything counted twice would show by now
    state = stored_state(engine, device_ids)
    seconds = committed_at - started
    confirmed_ids = {reading["reading_id"] for reading in confirmed}
    expected_kwh = sum((exact_kwh(r["kwh"]) for r in confirmed), Decimal(0))
    expected = expected_totals(confirmed)
    wrong_hours = sum(
        1
        for key in expected.keys() | state["totals"].keys()
        if expected.get(key, Decimal(0)) != state["totals"].get(key, Decimal(0))
    )
    batches = sorted(state["batches"])
    kwh_difference = state["hourly_kwh"] - expected_kwh
    integrity = {
        "published": len(readings),
        "confirmed": len(confirmed),
        "resent": resent,
        "stored": state["count"],
        "stored_distinct": state["distinct"],
        "lost": len(confirmed_ids - state["ids"]),
        "unexpected": len(state["ids"] - confirmed_ids),
        "duplicated_rows": state["count"] - state["distinct"],
        "device_hours": state["device_hours"],
        "device_hours_wrong": wrong_hours,
        "confirmed_kwh": str(expected_kwh),
        "readings_kwh": str(state["readings_kwh"]),
        "hourly_totals_kwh": str(state["hourly_kwh"]),
        "hourly_minus_confirmed_kwh": str(kwh_difference),
        "kwh_tolerance": str(MICRO * len(confirmed)),
    }
    integrity["ok"] = (
        integrity["lost"] == 0
        and integrity["unexpected"] == 0
        and integrity["duplicated_rows"] == 0
        and wrong_hours == 0
        and state["count"] == state["distinct"] == len(confirmed) == len(readings)
        and abs(kwh_difference) <= MICRO * len(confirmed)
    )
    return {
        "readings": len(readings),
        "devices": len(device_ids),
        "publish_s": round(published - started, 3),
        "publish_readings_per_s": round(len(readings) / (published - started), 1),
        "seconds": round(seconds, 3),
        "drain_after_publish_s": round(committed_at - published, 3),
        "readings_per_s": round(len(readings) / seconds, 1),
        "integrity": integrity,
        "ingest_transactions": {
            "count": len(batches),
            "readings_mean": round(statistics.fmean(batches), 1),
            "readings_median": statistics.median(batches),
            "readings_max": batches[-1],
            "readings_min": batches[0],
        },
        "queue_samples": sampler.samples,
        "queue_ready_max": {
            queue: max((s[queue] for s in sampler.samples), default=0)
            for queue in INGEST_QUEUES
        },
        "cpu": cpu_usage(usage, committed_at - started),
    }


# -- (c) latency ----------------------------------------------------------------------


class NotificationListener:
    """A queue on ``ems.ws`` bound to the user's overconsumption messages, consumed
    in a thread; records when each message arrived."""

    def __init__(self, amqp_uri: str, user_id: str):
        self.connection = pika.BlockingConnection(amqp_parameters(amqp_uri))
        self.channel = self.connection.channel()
        self.channel.exchange_declare(WS.name, exchange_type=WS.type, durable=True)
        queue = self.channel.queue_declare("", exclusive=True, auto_delete=True)
        self.queue = queue.method.queue
        self.channel.queue_bind(
            self.queue,
            WS.name,
            routing_key=user_message_key(user_id, "overconsumption"),
        )
        self.received: list[tuple[float, dict]] = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._consume, daemon=True)

    def _on_message(self, channel, method, properties, body) -> None:
        arrived = time.monotonic()
        with self.lock:
            self.received.append((arrived, json.loads(body)))

    def _consume(self) -> None:
        self.channel.basic_consume(self.queue, self._on_message, auto_ack=True)
        self.channel.start_consuming()

    def start(self) -> None:
        self.thread.start()

    def count(self, device_id: str) -> int:
        with self.lock:
            return sum(
                1 for _, m in self.received if m["data"]["device_id"] == device_id
            )

    def close(self) -> None:
        if self.thread.is_alive():
            self.connection.add_callback_threadsafe(self.channel.stop_consuming)
            self.thread.join(timeout=10)
        if self.connection.is_open:
            self.connection.close()


def alert_readings(device_id: str, count: int, skip_hours: int) -> list[dict]:
    """One reading per hour, each in an hour of its own, each over the limit."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    readings = []
    for number in range(count):
        hour = now - timedelta(hours=skip_hours + number + 1)
        readings.append(
            {
                "reading_id": str(uuid.uuid4()),
                "device_id": device_id,
                "timestamp": iso_utc(hour + timedelta(minutes=30)),
                "kwh": ALERT_KWH,
            }
        )
    return readings


def wait_for(listener, device_id, count, timeout) -> bool:
    deadline = time.monotonic() + timeout
    while listener.count(device_id) < count:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def run_latency(stack, user_id, device_id, args) -> dict:
    amqp_uri = stack.resources.amqp_uri
    listener = NotificationListener(amqp_uri, user_id)
    listener.start()
    publisher = AmqpPublisher(amqp_uri, Stopper())
    warmup = alert_readings(device_id, args.latency_warmup, skip_hours=0)
    measured = alert_readings(
        device_id, args.alerts, skip_hours=args.latency_warmup + 24
    )
    sent: dict[str, float] = {}
    try:
        for reading in warmup:  # not measured: the first batches of the device
            publisher.publish(reading)
        if not wait_for(listener, device_id, len(warmup), 30):
            raise RuntimeError("no notification for the warm-up readings")
        with listener.lock:
            listener.received.clear()
        period = 1.0 / args.alert_rate
        started = time.monotonic()
        for number, reading in enumerate(measured):
            due = started + number * period
            if (left := due - time.monotonic()) > 0:
                time.sleep(left)
            moment = datetime.fromisoformat(reading["timestamp"])
            hour = iso_utc(moment.replace(minute=0))
            sent[hour] = time.monotonic()
            publisher.publish(reading)
        publishing_s = time.monotonic() - started
        wait_for(listener, device_id, len(measured), args.latency_timeout)
        time.sleep(1.0)  # a notification sent twice would arrive by now
    finally:
        publisher.close()
        listener.close()
    latencies, unmatched, wrong, seen = [], 0, 0, collections.Counter()
    for arrived, message in listener.received:
        data = message["data"]
        if data["device_id"] != device_id:
            continue
        seen[data["hour"]] += 1
        if data["hour"] not in sent:
            unmatched += 1
            continue
        if seen[data["hour"]] == 1:
            latencies.append((arrived - sent[data["hour"]]) * 1000)
        if (
            message.get("type") != "overconsumption"
            or data.get("reason") != "reading"
            or abs(data.get("kwh", 0) - ALERT_KWH) > 1e-9
            or abs(data.get("limit_kwh", 0) - LOW_LIMIT_KWH) > 1e-9
        ):
            wrong += 1
    received = sum(seen.values())
    return {
        "sent": len(measured),
        "rate_per_s": args.alert_rate,
        "publishing_s": round(publishing_s, 2),
        "received": received,
        "matched": len(latencies),
        "missing": len(measured) - len(latencies),
        "duplicates": received - len(seen),
        "unmatched": unmatched,
        "wrong_content": wrong,
        "matching": "each reading in an hour of its own; notification matched by "
        "data.hour (one 'reading' notification per reading)",
        "p50_ms": round(percentile(latencies, 0.50), 1) if latencies else None,
        "p90_ms": round(percentile(latencies, 0.90), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else None,
    }


# -- the report -------------------------------------------------------------------


def pooled(rounds: list[dict]) -> dict:
    readings = sum(r["readings"] for r in rounds)
    seconds = sum(r["seconds"] for r in rounds)
    return {
        "readings": readings,
        "seconds": round(seconds, 3),
        "readings_per_s": round(readings / seconds, 1),
        "readings_per_s_by_round": [r["readings_per_s"] for r in rounds],
    }


def batch_settings() -> dict:
    worker = config.settings("monitoring_worker")
    balancer = config.settings("balancer")
    return {
        "EMS_BATCH_SIZE (monitoring_worker BATCH_SIZE)": worker["BATCH_SIZE"],
        "EMS_BATCH_WAIT (monitoring_worker BATCH_WAIT, s)": worker["BATCH_WAIT"],
        "EMS_INGEST_PREFETCH (monitoring_worker PREFETCH_COUNT)": worker[
            "PREFETCH_COUNT"
        ],
        "EMS_MAX_WORKERS (monitoring_worker max_workers)": worker["max_workers"],
        "EMS_BALANCER_PREFETCH (balancer PREFETCH)": balancer["PREFETCH"],
        "ingest workers": 2,
    }


def throughput_table(document: dict) -> str:
    a, a2, b, b2 = (document["results"][key] for key in ("a", "a2", "b", "b2"))
    window = document["window"]
    return markdown_table(
        ["", "what", "readings", "seconds", "readings/s"],
        [
            [
                "(a)",
                "raw pika, 1 durable queue, confirm per publish "
                f"({len(a['rounds'])} rounds pooled)",
                a["readings"],
                a["seconds"],
                f"**{a['readings_per_s']}**",
            ],
            [
                "(a2)",
                f"raw pika, 1 durable queue, pipelined confirms (window {window})",
                a2["readings"],
                a2["seconds"],
                a2["readings_per_s"],
            ],
            [
                "(b)",
                "end to end: ems.data → balancer → 2 workers → committed, "
                "confirm per publish",
                b["readings"],
                b["seconds"],
                f"**{b['readings_per_s']}**",
            ],
            [
                "(b2)",
                f"the same end to end, pipelined confirms (window {window})",
                b2["readings"],
                b2["seconds"],
                b2["readings_per_s"],
            ],
        ],
    )


def latency_table(c: dict) -> str:
    keys = ["sent", "received", "missing", "duplicates"]
    keys += ["p50_ms", "p90_ms", "p99_ms", "max_ms"]
    headings = [key.replace("_ms", " ms") for key in keys]
    return markdown_table(headings, [[c[key] for key in keys]], left=0)


def cpu_table(measured: dict[str, dict]) -> str:
    """Cores used per process group, one column per measurement."""
    names = []
    for result in measured.values():
        names += [n for n in result["cpu"]["by_process"] if n not in names]
    rows = []
    for name in names:
        cells = []
        for result in measured.values():
            usage = result["cpu"]["by_process"].get(name)
            cells.append(f"{usage['cores']:.2f}" if usage else "")
        rows.append([name, *cells])
    cpus = [r["cpu"] for r in measured.values()]
    rows.append(
        ["*of which outside the benchmark*"]
        + [f"{cpu['outside_cores']:.2f}" for cpu in cpus]
    )
    rows.append(["**machine busy**"] + [f"{cpu['machine_busy_pct']} %" for cpu in cpus])
    return markdown_table(["process", *measured], rows, left=1)


def print_end_to_end(key: str, b: dict) -> None:
    integrity = b["integrity"]
    print(
        f"({key}) publishing took {b['publish_s']} s "
        f"({b['publish_readings_per_s']} readings/s); the last reading was "
        f"committed {b['drain_after_publish_s']} s after the last publish."
    )
    print(
        f"({key}) integrity: LOST {integrity['lost']}, DUPLICATED "
        f"{integrity['duplicated_rows']} rows, device-hours wrong "
        f"{integrity['device_hours_wrong']}/{integrity['device_hours']}; "
        f"count {integrity['stored']} == distinct {integrity['stored_distinct']} "
        f"== N {integrity['published']}; sum(hourly_totals) "
        f"{integrity['hourly_totals_kwh']} vs confirmed {integrity['confirmed_kwh']} "
        f"kWh (difference {integrity['hourly_minus_confirmed_kwh']}): "
        f"{'OK' if integrity['ok'] else 'FAILED'}"
    )
    batches = b["ingest_transactions"]
    print(
        f"({key}) ingest transactions: {batches['count']}, readings per transaction "
        f"mean {batches['readings_mean']}, median {batches['readings_median']}, "
        f"max {batches['readings_max']}; ready messages at most "
        + ", ".join(f"{q} {n}" for q, n in b["queue_ready_max"].items())
    )


def print_report(document: dict) -> None:
    results = document["results"]
    c = results["c"]
    print()
    print(throughput_table(document))
    print()
    ratio = document["ratios"]
    verdict = "meets" if ratio["b_over_a"] >= GOAL else "is BELOW"
    print(
        f"b/a = {ratio['b_over_a']} ({verdict} the goal of {GOAL}); "
        f"b2/a2 = {ratio['b2_over_a2']}; b/a2 = {ratio['b_over_a2']}"
    )
    print(
        "(a) by round: "
        + ", ".join(str(r["readings_per_s"]) for r in results["a"]["rounds"])
        + " readings/s"
    )
    for key in ("b", "b2"):
        print_end_to_end(key, results[key])
    measured = {
        "(a) round 1": results["a"]["rounds"][0],
        "(a2)": results["a2"],
        "(b)": results["b"],
        "(b2)": results["b2"],
        "(a) round 2": results["a"]["rounds"][1],
    }
    print("\nCPU while each ran (cores = CPU s / wall s; 2 cores in all):\n")
    print(cpu_table(measured))
    busiest = max(r["cpu"]["outside_cores"] for r in measured.values())
    if busiest >= 0.1:
        print(
            f"\nWARNING: processes outside this benchmark used up to {busiest:.2f} "
            "cores during a measurement (see other_processes in the JSON)."
        )
    print()
    print(f"(c) latency, publish → ems.ws notification, {c['rate_per_s']}/s paced:\n")
    print(latency_table(c))
    print(
        f"\n{document['machine']['nproc']} cores, Python "
        f"{document['machine']['python']}, N = {document['readings']}"
    )
    print(f"Written to {RESULTS}")


def write_report(results: dict, args) -> dict:
    document = {
        **header("pipeline", pika=pika.__version__),
        "readings": args.readings,
        "devices": args.devices,
        "window": args.window,
        "baseline_prefetch": args.prefetch,
        "settings": batch_settings(),
        "definitions": {
            "a": "BlockingConnection + confirm_delivery, one awaited confirm per "
            "publish (as simulator.publisher.AmqpPublisher), persistent, mandatory, "
            "to a topic exchange bound to one durable queue; consumer in another "
            f"process, prefetch {args.prefetch}, one ack per message; N / (first "
            "publish to last ack); measured before and after (b), pooled",
            "a2": "the same with pipelined confirms (SelectConnection, at most "
            f"{args.window} unconfirmed); for reference only",
            "b": "simulator.publisher.AmqpPublisher to ems.data; N / (first publish "
            f"to count(readings) == N in monitoringdb, polled every {args.poll} s)",
            "b2": "the same with the publisher of (a2) to ems.data: what the "
            "pipeline does when the publisher is not the limit",
            "ratio": "b_over_a uses (a), the same publisher and confirm strategy as "
            "(b); b2_over_a2 compares the pipelined variants",
        },
        "results": results,
        "ratios": {
            "b_over_a": ratio(results, "readings_per_s", "b", "a"),
            "b_over_a2": ratio(results, "readings_per_s", "b", "a2"),
            "b2_over_a2": ratio(results, "readings_per_s", "b2", "a2"),
            "goal": GOAL,
        },
    }
    return write_results(RESULTS, document)


# -- main -------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--readings", type=int, default=20000, help="N, per measurement (20000)"
    )
    parser.add_argument(
        "--devices", type=int, default=10, help="quiet devices of (b) (default 10)"
    )
    parser.add_argument(
        "--prefetch", type=int, default=500, help="baseline consumer prefetch (500)"
    )
    parser.add_argument(
        "--window",
        type=int,
        default=1000,
        help="(a2): most unconfirmed publishes (default 1000)",
    )
    parser.add_argument(
        "--alerts", type=int, default=300, help="(c): readings measured (300)"
    )
    parser.add_argument(
        "--alert-rate", type=float, default=50.0, help="(c): readings/s (50)"
    )
    parser.add_argument(
        "--latency-warmup", type=int, default=5, help="(c): unmeasured readings (5)"
    )
    parser.add_argument(
        "--latency-timeout", type=float, default=30.0, help=argparse.SUPPRESS
    )
    parser.add_argument("--poll", type=float, default=0.05, help=argparse.SUPPRESS)
    parser.add_argument(
        "--drain-timeout", type=float, default=240.0, help=argparse.SUPPRESS
    )
    parser.add_argument("--seed", type=int, default=20261122, help="kWh values")
    return parser.parse_args()


def measure(stack: Stack, args) -> dict:
    user_id, device_ids, device_ids2, alert_device = create_user_and_devices(
        stack, args.devices
    )
    engine = create_engine(stack.resources.databases["monitoringdb"])
    try:
        if not wait_for_sync(engine, [*device_ids, *device_ids2, alert_device]):
            print("  monitoring has not seen every device yet", flush=True)
        readings = make_readings(device_ids, args.readings, args.seed)
        # (b2): the same kWh and timestamps, for devices of its own.
        readings2 = make_readings(device_ids2, args.readings, args.seed)
        print(
            f"  {len(readings)} readings of {len(device_ids)} devices, "
            f"{readings[0]['timestamp']} … {readings[-1]['timestamp']}",
            flush=True,
        )
        steps = [
            ("a", "(a) baseline, confirm per publish, round 1"),
            ("a2", "(a2) baseline, pipelined confirms"),
            ("b", "(b) end to end, confirm per publish"),
            ("b2", "(b2) end to end, pipelined confirms"),
            ("a", "(a) baseline, confirm per publish, round 2"),
        ]
        rounds, results = [], {}
        for key, label in steps:
            print(f"Measuring {label} …", flush=True)
            if key == "b":
                result = run_end_to_end(
                    stack, engine, readings, device_ids, args, pipelined=False
                )
                results["b"] = result
            elif key == "b2":
                result = run_end_to_end(
                    stack, engine, readings2, device_ids2, args, pipelined=True
                )
                results["b2"] = result
            else:
                result = run_baseline(stack, readings, args, pipelined=key == "a2")
                if key == "a":
                    rounds.append(result)
                else:
                    results["a2"] = result
            print(f"  {result['readings_per_s']} readings/s", flush=True)
        results["a"] = dict(pooled(rounds), rounds=rounds)
        print(f"Measuring (c) latency, {args.alerts} readings …", flush=True)
        results["c"] = run_latency(stack, user_id, alert_device, args)
        return results
    finally:
        engine.dispose()


def main() -> int:
    args = parse_args()
    with scratch("pipeline") as workdir, running(Stack(workdir)) as stack:
        print_report(write_report(measure(stack, args), args))
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
