"""Energy over a range: (a) a year by day of a 50-device site from the day rollups,
against the same answer computed from the hourly totals; (b) the gateway's peak
memory while it streams a year of hourly figures for many devices as CSV, against
the same gateway idle.

(a) needs only a migrated monitoringdb (a throw-away one). It fills ``hourly_totals``
with a year of hours for ``--devices`` devices of one site (Europe/Berlin, a
time-of-use tariff), builds their rollups (``rebuild_rollups``), then answers the
year by day ``--rounds`` times each way, in turns: (1) ``rollup_amounts`` (what
``/api/energy?resolution=day`` reads) and (2) the site's hourly totals summed per
hour in SQL, priced and bucketed into local days in Python (``scopes.hour_amounts``
then ``rollups.local_day``: the answer without rollups). Both answers are checked
equal, to the last digit, before any clock is read.

(b) starts the whole platform (``harness.stack.Stack``), adds ``--stream-devices``
devices for one account, writes a year of their hourly totals straight into
monitoringdb, and downloads ``/api/export/energy.csv?resolution=hour`` of each
device over a year, ``--concurrency`` at a time, while it samples the gateway
process's resident memory (``/proc/<pid>/status`` VmRSS) every 50 ms. It reports the
idle RSS (after a warm-up request), the peak while streaming, their ratio, and the
bytes and rows downloaded.

Run from the repository root::

    PYTHONWARNINGS=ignore .venv/bin/python benchmarks/bench_energy.py [--part a|b]
"""

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests
from benchkit import (
    account,
    bearer,
    header,
    markdown_table,
    run_script,
    running,
    scratch,
    write_results,
)
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from harness.stack import Resources, Stack, read_procfile
from services.common.topology import iso_utc
from services.monitoring import energy, partitions, rollups, scopes
from services.monitoring.devices import put_site
from services.monitoring.models import MonitoredDevice
from services.monitoring.storage import MonitoringStore

RESULTS = Path(__file__).resolve().parent / "results" / "energy.json"
TOU = {
    "currency": "EUR",
    "import_per_kwh": 0.3,
    "export_per_kwh": 0.08,
    "periods": [
        {
            "start_hour": 17,
            "end_hour": 21,
            "import_per_kwh": 0.45,
            "export_per_kwh": 0.1,
        }
    ],
}
YEAR_START = date(2025, 1, 1)
YEAR_END = date(2026, 1, 1)


def fill_hours(connection, device_ids, first: datetime, hours: int) -> None:
    """A year of hourly totals for each device, of amounts varying by hour."""
    connection.execute(
        text(
            "INSERT INTO hourly_totals (device_id, hour, kwh, export_kwh, alerted) "
            "SELECT d, :first + make_interval(hours => h), "
            "round((0.05 + (h % 24) * 0.01 + (h % 7) * 0.001)::numeric, 6), "
            "round((CASE WHEN h % 24 BETWEEN 9 AND 15 THEN 0.2 + (h % 5) * 0.01 "
            "ELSE 0 END)::numeric, 6), false "
            "FROM unnest(CAST(:devices AS varchar[])) AS d, "
            "generate_series(0, :hours - 1) AS h"
        ),
        {"first": first, "hours": hours, "devices": list(device_ids)},
    )


def part_a(args) -> dict:
    with scratch("energy") as folder:
        resources = Resources(folder)
        resources.create()
        try:
            return _part_a(args, resources.databases["monitoringdb"])
        finally:
            resources.destroy()


def _part_a(args, url: str) -> dict:
    engine = create_engine(url)
    site = {
        "id": str(uuid.uuid4()),
        "timezone": "Europe/Berlin",
        "tariff": TOU,
        "co2_kg_per_kwh": 0.38,
        "members": [],
        "updated_at": "2026-12-01T00:00:00+00:00",
    }
    devices = [str(uuid.uuid4()) for _ in range(args.devices)]
    # Local Berlin year: its hours from 2024-12-31T23:00Z, plus margin.
    first = datetime(2024, 12, 31, tzinfo=UTC)
    hours = 368 * 24
    with engine.begin() as connection:
        for device_id in devices:
            connection.execute(
                text(
                    "INSERT INTO monitored_devices (id, user_id, max_hourly_kwh, "
                    "reading_interval_s, updated_at, deleted, site_id) VALUES "
                    "(:id, :u, 100, 60, now(), false, :s)"
                ),
                {"id": device_id, "u": str(uuid.uuid4()), "s": site["id"]},
            )
        fill_hours(connection, devices, first, hours)
    started = time.perf_counter()
    with Session(engine) as session:
        store = MonitoringStore(session)
        put_site(store, site)
        store.commit()
    rebuild_s = time.perf_counter() - started
    print(f"{len(devices)} devices × {hours} hours; rebuild {rebuild_s:.2f} s")

    with Session(engine) as session:
        store = MonitoringStore(session)
        scope = scopes.Scope(
            "site",
            site["id"],
            MonitoredDevice.site_id == site["id"],
            store.site_terms({site["id"]}, lock=False),
        )
        terms = scope.terms[site["id"]]
        window = energy.Range("day", YEAR_START, YEAR_END)

        def from_rollups():
            return store.rollup_amounts("day", scope.condition, *window_bounds())

        def window_bounds():
            return window.start, window.end

        def from_hours():
            start, end = energy.hours_of(window, terms.zone)
            days: dict = {}
            for hour, amounts in scopes.hour_amounts(store, scope, start, end).items():
                day = rollups.local_day(hour, terms)
                days[day] = days.get(day, rollups.Amounts()) + amounts
            return days

        assert from_rollups() == from_hours(), "the two answers differ"
        session.commit()
        timings = {"rollups": [], "hourly": []}
        for _ in range(args.rounds):
            for name, answer in (("rollups", from_rollups), ("hourly", from_hours)):
                began = time.perf_counter()
                answer()
                timings[name].append(time.perf_counter() - began)
                session.commit()
    engine.dispose()
    medians = {name: statistics.median(values) for name, values in timings.items()}
    return {
        "devices": len(devices),
        "hourly_rows": len(devices) * hours,
        "days": len(window.keys()),
        "rounds": args.rounds,
        "rebuild_s": round(rebuild_s, 3),
        "median_s": {name: round(value, 4) for name, value in medians.items()},
        "ratio_hourly_over_rollups": round(medians["hourly"] / medians["rollups"], 1),
    }


def rss_kib(pid: int) -> int:
    """Resident memory of a process and its children (``bash -c`` may keep the
    shell as the parent of the service's process)."""
    total = 0
    try:
        with open(f"/proc/{pid}/status") as stream:
            for line in stream:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        with open(f"/proc/{pid}/task/{pid}/children") as stream:
            children = [int(child) for child in stream.read().split()]
    except OSError:
        return total
    return total + sum(rss_kib(child) for child in children)


def gateway_pid(stack) -> int:
    """The gateway's process (``ems run gateway`` runs it in its own process)."""
    return stack.processes["gateway"].pid


def part_b(args) -> dict:
    with (
        scratch("energy-stream") as folder,
        running(
            Stack(
                Path(tempfile.mkdtemp(dir=folder)),
                environment={"EMS_DEMO": "0"},
                processes=[n for n in read_procfile() if n not in ("simulator", "web")],
            )
        ) as stack,
    ):
        _, token = account(stack, "Streamer")
        devices = []
        for n in range(args.stream_devices):
            created = requests.post(
                stack.url("/api/devices"),
                json={"name": f"Meter {n}", "kind": "meter", "max_hourly_kwh": 5},
                headers=bearer(token),
                timeout=30,
            )
            created.raise_for_status()
            devices.append(created.json()["id"])
        first = datetime(2025, 1, 1, tzinfo=UTC)
        engine = create_engine(stack.resources.databases["monitoringdb"])
        deadline = time.monotonic() + 60
        while True:  # monitoring's copy of the devices, from their events
            with engine.connect() as connection:
                known = connection.scalar(
                    text("SELECT count(*) FROM monitored_devices")
                )
            if known >= len(devices) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        with engine.begin() as connection:
            fill_hours(connection, devices, first, 365 * 24)
        engine.dispose()
        pid = gateway_pid(stack)

        def path(device_id):
            return (
                f"/api/export/energy.csv?scope=device&id={device_id}"
                "&resolution=hour&from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z"
            )

        # Warm-up: every code path once, then the idle figure.
        requests.get(stack.url(path(devices[0])), headers=bearer(token), timeout=120)
        time.sleep(1.0)
        idle = rss_kib(pid)
        peak, stop, downloaded = idle, threading.Event(), []

        def sample():
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, rss_kib(pid))
                time.sleep(0.05)

        def fetch(queue):
            while queue:
                device_id = queue.pop()
                with requests.get(
                    stack.url(path(device_id)),
                    headers=bearer(token),
                    stream=True,
                    timeout=300,
                ) as answer:
                    answer.raise_for_status()
                    size = rows = 0
                    for chunk in answer.iter_content(65536):
                        size += len(chunk)
                        rows += chunk.count(b"\n")
                    downloaded.append((size, rows - 1))

        sampler = threading.Thread(target=sample)
        sampler.start()
        queue = list(devices)
        began = time.perf_counter()
        threads = [
            threading.Thread(target=fetch, args=(queue,))
            for _ in range(args.concurrency)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        stop.set()
        sampler.join()
        energy_peak = peak

        # One long download: a device's raw readings, ``--readings`` of them over
        # the last 60 days, straight into their partitions.
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        start = now - timedelta(days=60)
        engine = create_engine(stack.resources.databases["monitoringdb"])
        with Session(engine) as session:
            store = MonitoringStore(session)
            store.create_partitions(
                partitions.needed(start + n * energy.HOUR for n in range(60 * 24 + 1))
            )
            step = 60 * 24 * 3600 / args.readings
            session.execute(
                text(
                    "INSERT INTO readings (reading_id, device_id, timestamp, hour, "
                    "kwh, export_kwh, power_w, received_at) "
                    "SELECT md5(:d || n), :d, t, date_trunc('hour', t - "
                    "interval '1 microsecond'), 0.001234, 0, 1234.5, now() "
                    "FROM generate_series(1, :n) AS n, LATERAL (SELECT :start + "
                    "make_interval(secs => n * :step) AS t) AS s"
                ),
                {"d": devices[0], "n": args.readings, "start": start, "step": step},
            )
            session.commit()
        engine.dispose()
        time.sleep(1.0)
        readings_idle = rss_kib(pid)
        peak, stop = readings_idle, threading.Event()
        sampler = threading.Thread(target=sample)
        sampler.start()
        began = time.perf_counter()
        with requests.get(
            stack.url(
                f"/api/export/readings.csv?device_id={devices[0]}"
                f"&from={iso_utc(start)}&to={iso_utc(now + energy.HOUR)}"
            ),
            headers=bearer(token),
            stream=True,
            timeout=600,
        ) as answer:
            answer.raise_for_status()
            size = rows = 0
            for chunk in answer.iter_content(65536):
                size += len(chunk)
                rows += chunk.count(b"\n")
        readings_seconds = time.perf_counter() - began
        stop.set()
        sampler.join()
        assert rows - 1 == args.readings, (rows, args.readings)
        return {
            "devices": len(devices),
            "concurrency": args.concurrency,
            "downloads": len(downloaded),
            "rows": sum(rows for _, rows in downloaded),
            "bytes": sum(size for size, _ in downloaded),
            "seconds": round(elapsed, 1),
            "idle_rss_mib": round(idle / 1024, 1),
            "peak_rss_mib": round(energy_peak / 1024, 1),
            "ratio_peak_over_idle": round(energy_peak / idle, 3),
            "readings": {
                "rows": rows - 1,
                "bytes": size,
                "seconds": round(readings_seconds, 1),
                "idle_rss_mib": round(readings_idle / 1024, 1),
                "peak_rss_mib": round(peak / 1024, 1),
                "ratio_peak_over_idle": round(peak / readings_idle, 3),
            },
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("a", "b", "both"), default="both")
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--stream-devices", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--readings", type=int, default=300_000)
    args = parser.parse_args()
    document = header("energy")
    if args.part in ("a", "both"):
        document["rollups"] = result = part_a(args)
        print(
            markdown_table(
                ["answer", "source", "median s"],
                [
                    ["(1)", "day rollups", result["median_s"]["rollups"]],
                    ["(2)", "hourly totals", result["median_s"]["hourly"]],
                ],
            )
        )
        print(f"(2)/(1): {result['ratio_hourly_over_rollups']}")
    if args.part in ("b", "both"):
        document["streaming"] = result = part_b(args)
        print(result)
    write_results(RESULTS, document)
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
