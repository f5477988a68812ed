"""What a signed-in request costs at the edge, measured against the same route
without ForwardAuth and against the framework's ceiling, in one run on one machine.

Every ``/api`` route but the public ones passes Traefik's ``auth`` middleware: before
the request goes on to the gateway, Traefik asks auth's ``/internal/verify``, which
checks the token's signature and the user's credential and the token's revocation
(remembered by auth until authdb announces a change), and answers the identity,
signed. The gateway takes that identity and asks auth nothing more
(``services/common/identity.py``); a request that did not come through Traefik
has its token checked by auth over RPC.

The script starts a throw-away platform (``harness.stack.Stack``) whose Traefik reads a
copy of ``traefik/dynamic.yml`` with extra routers, each with the ``api`` router's
middlewares but ``auth``, and measures, with the same in-process load generator,
concurrency and duration:

(a) ``GET /api/devices`` through Traefik with ForwardAuth (Bearer token);
(b) ``GET /bench-vouched/api/devices``: the same request without ForwardAuth, Traefik
    adding the identity auth would vouch for (signed with the platform's key, as
    auth signs it): the same gateway route with no token check at all;
(r) ``GET /bench-noauth/api/devices``: without ForwardAuth and without an identity,
    so the gateway has auth check the token over RPC (a request that bypasses
    Traefik);
(c) ``GET /api/health``: a public route (the gateway asks every service for its
    health over RPC);
(d) ``GET /bench-bare/api/devices``: a bare Nameko HTTP route behind Traefik that
    answers the same body (``benchmarks/bare_nameko.py``): the framework's ceiling.

(a)/(b) in req/s is the cost of ForwardAuth; (a)/(d) how close the route comes to
the framework's ceiling. The targets are measured in turns (ABRCD ABRCD …) to spread
drift over them all; figures pool every round of a target. The load generator runs
in this process (one keep-alive ``http.client.HTTPConnection`` per thread) for every
target, so its own overhead, and the CPU it takes from the platform on a small
machine, weighs on each of them.

Run from the repository root::

    .venv/bin/python benchmarks/bench_forwardauth.py [--seconds N] [--concurrency C]
"""

import argparse
import http.client
import re
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
import yaml
from benchkit import (
    account,
    bearer,
    header,
    markdown_table,
    percentile,
    ratio,
    run_script,
    running,
    scratch,
    traefik_version,
    write_results,
)

import config
from ems.keys import ensure_keys
from harness.polling import eventually
from harness.ports import free_port
from harness.stack import Stack, read_procfile
from services.common.identity import Voucher

DYNAMIC = config.ROOT_DIR / "traefik" / "dynamic.yml"
RESULTS = Path(__file__).resolve().parent / "results" / "forwardauth.json"
NOAUTH_PREFIX = "/bench-noauth"
VOUCHED_PREFIX = "/bench-vouched"
BARE = "/bench-bare/api/devices"
BARE_SCRIPT = Path(__file__).resolve().parent / "bare_nameko.py"
#: How long the identity Traefik adds to (b) lasts: the whole run.
VOUCHED_SECONDS = 4 * 3600
#: A Go template of traefik/dynamic.yml.
TEMPLATE = re.compile(r"\{\{.*?\}\}")
DEVICES = 5


@dataclass
class Target:
    key: str
    label: str
    path: str
    authenticated: bool


TARGETS = [
    Target("a", "GET /api/devices (ForwardAuth)", "/api/devices", True),
    Target(
        "b",
        "GET /bench-vouched/api/devices (no ForwardAuth, identity added)",
        VOUCHED_PREFIX + "/api/devices",
        False,
    ),
    Target(
        "r",
        "GET /bench-noauth/api/devices (no ForwardAuth, token checked over RPC)",
        NOAUTH_PREFIX + "/api/devices",
        True,
    ),
    Target("c", "GET /api/health (no auth)", "/api/health", False),
    Target("d", "GET /bench-bare/api/devices (bare Nameko route)", BARE, False),
]


@dataclass
class Sample:
    """What one measurement of one target collected."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)

    def add(self, other: "Sample") -> None:
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.errors += other.errors
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count


# -- the platform -----------------------------------------------------------------


def write_dynamic_config(
    workdir: Path, bare_port: int, identity: dict | None = None
) -> Path:
    """traefik/dynamic.yml plus the benchmark's routers, in ``workdir``: each with
    the ``api`` router's middlewares but ``auth``; ``bench-vouched`` only once the
    ``identity`` headers it adds are known.

    Traefik expands the file's Go templates before it parses the YAML, and not all
    of them are YAML strings (``maxRequestBodyBytes: {{ env … }}``): each stands as
    a placeholder while the YAML is edited, and goes back as it was.
    """
    text = DYNAMIC.read_text()
    templates = TEMPLATE.findall(text)
    for number, template in enumerate(templates):
        text = text.replace(template, f"bench-template-{number}-here", 1)
    dynamic = yaml.safe_load(text)
    http_config = dynamic["http"]
    edge = [m for m in http_config["routers"]["api"]["middlewares"] if m != "auth"]
    routers = {
        "bench-noauth": (NOAUTH_PREFIX, "gateway"),
        "bench-bare": ("/bench-bare", "bench-bare"),
    }
    if identity is not None:
        routers["bench-vouched"] = (VOUCHED_PREFIX, "gateway")
        http_config["middlewares"]["bench-identity"] = {
            "headers": {"customRequestHeaders": identity}
        }
    for name, (prefix, service) in routers.items():
        http_config["middlewares"][f"{name}-strip"] = {
            "stripPrefix": {"prefixes": [prefix]}
        }
        http_config["routers"][name] = {
            "rule": f"PathPrefix(`{prefix}`)",
            "priority": 300,
            "service": service,
            "middlewares": [
                *([] if service == "bench-bare" else [f"{name}-strip"]),
                *edge,
                *(["bench-identity"] if name == "bench-vouched" else []),
            ],
        }
    http_config["services"]["bench-bare"] = {
        "loadBalancer": {"servers": [{"url": f"http://127.0.0.1:{bare_port}"}]}
    }
    # No line folding, so that each placeholder stays whole on its line.
    text = yaml.safe_dump(dynamic, sort_keys=False, width=10_000)
    for number, template in enumerate(templates):
        text = text.replace(f"bench-template-{number}-here", template, 1)
    path = workdir / "dynamic.yml"
    path.write_text(text)
    return path


def user_id(stack: Stack, token: str) -> str:
    answer = requests.get(stack.url("/api/auth/me"), headers=bearer(token), timeout=15)
    answer.raise_for_status()
    return answer.json()["id"]


def vouch(stack: Stack, user: str) -> dict:
    """The identity headers auth would add for ``user``, lasting the whole run."""
    voucher = Voucher.from_pem(stack.resources.private_key.read_bytes())
    return voucher.headers(user, "USER", now=time.time() + VOUCHED_SECONDS)


def answers(url: str) -> bool:
    """``url`` answers 200 (Traefik, just restarted, may not listen yet)."""
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


@contextmanager
def bare_route(workdir: Path, port: int, body: bytes):
    """``benchmarks/bare_nameko.py`` answering ``body``, for as long as the block."""
    body_file = workdir / "bare-body.json"
    body_file.write_bytes(body)
    process = subprocess.Popen(
        [sys.executable, str(BARE_SCRIPT), str(port), str(body_file)]
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def log_in_with_devices(stack: Stack) -> str:
    """Registers a user, logs in and adds devices; the user's access token."""
    _, token = account(stack)
    for number in range(DEVICES):
        device = {"name": f"Device {number}", "kind": "appliance"}
        requests.post(
            stack.url("/api/devices"),
            json=device,
            headers=bearer(token),
            timeout=15,
        ).raise_for_status()
    return token


def check_routes(stack: Stack, token: str) -> None:
    """(a), (b), (r) and (d) answer the same; (r) without a token is refused."""
    auth = bearer(token)
    with_auth = requests.get(stack.url("/api/devices"), headers=auth, timeout=15)
    if with_auth.status_code != 200 or len(with_auth.json()) != DEVICES:
        raise RuntimeError(f"expected {DEVICES} devices: {with_auth.text!r}")
    for path, headers in (
        (VOUCHED_PREFIX + "/api/devices", {}),
        (NOAUTH_PREFIX + "/api/devices", auth),
        (BARE, {}),
    ):
        answer = requests.get(stack.url(path), headers=headers, timeout=15)
        if answer.status_code != 200 or answer.json() != with_auth.json():
            raise RuntimeError(f"{path} differs: {answer.text!r}")
    anonymous = requests.get(stack.url(NOAUTH_PREFIX + "/api/devices"), timeout=15)
    if anonymous.status_code != 401:
        raise RuntimeError(f"bench-noauth without a token: {anonymous.status_code}")


# -- the load generator -----------------------------------------------------------


def worker(port, path, headers, deadline, sample, lock) -> None:
    """Sends ``GET path`` on one keep-alive connection until ``deadline``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, statuses, errors = [], {}, 0
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            status = str(response.status)
        except (OSError, http.client.HTTPException) as exc:
            status = type(exc).__name__
            connection.close()  # the next request reconnects
        latencies.append(time.perf_counter() - started)
        statuses[status] = statuses.get(status, 0) + 1
        errors += status != "200"
    connection.close()
    with lock:
        sample.latencies += latencies
        sample.errors += errors
        for status, count in statuses.items():
            sample.statuses[status] = sample.statuses.get(status, 0) + count


def run_load(port, path, headers, seconds, concurrency) -> Sample:
    """``concurrency`` threads sending ``GET path`` for ``seconds``."""
    sample, lock = Sample(), threading.Lock()
    started = time.perf_counter()
    deadline = started + seconds
    threads = [
        threading.Thread(
            target=worker,
            args=(port, path, headers, deadline, sample, lock),
            daemon=True,
        )
        for _ in range(concurrency)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sample.seconds = time.perf_counter() - started
    return sample


def measure(stack, token, args) -> dict[str, dict]:
    """Every target, ``args.rounds`` times in turn, each after a warm-up."""
    port = stack.ports["http"]
    pooled = {target.key: Sample() for target in TARGETS}
    per_round = {target.key: [] for target in TARGETS}
    for round_number in range(1, args.rounds + 1):
        for target in TARGETS:
            headers = bearer(token) if target.authenticated else {}
            run_load(port, target.path, headers, args.warmup, args.concurrency)
            sample = run_load(
                port, target.path, headers, args.seconds, args.concurrency
            )
            pooled[target.key].add(sample)
            rate = len(sample.latencies) / sample.seconds
            per_round[target.key].append(round(rate, 1))
            print(
                f"  round {round_number} ({target.key}) {target.label}: "
                f"{rate:.1f} req/s, {sample.errors} errors",
                flush=True,
            )
    return {
        target.key: summarize(target, pooled[target.key], per_round[target.key])
        for target in TARGETS
    }


def summarize(target: Target, sample: Sample, rates: list[float]) -> dict:
    return {
        "target": target.label,
        "path": target.path,
        "requests": len(sample.latencies),
        "seconds": round(sample.seconds, 2),
        "req_per_s": round(len(sample.latencies) / sample.seconds, 1),
        "req_per_s_by_round": rates,
        "p50_ms": round(percentile(sample.latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(sample.latencies, 0.99) * 1000, 2),
        "errors": sample.errors,
        "statuses": sample.statuses,
    }


# -- the report -------------------------------------------------------------------


def ratios(results: dict[str, dict]) -> dict[str, float]:
    return {
        "a_over_b_req_per_s": ratio(results, "req_per_s", "a", "b"),
        "a_over_d_req_per_s": ratio(results, "req_per_s", "a", "d"),
        "a_over_r_req_per_s": ratio(results, "req_per_s", "a", "r"),
        "a_minus_b_p50_ms": round(results["a"]["p50_ms"] - results["b"]["p50_ms"], 2),
    }


def results_table(results: dict[str, dict]) -> str:
    keys = ["target", "requests", "req_per_s", "p50_ms", "p99_ms", "errors"]
    return markdown_table(
        ["", "target", "requests", "req/s", "p50 ms", "p99 ms", "errors"],
        [[f"({key})", *(r[k] for k in keys)] for key, r in results.items()],
    )


def report(results: dict[str, dict], args) -> dict:
    document = {
        **header("forwardauth", traefik=traefik_version()),
        "concurrency": args.concurrency,
        "seconds_per_measurement": args.seconds,
        "warmup_seconds": args.warmup,
        "rounds": args.rounds,
        "aggregation": "each target measured once per round, rounds in turn "
        "(ABRCD ABRCD …); requests and latencies pooled over the rounds",
        "load_generator": "in-process Python threads, one keep-alive "
        "http.client.HTTPConnection each; the same for every target",
        "results": results,
        "ratios": ratios(results),
    }
    return write_results(RESULTS, document)


def print_report(document: dict) -> None:
    rates = document["ratios"]
    print()
    print(results_table(document["results"]))
    print()
    print(f"(a)/(b) req/s, ForwardAuth cost: {rates['a_over_b_req_per_s']}")
    print(f"(a) p50 - (b) p50: {rates['a_minus_b_p50_ms']} ms")
    print(f"(a)/(d) req/s, against the framework: {rates['a_over_d_req_per_s']}")
    print(
        f"(a)/(r) req/s, against the token checked over RPC: "
        f"{rates['a_over_r_req_per_s']}"
    )
    print(
        f"\n{document['machine']['nproc']} cores, Python "
        f"{document['machine']['python']}, concurrency {document['concurrency']}, "
        f"{document['rounds']} x {document['seconds_per_measurement']} s per target "
        "(pooled). The load generator runs in this process for all three targets, "
        "so its own overhead affects them equally."
    )
    print(f"Written to {RESULTS}")


# -- main -------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds",
        type=float,
        default=10.0,
        help="length of each measurement (default 10)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="client threads, one connection each (default 8)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=2.0,
        help="warm-up before each measurement, discarded (default 2)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="times each target is measured, in turn (default 2)",
    )
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    with scratch("forwardauth") as workdir:
        bare_port = free_port()
        dynamic = write_dynamic_config(workdir, bare_port)
        # The platform's keys, made now: (b)'s identity is signed with them.
        ensure_keys(
            workdir / "keys" / "jwt_private.pem", workdir / "keys" / "jwt_public.pem"
        )
        # No demo household and no simulator: their history would take the CPU
        # the requests are measured on.
        environment = {"EMS_TRAEFIK_DYNAMIC": str(dynamic), "EMS_DEMO": "0"}
        processes = [name for name in read_procfile() if name != "simulator"]
        with running(
            Stack(workdir, environment=environment, processes=processes)
        ) as stack:
            token = log_in_with_devices(stack)
            body = requests.get(
                stack.url("/api/devices"), headers=bearer(token), timeout=15
            ).content
            write_dynamic_config(
                workdir, bare_port, vouch(stack, user_id(stack, token))
            )
            # Traefik reads its routes at start only.
            stack.restart("traefik")
            with bare_route(workdir, bare_port, body):
                eventually(lambda: answers(stack.url(BARE)), timeout=60)
                check_routes(stack, token)
                print(
                    f"Measuring: {args.rounds} rounds, {args.seconds} s per target, "
                    f"concurrency {args.concurrency}",
                    flush=True,
                )
                print_report(report(measure(stack, token, args), args))
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
