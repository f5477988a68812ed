"""Asking a process's own HTTP server (its metrics, /livez, /readyz) directly, and
serving one for a test."""

import json
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path


def fetch(url: str, timeout: float = 5) -> tuple[int, bytes]:
    """The status and body of ``GET url``; status 0 when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


@contextmanager
def metrics_server(targets_dir: Path, probes, process: str = "monitoring_worker_1"):
    """A process's metrics server (``serve_in_thread``) on a free port, answering
    ``probes``, for as long as the block: its address, as its target file says."""
    from services.common.metrics import serve_in_thread

    settings = {
        "host": "127.0.0.1",
        "port": 0,
        "targets_dir": str(targets_dir),
        "process": process,
        "program": process.rstrip("_0123456789"),
    }
    server = serve_in_thread(settings, probes)
    try:
        [group] = json.loads((targets_dir / f"{process}.json").read_text())
        yield f"http://{group['targets'][0]}"
    finally:
        server.shutdown()
        server.server_close()
