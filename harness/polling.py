"""Waiting for what a running platform does in its own time."""

import time


def eventually(check, timeout: float = 30.0, interval: float = 0.25):
    """``check()``'s first truthy value, polled until ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(interval)
