"""Whether a burst of logins delays ForwardAuth's ``/internal/verify``, with auth's
bounded hashing pool and without it, in one run on one machine.

Every login hashes a password (Argon2id, 19 MiB, two passes) in an OS thread of the
auth process; ``/internal/verify``, which Traefik calls before every ``/api`` request,
hashes nothing but needs one of the same process's workers. The script starts a
throw-away platform of the processes these routes need (auth, users, the gateway,
Traefik), registers a user, and measures ``GET /internal/verify`` (sequential
requests straight to auth, with a valid token):

(a) idle;
(b) while ``--concurrency`` clients log in back-to-back through Traefik, with the
    pool as configured by default (``PASSWORD_HASHING`` of auth: 2 threads,
    6 waiting, niceness 10);
(c) the same burst with the pool opened wide and no lower priority (20 threads,
    1,000 waiting, niceness 0: what eventlet's thread pool alone gave before).

(b) and (c) are measured in turns, ``--rounds`` times, auth restarted with the
other settings in between. For each it also counts the logins answered 200 and
503 (pool full).

Run from the repository root::

    .venv/bin/python benchmarks/bench_verify_during_logins.py [--seconds N]
        [--concurrency C] [--rounds R] [--niceness N]
"""

import argparse
import json
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests
from benchkit import (
    PASSWORD,
    account,
    percentile,
    run_script,
    running,
    scratch,
    write_results,
)
from nameko.standalone.rpc import ClusterRpcProxy

from ems.commands import call_when_up, wait_for_http
from harness.stack import Stack

RESULTS = Path(__file__).resolve().parent / "results" / "verify_during_logins.json"
BOUNDED = {}  # auth's settings as they are by default
UNBOUNDED = {
    "EMS_HASHING_THREADS": "20",
    "EMS_HASHING_MAX_WAITING": "1000",
    "EMS_HASHING_NICENESS": "0",
}


def platform(workdir: Path) -> Stack:
    return Stack(
        workdir,
        environment={
            "EMS_LOGIN_MAX_FAILURES_PER_CLIENT": "100000",
            "EMS_REGISTER_MAX_PER_CLIENT": "100000",
            **BOUNDED,
        },
        processes=["auth", "users", "gateway", "traefik"],
    )


def wait_until_up(stack: Stack) -> None:
    deadline = time.monotonic() + 120
    with ClusterRpcProxy({"AMQP_URI": stack.resources.amqp_uri}) as cluster:
        for service in ("auth", "users"):
            call_when_up(cluster, service, "health", deadline)
    wait_for_http(stack.url("/api/openapi.json"), deadline)


def probe_verify(stack: Stack, token: str, seconds: float) -> list[float]:
    """Latencies (ms) of sequential verifies, one every 20 ms, for ``seconds``."""
    url = f"http://127.0.0.1:{stack.ports['auth']}/internal/verify"
    headers = {"Authorization": f"Bearer {token}"}
    timings = []
    deadline = time.monotonic() + seconds
    with requests.Session() as session:
        while time.monotonic() < deadline:
            started = time.monotonic()
            response = session.get(url, headers=headers, timeout=30)
            timings.append(1000 * (time.monotonic() - started))
            if response.status_code != 200:
                raise RuntimeError(f"verify answered {response.status_code}")
            time.sleep(0.02)
    return timings


def during_burst(stack, email, token, seconds, concurrency) -> dict:
    stop = threading.Event()
    statuses: list[int] = []

    def log_in_repeatedly():
        with requests.Session() as session:
            while not stop.is_set():
                statuses.append(
                    session.post(
                        stack.url("/api/auth/login"),
                        json={"email": email, "password": PASSWORD},
                        timeout=60,
                    ).status_code
                )

    threads = [threading.Thread(target=log_in_repeatedly) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        timings = probe_verify(stack, token, seconds)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    result = summary(timings)
    result["logins"] = {str(code): statuses.count(code) for code in set(statuses)}
    result["logins_per_s"] = round(statuses.count(200) / (seconds + 1.0), 1)
    return result


def summary(timings: list[float]) -> dict:
    return {
        "verifies": len(timings),
        "p50_ms": round(percentile(timings, 0.50), 1),
        "p99_ms": round(percentile(timings, 0.99), 1),
        "max_ms": round(max(timings), 1),
    }


def restart_auth(stack: Stack, environment: dict[str, str]) -> None:
    stack.extra_env["auth"] = environment
    stack.restart("auth")
    wait_until_up(stack)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--niceness",
        type=int,
        default=None,
        help="the bounded pool's niceness (default: EMS_HASHING_NICENESS's)",
    )
    args = parser.parse_args()
    with scratch("verify") as workdir, running(platform(workdir)) as stack:
        wait_until_up(stack)
        email, token = account(stack)
        results = {"idle": summary(probe_verify(stack, token, args.seconds))}
        for round_number in range(1, args.rounds + 1):
            bounded = dict(BOUNDED)
            if args.niceness is not None:
                bounded["EMS_HASHING_NICENESS"] = str(args.niceness)
            for name, environment in (("bounded", bounded), ("unbounded", UNBOUNDED)):
                restart_auth(stack, environment)
                results[f"{name}_{round_number}"] = during_burst(
                    stack, email, token, args.seconds, args.concurrency
                )
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": args.seconds,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "bounded_niceness": args.niceness,
        "results": results,
    }
    print(json.dumps(write_results(RESULTS, report), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
