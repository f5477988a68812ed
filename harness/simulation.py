"""``ems simulate --commands`` as a child process: an account's simulated devices log
in over MQTT and obey their commands, for the tests that need devices that answer."""

import signal
import subprocess
import sys
from pathlib import Path


def simulate(stack, email: str, *options: str, log: Path) -> subprocess.Popen:
    """Start the simulator for the account ``email`` (password ``password-1``),
    its messages appended to ``log``."""
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("ems")),
            "simulate",
            "--email",
            email,
            "--password",
            "password-1",
            "--commands",
            "--rate",
            "4",
            "--quiet",
            *options,
        ],  # fmt: skip
        env=stack.env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("a"),
    )


def stop(process: subprocess.Popen) -> None:
    """Stop it as Ctrl-C would (its devices say they go offline), or kill it."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
