"""What the benchmark scripts share: stopping cleanly, reading the machine.

Importing it also makes the test harness (``harness/``, at the repository's root)
importable: Python puts a script's own folder on ``sys.path``, not the folder it is
run from, and the harness is not installed with the platform.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the stack is stopped either way."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


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
