"""Asking a process's own HTTP server (its metrics, /livez, /readyz) directly."""

import urllib.error
import urllib.request


def fetch(url: str, timeout: float = 5) -> tuple[int, bytes]:
    """The status and body of ``GET url``; status 0 when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""
