"""MQTT ingest capacity against AMQP's, end to end, in the same run.

A throw-away platform (every Procfile process but the simulator and the web app);
one user with 10 devices for each transport, each device with its own credentials.
A round publishes N readings spread over that transport's devices, at full speed
(``harness.bursts``: 1,000 unacknowledged per device connection, all devices at once),
and the clock stops when monitoringdb holds all N. Readings/s = N / (first publish
to the last commit). Rounds alternate AMQP, MQTT, AMQP, MQTT ... so that drift hits
both. Every round also accounts for the readings: acknowledged by the broker, rows
stored, distinct reading ids, and the hourly totals' sum against what was sent.

    PYTHONWARNINGS=ignore .venv/bin/python benchmarks/bench_ingest.py \\
        --readings 20000 --rounds 2
"""

import argparse
import json
import os
import platform
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests
from benchkit import account, bearer, run_script, running, scratch, write_results

from harness.bursts import KWH, AmqpBurst, MqttBurst, readings_of
from harness.readings import stored
from harness.stack import Stack, read_procfile
from simulator.publisher import DeviceLogin

RESULTS = Path(__file__).resolve().parent / "results" / "ingest.json"
DEVICES = 10


def provision(stack: Stack) -> dict[str, list[dict]]:
    """Per transport, ``DEVICES`` devices' credentials."""
    url = stack.url
    _, token = account(stack)
    logins = {}
    for transport in ("amqp", "mqtt"):
        logins[transport] = []
        for n in range(DEVICES):
            device = requests.post(
                url("/api/devices"),
                json={
                    "name": f"{transport} {n}",
                    "kind": "meter",
                    "max_hourly_kwh": 1e5,
                },
                headers=bearer(token),
            ).json()
            answer = requests.post(
                url(f"/api/devices/{device['id']}/credentials"), headers=bearer(token)
            )
            answer.raise_for_status()
            logins[transport].append(answer.json())
    return logins


def one_round(stack: Stack, transport: str, logins: list[dict], count: int) -> dict:
    per_device = count // len(logins)
    batches = [readings_of(login["device_id"], per_device) for login in logins]
    device_ids = [login["device_id"] for login in logins]
    before = stored(stack, *device_ids)
    if transport == "mqtt":
        bursts = [
            MqttBurst(login, batch)
            for login, batch in zip(logins, batches, strict=True)
        ]
    else:
        bursts = [
            AmqpBurst(
                DeviceLogin.from_answer(login).amqp_uri(stack.resources.amqp_uri),
                batch,
            )
            for login, batch in zip(logins, batches, strict=True)
        ]
    acked: list[set[str]] = []
    threads = [
        threading.Thread(target=lambda b=burst: acked.append(b.run(timeout=900)))
        for burst in bursts
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    published = time.monotonic()
    sent = per_device * len(logins)
    while stored(stack, *device_ids)[0] - before[0] < sent:
        if time.monotonic() - published > 600:
            break
        time.sleep(0.05)
    committed = time.monotonic()
    time.sleep(2)  # anything counted twice would show up by now
    after = stored(stack, *device_ids)
    rows, distinct = after[0] - before[0], after[1] - before[1]
    return {
        "transport": transport,
        "readings": sent,
        "acknowledged": len(set().union(*acked)),
        "stored_rows": rows,
        "distinct": distinct,
        "lost": sent - distinct,
        "duplicated": rows - distinct,
        "kwh_sent": round(sent * KWH, 6),
        "kwh_counted": round(after[2] - before[2], 6),
        "publish_seconds": round(published - started, 3),
        "seconds": round(committed - started, 3),
        "readings_per_second": round(sent / (committed - started), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readings", type=int, default=20_000, help="per round")
    parser.add_argument("--rounds", type=int, default=2, help="per transport")
    args = parser.parse_args()
    processes = [n for n in read_procfile() if n not in ("simulator", "web")]
    rounds = []
    with (
        scratch("ingest") as workdir,
        running(Stack(workdir, processes=processes)) as stack,
    ):
        logins = provision(stack)
        for _ in range(args.rounds):
            for transport in ("amqp", "mqtt"):
                result = one_round(stack, transport, logins[transport], args.readings)
                print(json.dumps(result), flush=True)
                rounds.append(result)
    pooled = {}
    for transport in ("amqp", "mqtt"):
        mine = [r for r in rounds if r["transport"] == transport]
        pooled[transport] = {
            "readings": sum(r["readings"] for r in mine),
            "seconds": round(sum(r["seconds"] for r in mine), 3),
            "lost": sum(r["lost"] for r in mine),
            "duplicated": sum(r["duplicated"] for r in mine),
        }
        pooled[transport]["readings_per_second"] = round(
            pooled[transport]["readings"] / pooled[transport]["seconds"], 1
        )
    ratio = (
        pooled["mqtt"]["readings_per_second"] / pooled["amqp"]["readings_per_second"]
    )
    document = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "arguments": vars(args),
        "rounds": rounds,
        "pooled": pooled,
        "mqtt_over_amqp": round(ratio, 3),
    }
    write_results(RESULTS, document)
    print(json.dumps({"pooled": pooled, "mqtt_over_amqp": round(ratio, 3)}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
