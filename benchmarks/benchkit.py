"""What the benchmark scripts share: a throw-away platform to measure, an account on
it, CPU time per process, percentiles and ratios, and the results file.

Importing it also makes the test harness (``harness/``, at the repository's root)
importable: Python puts a script's own folder on ``sys.path``, not the folder it is
run from, and the harness is not installed with the platform.
"""

import collections
import json
import math
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

#: The password of every account a benchmark registers.
PASSWORD = "bench-password-1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: Processes of the machine's RabbitMQ and PostgreSQL, by the name the kernel gives.
SERVERS = {
    "beam.smp": "rabbitmq",
    "erl_child_setup": "rabbitmq",
    "epmd": "rabbitmq",
    "inet_gethost": "rabbitmq",
}


# -- running a benchmark ----------------------------------------------------------


def run_script(main: Callable[[], int | None]) -> int:
    """``main()``'s exit status. Ctrl-C and SIGTERM unwind it alike, so whatever it
    started is stopped, and end the run with 130."""
    stop_on_sigterm()
    try:
        return main() or 0
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return 130


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the stack is stopped either way."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


@contextmanager
def scratch(name: str) -> Iterator[Path]:
    """A folder of the run's own, removed at the end."""
    folder = Path(tempfile.mkdtemp(prefix=f"ems-bench-{name}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def running(stack):
    """``stack`` (a ``harness.stack.Stack``) started, and stopped at the end; if the
    run fails, the last lines of its processes' logs go to stderr."""
    print(f"Starting the stack in {stack.workdir} …", flush=True)
    with stack:
        try:
            yield stack
        except Exception:
            print(stack.report(), file=sys.stderr)
            raise
        finally:
            print("Stopping the stack …", flush=True)


def account(stack, name: str = "Bench") -> tuple[str, str]:
    """A newly registered user of ``stack``: ``(email, access token)``."""
    email = f"{name.lower().replace(' ', '-')}-{uuid.uuid4().hex[:8]}@example.com"
    requests.post(
        stack.url("/api/auth/register"),
        json={"email": email, "password": PASSWORD, "name": name},
        timeout=30,
    ).raise_for_status()
    response = requests.post(
        stack.url("/api/auth/login"),
        json={"email": email, "password": PASSWORD},
        timeout=30,
    )
    response.raise_for_status()
    return email, response.json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- CPU time per process -----------------------------------------------------------


def cpu_snapshot() -> dict[int, tuple[int, str, int]]:
    """``{pid: (ppid, comm, user+system ticks)}`` of every process."""
    snapshot = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stream:
                stat = stream.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        snapshot[int(entry)] = (int(fields[1]), comm, int(fields[11]) + int(fields[12]))
    return snapshot


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as stream:
        values = [int(v) for v in stream.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def command_line(pid: int, length: int) -> str:
    """The first ``length`` characters of ``pid``'s command line."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as stream:
            return stream.read().replace(b"\0", b" ").decode(errors="replace")[:length]
    except OSError:
        return "?"


def group_of(pid: int, snapshot, roots: dict[int, str]) -> str | None:
    """The name of the root ``pid`` is or descends from, ``rabbitmq`` or
    ``postgresql`` for those servers' processes, None for any other process."""
    seen, current = set(), pid
    while current in snapshot and current not in seen:
        if current in roots:
            return roots[current]
        seen.add(current)
        current = snapshot[current][0]
    comm = snapshot[pid][1]
    if comm.startswith("postgres"):
        return "postgresql"
    return SERVERS.get(comm)


@dataclass
class ProcessCpu:
    pid: int
    group: str | None
    comm: str
    seconds: float


@dataclass
class CpuUsage:
    #: Seconds from the window's creation to its close.
    wall: float
    #: The whole machine's busy share, from /proc/stat.
    machine_busy_pct: float
    processes: list[ProcessCpu]


class CpuWindow:
    """CPU time of every process from creation to ``close()``, each process under
    the root (``{pid: name}``) it descends from (``group_of``)."""

    def __init__(self, roots: dict[int, str]):
        self.roots = roots
        self.before = cpu_snapshot()
        self.machine = machine_ticks()
        self.started = time.monotonic()

    def close(self) -> CpuUsage:
        wall = time.monotonic() - self.started
        after = cpu_snapshot()
        busy, total = machine_ticks()
        processes = [
            ProcessCpu(
                pid,
                group_of(pid, after, self.roots),
                comm,
                (ticks - self.before.get(pid, (0, "", 0))[2]) / CLOCK_TICKS,
            )
            for pid, (_, comm, ticks) in after.items()
        ]
        busy_pct = 100 * (busy - self.machine[0]) / max(1, total - self.machine[1])
        return CpuUsage(wall, round(busy_pct, 1), processes)


def roots_of(stack) -> dict[int, str]:
    """``{pid: name}`` of the stack's processes, the roots of a ``CpuWindow``."""
    return {process.pid: name for name, process in stack.processes.items()}


#: The group of the processes of neither a benchmark, its stack, RabbitMQ nor
#: PostgreSQL: other work on the same machine.
OUTSIDE = "other (outside this benchmark)"


def cpu_result(window: CpuWindow) -> dict:
    """CPU seconds per process group, and the machine's busy share, of a window."""
    usage = window.close()
    seconds: collections.Counter = collections.Counter()
    outsiders: collections.Counter = collections.Counter()
    for process in usage.processes:
        label = process.group or OUTSIDE
        seconds[label] += process.seconds
        if process.group is None and process.seconds > 0:
            outsiders[command_line(process.pid, 100)] += process.seconds
    return {
        "wall_s": round(usage.wall, 2),
        "machine_busy_pct": usage.machine_busy_pct,
        "cpu_s_by_process": {
            name: round(value, 2)
            for name, value in sorted(seconds.items(), key=lambda kv: -kv[1])
            if value >= 0.05
        },
        # The busiest processes of neither this benchmark, its stack, RabbitMQ
        # nor PostgreSQL (other work on the same machine), by command line.
        "outside_busiest_cores": {
            command: round(value / usage.wall, 2)
            for command, value in outsiders.most_common(5)
            if value / usage.wall >= 0.05
        },
    }


# -- figures ----------------------------------------------------------------------


def percentile(values, fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` 0.99 for p99); NaN of no values."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def ratio(results: dict, figure: str, over: str, under: str, digits: int = 3):
    """``figure`` of result ``over`` divided by that of result ``under``, rounded."""
    return round(results[over][figure] / results[under][figure], digits)


def markdown_table(headings: list[str], rows: list[list], left: int = 2) -> str:
    """A Markdown table whose first ``left`` columns align left, the rest right."""

    def line(cells) -> str:
        return "|" + "|".join(f" {cell} " if cell != "" else " " for cell in cells)

    aligned = "|" + "---|" * left + "---:|" * (len(headings) - left)
    return "\n".join([line(headings) + "|", aligned, *(line(r) + "|" for r in rows)])


# -- the results file -------------------------------------------------------------


def header(benchmark: str, **versions: str) -> dict:
    """The first fields of a results file: which benchmark, when, the command, and
    the machine, with ``versions`` of what it measured."""
    return {
        "benchmark": benchmark,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": shlex.join(sys.orig_argv),
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            **versions,
        },
    }


def write_results(path: Path, document: dict) -> dict:
    """``document`` as JSON at ``path`` (``benchmarks/results/…``); the document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    return document


def traefik_version() -> str:
    binary = Path(sys.executable).with_name("traefik")
    try:
        output = subprocess.run(
            [str(binary), "version"], capture_output=True, text=True, timeout=10
        ).stdout
    except OSError:
        return "unknown"
    for line in output.splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    return "unknown"
