"""What a poison reading costs: one ingest worker's throughput with 0 % and with 1 %
of its readings poison (year 1, ``kwh`` 1e30, a ``reading_id`` with a lone UTF-16
surrogate, in turn), measured in the same run, and the ratio of the two.

Before readings that can never count were refused by the parser, each of these
failed its whole batch, which was then replayed one message at a time (up to 200
transactions instead of one). Now a poison reading is dead-lettered alone and its
batch commits once, so the ratio should be close to 1.

The script creates a throw-away installation (``harness.stack.Resources``: its own
vhost and databases), writes the devices into monitoring's copy, runs one
``MonitoringWorker`` in this process (``BATCH_SIZE`` 200), publishes each round's
readings to its ingest queue first and only then starts the clock and the worker's
consumer, so the publisher is not the limit. A round ends when the good readings are
all committed and the poison all in ``ems.dead``. Rounds alternate 0 %, 1 %, 0 %, 1 %;
the ratio is reported pooled and as the median of each 1 % round over the 0 % round
before it.

Run from the repository root::

    .venv/bin/python benchmarks/bench_poison.py [--readings N] [--rounds R]
"""

import eventlet

eventlet.monkey_patch()  # noqa: E402

from psycogreen.eventlet import patch_psycopg  # noqa: E402

patch_psycopg()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

from benchkit import scratch, write_results  # noqa: E402
from kombu import Connection  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from harness.stack import Resources  # noqa: E402
from services.common.topology import DEAD, ingest_queue  # noqa: E402
from services.monitoring.worker import MonitoringWorker  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "poison.json"
QUEUE = ingest_queue(1)
DEVICES = 20


def poison(device_id: str, number: int, stamp: str) -> dict:
    kinds = [
        {"timestamp": "0001-01-01T00:00:00+05:00"},
        {"kwh": 1e30},
        {"reading_id": f"r-{number}-\ud800"},
    ]
    body = {
        "reading_id": str(uuid.uuid4()),
        "device_id": device_id,
        "timestamp": stamp,
        "kwh": 0.001,
    }
    body.update(kinds[number % len(kinds)])
    return body


def readings(device_ids, count: int, poison_every: int | None) -> tuple[list, int]:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    bodies, bad = [], 0
    for number in range(count):
        device_id = device_ids[number % len(device_ids)]
        stamp = (now - timedelta(minutes=number % 600)).isoformat()
        if poison_every and number % poison_every == poison_every // 2:
            bodies.append(poison(device_id, number, stamp))
            bad += 1
        else:
            bodies.append(
                {
                    "reading_id": str(uuid.uuid4()),
                    "device_id": device_id,
                    "timestamp": stamp,
                    "kwh": 0.001,
                }
            )
    return bodies, bad


def run_round(resources, engine, device_ids, count, poison_every) -> dict:
    bodies, bad = readings(device_ids, count, poison_every)
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE readings, hourly_totals, notifications"))
    with Connection(resources.amqp_uri) as connection:
        DEAD(connection.default_channel).declare()
        DEAD(connection.default_channel).purge()
        producer = connection.Producer()
        for body in bodies:
            producer.publish(
                body,
                routing_key=QUEUE.name,
                declare=[QUEUE],
                serializer="json",
                delivery_mode=2,
            )
    config = {
        "AMQP_URI": resources.amqp_uri,
        "DATABASE_URL": resources.databases["monitoringdb"],
        "INGEST_QUEUE": QUEUE.name,
        "BATCH_SIZE": 200,
        "BATCH_WAIT": 0.05,
        "PREFETCH_COUNT": 1000,
        "MAX_READING_KWH": 100,
        "RPC_TIMEOUT": 5,
        "max_workers": 10,
    }
    container = ServiceContainer(MonitoringWorker, config)
    started = time.monotonic()
    container.start()
    try:
        while True:
            with engine.connect() as connection:
                stored = connection.execute(text("SELECT count(*) FROM readings"))
                stored = stored.scalar()
            with Connection(resources.amqp_uri) as connection:
                dead = DEAD(connection.default_channel).queue_declare(passive=True)
            if stored >= count - bad and dead.message_count >= bad:
                break
            time.sleep(0.02)
        seconds = time.monotonic() - started
    finally:
        container.stop()
    return {
        "poison_percent": 100 / poison_every if poison_every else 0,
        "readings": count,
        "poison": bad,
        "seconds": round(seconds, 3),
        "readings_per_s": round(count / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readings", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with scratch("poison") as workdir:
        resources = Resources(workdir)
        resources.create()
        try:
            measure(resources, args)
        finally:
            resources.destroy()


def measure(resources: Resources, args) -> None:
    """Every round, and the summary; written to ``RESULTS``."""
    engine = create_engine(resources.databases["monitoringdb"])
    try:
        device_ids = [str(uuid.uuid4()) for _ in range(DEVICES)]
        with engine.begin() as connection:
            for device_id in device_ids:
                connection.execute(
                    text(
                        "INSERT INTO monitored_devices VALUES "
                        "(:id, :user_id, 1000, now(), false)"
                    ),
                    {"id": device_id, "user_id": str(uuid.uuid4())},
                )
        rounds = []
        for _ in range(args.rounds):
            for poison_every in (None, 100):
                result = run_round(
                    resources, engine, device_ids, args.readings, poison_every
                )
                rounds.append(result)
                print(json.dumps(result), flush=True)
        clean = [r for r in rounds if not r["poison"]]
        dirty = [r for r in rounds if r["poison"]]
        rate = {
            name: sum(r["readings"] for r in group) / sum(r["seconds"] for r in group)
            for name, group in (("clean", clean), ("dirty", dirty))
        }
        # Each 1 % round against the 0 % round just before it: on a shared
        # machine, load from elsewhere changes more between rounds than within.
        paired = [
            dirty_round["readings_per_s"] / clean_round["readings_per_s"]
            for clean_round, dirty_round in zip(clean, dirty, strict=True)
        ]
        summary = {
            "machine": platform.platform(),
            "load_average": os.getloadavg(),
            "rounds": rounds,
            "readings_per_s_0_percent": round(rate["clean"], 1),
            "readings_per_s_1_percent": round(rate["dirty"], 1),
            "ratio_pooled": round(rate["dirty"] / rate["clean"], 3),
            "ratio_median_of_pairs": round(statistics.median(paired), 3),
        }
        print(
            f"0 % poison {summary['readings_per_s_0_percent']} readings/s, "
            f"1 % poison {summary['readings_per_s_1_percent']} readings/s, "
            f"ratio {summary['ratio_pooled']} pooled, "
            f"{summary['ratio_median_of_pairs']} median of pairs; "
            f"load average {summary['load_average'][0]:.1f}"
        )
        write_results(RESULTS, summary)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
