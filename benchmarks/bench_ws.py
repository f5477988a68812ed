"""WebSocket fan-out: how fast and how completely ws_gateway delivers a notification
published on ``ems.ws`` to many sockets, measured against a bare Tornado broadcast
server in the same run, on the same machine, with the same clients.

The script starts a throw-away platform (``harness.stack.Stack``) with the processes
of the Procfile but the reading pipeline (monitoring workers, balancer, MQTT bridge),
the web app and the simulator: every Nameko service (bootstrap's health wait asks
them all), gateway, ws_gateway, Traefik and bootstrap, with the per-user socket
quota raised to ``--clients``. It registers one user and
signs ``--clients`` access tokens for that user with the stack's private key (unique
``jti`` each; auth accepts them because the user exists with that role). Then, with
the same client population code for both:

(b) baseline: a bare Tornado WebSocket server in its own process (no Traefik, no
    auth, no RabbitMQ). A timer in that server broadcasts ``--rate`` messages a
    second for ``--seconds``, writing the same JSON text to every socket; each
    message carries the server's ``time.time()`` when it was built.
(g) gateway: ``--clients`` sockets on ONE ws_gateway process, through Traefik
    (``ws://127.0.0.1:<http port>/ws?token=…``, ``Origin: http://app.localhost:…``,
    so each handshake passes ForwardAuth and the gateway's own check). This process
    publishes role-wide messages, routing key ``role.USER.bench``, on ``ems.ws`` at
    the same rate (pika, persistent, publisher confirms, as the platform's
    ``Dispatcher`` does); each body carries ``time.time()`` taken just before the
    publish. Every client (all are USER) gets every message: this measures fan-out.

Both message bodies are ``{"type": "bench", "data": {"run", "seq", "sent", "due"},
"ts"}``.
The clients (one asyncio process, ``tornado.websocket.websocket_connect``, separate
from the baseline server and from this process) take ``time.time()`` when a message
arrives and record ``now - sent``. Clients connect ``--batch`` at a time; nothing is
published until every socket of both populations is open. Phases run in turns,
(b) (g) per round, after a discarded warm-up of each.

Figures per target: messages delivered to clients per second, the fraction delivered
(received / (published x clients), which should be 1.0), publish-to-receive latency
p50/p99/max (from the ``sent`` time the sender embedded) and the same from the time
the fixed-rate schedule gave each message (so a sender that falls behind its own
schedule, as the baseline server's timer can on a busy machine, counts too), the mean
latency by second of a phase (a growing queue shows as a rising line), CPU seconds per
process during each phase and CPU microseconds per delivery, and, sampled every second,
where messages wait: bytes in the kernel's socket queues of each hop and messages in
ws_gateway's RabbitMQ queue. Then ``--idle`` sockets (10,000) are opened straight to
ws_gateway and held idle: its resident memory with none and with them open (the
memory per socket), its CPU while they are held, and one message to all of them
(``hold_idle``). On a small machine the clients, the broker, the platform
and whatever else runs there share the same cores; the JSON names the busiest
processes outside the benchmark.

Run from the repository root::

    .venv/bin/python benchmarks/bench_ws.py [--clients N] [--rate R] [--seconds S]
"""

import argparse
import array
import asyncio
import collections
import json
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pika
import requests
from benchkit import (
    OUTSIDE,
    CpuWindow,
    account,
    cpu_result,
    header,
    markdown_table,
    percentile,
    ratio,
    roots_of,
    run_script,
    running,
    scratch,
    traefik_version,
    write_results,
)

from harness.ports import free_port
from harness.stack import Stack, read_procfile
from harness.tokens import signed_tokens
from services.common.amqp import pika_parameters
from services.common.topology import WS, client_message, role_message_key

RESULTS = Path(__file__).resolve().parent / "results" / "ws.json"
#: Procfile processes this benchmark does not start: the reading pipeline, the web
#: app and the simulator. Every other one runs: bootstrap waits for the gateway's
#: /api/health, which asks every Nameko service, so the list follows the Procfile.
NOT_STARTED = ("monitoring_worker", "balancer", "web", "simulator")


def needed_processes() -> list[str]:
    return [name for name in read_procfile() if not name.startswith(NOT_STARTED)]


MESSAGE_TYPE = "bench"
ROLE = "USER"
#: After the last send: stop waiting for receipts once none came for DRAIN_STALL
#: seconds, or DRAIN_CAP seconds passed; what has not come by then is missing.
DRAIN_STALL = 5.0
DRAIN_CAP = 120.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = 65536 if hard == resource.RLIM_INFINITY else hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def bench_message(run: str, seq: int, due: float) -> tuple[str, float]:
    """The JSON text of one message and its ``sent`` time, taken now; ``due`` is
    the wall-clock time the schedule gave it."""
    sent = time.time()
    data = {"run": run, "seq": seq, "sent": sent, "due": due}
    return json.dumps(client_message(MESSAGE_TYPE, data)), sent


# -- the baseline server (its own process) -----------------------------------------


def baseline_server(port: int) -> None:
    """A bare Tornado WebSocket server: ``/ws`` sockets, and ``POST /broadcast``
    which makes a timer in this process send ``count`` messages at ``rate``/s to
    every socket; ``GET /status?run=`` says what was sent."""
    import tornado.web
    import tornado.websocket
    from tornado.ioloop import IOLoop

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    raise_fd_limit()
    sockets: set = set()
    runs: dict[str, dict] = {}

    class Socket(tornado.websocket.WebSocketHandler):
        def check_origin(self, origin: str) -> bool:
            return True

        def open(self) -> None:
            sockets.add(self)

        def on_message(self, message) -> None:
            pass

        def on_close(self) -> None:
            sockets.discard(self)

    def send(run: str, seq: int, due: float, due_wall: float) -> None:
        state = runs[run]
        state["late_max_s"] = max(state["late_max_s"], IOLoop.current().time() - due)
        text, sent = bench_message(run, seq, due_wall)
        state["first_sent"] = state["first_sent"] or sent
        state["last_sent"] = sent
        for socket in list(sockets):
            try:
                socket.write_message(text)
            except tornado.websocket.WebSocketClosedError:
                sockets.discard(socket)
        state["sent"] += 1

    class Broadcast(tornado.web.RequestHandler):
        def post(self) -> None:
            run = self.get_argument("run")
            rate = float(self.get_argument("rate"))
            count = int(self.get_argument("count"))
            loop = IOLoop.current()
            start, start_wall = loop.time() + 0.05, time.time() + 0.05
            runs[run] = {
                "count": count,
                "sent": 0,
                "clients": len(sockets),
                "first_sent": None,
                "last_sent": None,
                "late_max_s": 0.0,
            }
            for seq in range(count):
                due = start + seq / rate
                loop.call_at(due, send, run, seq, due, start_wall + seq / rate)
            self.write({"clients": len(sockets)})

    class Status(tornado.web.RequestHandler):
        def get(self) -> None:
            run = self.get_argument("run", None)
            self.write({"clients": len(sockets), "run": runs.get(run)})

    async def main() -> None:
        app = tornado.web.Application(
            [(r"/ws", Socket), (r"/broadcast", Broadcast), (r"/status", Status)]
        )
        app.listen(port, address="127.0.0.1")
        await asyncio.Event().wait()

    asyncio.run(main())


# -- the clients (their own process) -----------------------------------------------


class RunStats:
    def __init__(self):
        self.latencies = array.array("d")
        self.lags = array.array("d")
        #: Latency sum and count by message, to show how it changes in a phase.
        self.by_seq: collections.Counter = collections.Counter()
        self.count_by_seq: collections.Counter = collections.Counter()
        self.per_client: collections.Counter = collections.Counter()
        self.first = None
        self.last = None

    @property
    def received(self) -> int:
        return len(self.latencies)


class Population:
    """Every client socket, by population name, and what they received by run."""

    def __init__(self):
        self.sockets: dict[str, list] = collections.defaultdict(list)
        self.closed: collections.Counter = collections.Counter()
        self.runs: dict[str, RunStats] = collections.defaultdict(RunStats)

    def callback(self, population: str, index: int):
        def on_message(text) -> None:
            now = time.time()
            if text is None:
                self.closed[population] += 1
                return
            data = json.loads(text)["data"]
            stats = self.runs[data["run"]]
            stats.latencies.append(now - data["sent"])
            stats.by_seq[data["seq"]] += now - data["sent"]
            stats.count_by_seq[data["seq"]] += 1
            stats.lags.append(now - data["due"])
            stats.per_client[(population, index)] += 1
            stats.first = stats.first or now
            stats.last = now

        return on_message

    async def connect(self, population, urls, headers, batch) -> dict:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        errors: collections.Counter = collections.Counter()
        started = time.perf_counter()

        async def one(index: int, url: str):
            for _attempt in range(5):
                request = HTTPRequest(
                    url, headers=headers, connect_timeout=30, request_timeout=30
                )
                try:
                    return await websocket_connect(
                        request,
                        on_message_callback=self.callback(population, index),
                    )
                except Exception as exc:  # noqa: BLE001 - counted and retried
                    errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
                    await asyncio.sleep(0.5)
            return None

        for offset in range(0, len(urls), batch):
            chunk = list(enumerate(urls))[offset : offset + batch]
            sockets = await asyncio.gather(*(one(i, url) for i, url in chunk))
            self.sockets[population] += [s for s in sockets if s is not None]
        return {
            "connected": len(self.sockets[population]),
            "failed": len(urls) - len(self.sockets[population]),
            "seconds": round(time.perf_counter() - started, 2),
            "retried_errors": dict(errors),
        }

    async def wait(self, run: str, expected: int, stall: float, cap: float) -> None:
        """Until ``expected`` messages of ``run`` came, or none came for ``stall``
        seconds, or ``cap`` seconds passed."""
        started = changed = time.monotonic()
        seen = -1
        while self.runs[run].received < expected:
            now = time.monotonic()
            if self.runs[run].received != seen:
                seen, changed = self.runs[run].received, now
            if now - changed > stall or now - started > cap:
                return
            await asyncio.sleep(0.05)

    def stats(self, run: str, population: str) -> dict:
        stats = self.runs[run]
        counts = [
            stats.per_client.get((population, i), 0)
            for i in range(len(self.sockets[population]))
        ]
        return {
            "received": stats.received,
            "first_received": stats.first,
            "last_received": stats.last,
            "per_client_min": min(counts, default=0),
            "per_client_max": max(counts, default=0),
            "closed_so_far": self.closed[population],
            "latencies": stats.latencies.tobytes(),
            "lags": stats.lags.tobytes(),
            "mean_by_seq": {
                seq: total / stats.count_by_seq[seq]
                for seq, total in stats.by_seq.items()
            },
        }


def client_process(conn) -> None:
    """Runs the client population; answers the parent's commands on ``conn``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    raise_fd_limit()

    async def main() -> None:
        population = Population()
        loop = asyncio.get_running_loop()
        while True:
            command, args = await loop.run_in_executor(None, conn.recv)
            if command == "connect":
                conn.send(await population.connect(*args))
            elif command == "wait":
                await population.wait(*args)
                conn.send(None)
            elif command == "stats":
                conn.send(population.stats(*args))
                del population.runs[args[0]]
            elif command == "close":
                for sockets in population.sockets.values():
                    for socket in sockets:
                        socket.close()
                await asyncio.sleep(0.5)
                conn.send(None)
                return

    asyncio.run(main())


class Clients:
    """The parent's handle on the client process."""

    def __init__(self, context):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=client_process, args=(child,))
        self.process.start()

    def call(self, command: str, *args):
        self.conn.send((command, args))
        return self.conn.recv()

    def stop(self) -> None:
        """Close every socket and end the process (terminate it if it hangs)."""
        if self.process.is_alive():
            try:
                self.conn.send(("close", ()))
            except OSError:
                pass
            self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


# -- where messages wait -----------------------------------------------------------


def tcp_queues(ports: dict[str, int]) -> dict[str, int]:
    """Bytes queued in the kernel on the sockets of each named server port: unsent
    at the server's end plus unread at the peer's end (on loopback, bytes sent
    are at once in the peer's receive queue)."""
    queued = dict.fromkeys(ports, 0)
    by_port = {port: name for name, port in ports.items()}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as stream:
                next(stream)
                for line in stream:
                    fields = line.split()
                    local = int(fields[1].rsplit(":", 1)[1], 16)
                    remote = int(fields[2].rsplit(":", 1)[1], 16)
                    tx, rx = (int(v, 16) for v in fields[4].split(":"))
                    if local in by_port:
                        queued[by_port[local]] += tx
                    if remote in by_port:
                        queued[by_port[remote]] += rx
        except OSError:
            continue
    return queued


class Backlog(threading.Thread):
    """Samples, every ``interval`` s while a phase runs, the kernel's socket
    queues per hop and (for the gateway) the messages in ws_gateway's RabbitMQ
    queue (ready or delivered but not yet acked, i.e. not yet fanned out)."""

    def __init__(self, ports: dict[str, int], vhost=None, interval: float = 1.0):
        super().__init__(daemon=True)
        self.ports = ports
        self.vhost = vhost
        self.interval = interval
        self.samples: list[dict[str, int]] = []
        self.halt = threading.Event()

    def amqp_queue(self) -> int | None:
        try:
            queues = requests.get(
                f"{self.vhost.api}/queues/{quote(self.vhost.name, safe='')}",
                params={"columns": "name,messages"},
                auth=("guest", "guest"),
                timeout=2,
            ).json()
        except (requests.RequestException, ValueError):
            return None
        return sum(
            q.get("messages") or 0 for q in queues if q["name"].startswith("amq.gen-")
        )

    def run(self) -> None:
        while not self.halt.wait(self.interval):
            sample = tcp_queues(self.ports)
            if self.vhost is not None:
                sample["rabbitmq_messages"] = self.amqp_queue()
            self.samples.append(sample)

    def result(self) -> dict:
        self.halt.set()
        self.join(5)
        names = {name for sample in self.samples for name in sample}
        summary = {}
        for name in sorted(names):
            values = [s[name] for s in self.samples if s.get(name) is not None]
            if values:
                summary[name] = {
                    "max": max(values),
                    "mean": round(sum(values) / len(values)),
                }
        return {"samples": len(self.samples), **summary}


# -- the platform ------------------------------------------------------------------


def publish(parameters, run: str, rate: float, count: int) -> dict:
    """``count`` role-wide messages on ``ems.ws`` at ``rate``/s, on a schedule,
    persistent and confirmed as the platform's ``Dispatcher`` publishes them."""
    connection = pika.BlockingConnection(parameters)
    try:
        channel = connection.channel()
        channel.exchange_declare(WS.name, exchange_type=WS.type, durable=WS.durable)
        channel.confirm_delivery()
        properties = pika.BasicProperties(
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=pika.DeliveryMode.Persistent,
        )
        key = role_message_key(ROLE, MESSAGE_TYPE)
        start, start_wall = time.monotonic() + 0.05, time.time() + 0.05
        first = last = None
        late = 0.0
        for seq in range(count):
            due = start + seq / rate
            delay = due - time.monotonic()
            if delay > 0:
                connection.sleep(delay)
            late = max(late, time.monotonic() - due)
            text, sent = bench_message(run, seq, start_wall + seq / rate)
            first = first or sent
            last = sent
            channel.basic_publish(WS.name, key, text.encode(), properties)
    finally:
        connection.close()
    return {"sent": count, "first_sent": first, "last_sent": last, "late_max_s": late}


def broadcast_baseline(port: int, run: str, rate: float, count: int) -> dict:
    """Has the baseline server's timer send ``count`` messages; waits until sent."""
    base = f"http://127.0.0.1:{port}"
    requests.post(
        f"{base}/broadcast",
        params={"run": run, "rate": rate, "count": count},
        timeout=10,
    ).raise_for_status()
    time.sleep(max(0.0, (count - 1) / rate))
    while True:
        # A timer far behind its schedule runs every send that is due before it
        # reads this request; how late it was is a figure of the run, not a failure.
        state = requests.get(f"{base}/status", params={"run": run}, timeout=DRAIN_CAP)
        state = state.json()["run"]
        if state["sent"] >= count:
            return state
        time.sleep(0.05)


def wait_for_baseline(port: int, process, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            requests.get(f"http://127.0.0.1:{port}/status", timeout=2)
            return
        except requests.RequestException:
            if not process.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the baseline server did not start") from None
            time.sleep(0.2)


# -- idle sockets ------------------------------------------------------------------


def process_in_group(root: int, name: str) -> int:
    """The pid of the process of ``root``'s process group whose command line holds
    ``name`` (the stack starts each process in a group of its own)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getpgid(int(entry)) != root:
                continue
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, ProcessLookupError):
            continue
        if name.encode() in command:
            return int(entry)
    raise RuntimeError(f"no process of {name} in group {root}")


def rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` in KiB (``VmRSS``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def sockets_open(stack) -> float | None:
    """ws_gateway's own count of its sockets (``ems_ws_sockets_open``)."""
    try:
        text = requests.get(stack.metrics_url("ws_gateway"), timeout=5).text
    except requests.RequestException:
        return None
    for line in text.splitlines():
        if line.startswith("ems_ws_sockets_open "):
            return float(line.split()[1])
    return None


def wait_for_sockets(stack, count: int, timeout: float = 60.0) -> float | None:
    """Until ws_gateway holds ``count`` sockets, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        held = sockets_open(stack)
        if held == count or time.monotonic() > deadline:
            return held
        time.sleep(0.5)


def hold_idle(stack, args, context, tokens, parameters) -> dict:
    """``--idle`` sockets on the one ws_gateway process, held idle.

    They are opened straight to ws_gateway's port, with the app's origin, after
    the fan-out phases have closed theirs: through Traefik, each would take two of
    Traefik's descriptors as well. Each handshake still passes the gateway's own
    token check. Measured: ws_gateway's resident memory with none open and with
    all of them open (the difference per socket), its CPU while they are held for
    ``--idle-hold`` seconds (pings only, every ``EMS_WS_PING_INTERVAL``), and one
    role-wide message sent to all of them at the end.
    """
    gateway = process_in_group(stack.processes["ws_gateway"].pid, "ws_gateway")
    before = {
        "sockets_open": wait_for_sockets(stack, 0),
        "rss_kib": rss_kib(gateway),
        "open_fds": open_fds(gateway),
    }
    clients = Clients(context)
    roots = {
        os.getpid(): "bench (publisher)",
        **roots_of(stack),
        clients.process.pid: "bench clients",
    }
    try:
        origin = {"Origin": f"http://app.localhost:{stack.ports['http']}"}
        urls = [
            f"ws://127.0.0.1:{stack.ports['ws']}/ws?token={token}"
            for token in tokens[: args.idle]
        ]
        connect = clients.call("connect", "idle", urls, origin, args.batch)
        print(f"Idle sockets: {json.dumps(connect)}", flush=True)
        opened = {
            "sockets_open": wait_for_sockets(stack, connect["connected"]),
            "rss_kib": rss_kib(gateway),
            "open_fds": open_fds(gateway),
        }
        window = CpuWindow(roots)
        time.sleep(args.idle_hold)
        cpu = cpu_result(window)
        held = {
            "sockets_open": sockets_open(stack),
            "rss_kib": rss_kib(gateway),
            "open_fds": open_fds(gateway),
        }
        sent = publish(parameters, "idle", args.rate, 1)
        clients.call("wait", "idle", connect["connected"], DRAIN_STALL, DRAIN_CAP)
        stats = clients.call("stats", "idle", "idle")
    finally:
        clients.stop()
    latencies = array.array("d")
    latencies.frombytes(stats.pop("latencies"))
    latencies = sorted(latencies)
    count = connect["connected"]
    return {
        "sockets": args.idle,
        "connect": connect,
        "hold_s": args.idle_hold,
        "before": before,
        "opened": opened,
        "held": held,
        "rss_kib_per_socket": round((held["rss_kib"] - before["rss_kib"]) / count, 2)
        if count
        else None,
        "gateway_cpu_s_while_held": cpu["cpu_s_by_process"].get("ws_gateway", 0.0),
        "cpu": cpu,
        "one_message": {
            "received": stats["received"],
            "expected": count,
            "p50_ms": ms(percentile(latencies, 0.5)),
            "p99_ms": ms(percentile(latencies, 0.99)),
            "max_ms": ms(latencies[-1]) if latencies else None,
            "first_sent": sent["first_sent"],
        },
    }


# -- measuring ---------------------------------------------------------------------


def ms(value: float) -> float:
    return round(value * 1000, 2)


class Phase:
    """How one target is driven: who sends, which ports and queue to watch."""

    def __init__(self, key, population, send, ports, vhost=None):
        self.key = key
        self.population = population
        self.send = send
        self.ports = ports
        self.vhost = vhost


def run_phase(phase: Phase, run: str, args, clients, roots) -> dict:
    """One measurement: send ``rate`` x ``seconds`` messages, collect receipts."""
    count = max(1, round(args.rate * args.seconds))
    expected = count * args.clients
    window = CpuWindow(roots)
    backlog = Backlog(phase.ports, phase.vhost)
    backlog.start()
    sent = phase.send(run, count)
    clients.call("wait", run, expected, DRAIN_STALL, DRAIN_CAP)
    queues = backlog.result()
    cpu = cpu_result(window)
    stats = clients.call("stats", run, phase.population)
    latencies, lags = array.array("d"), array.array("d")
    latencies.frombytes(stats.pop("latencies"))
    lags.frombytes(stats.pop("lags"))
    return {
        "run": run,
        "published": count,
        "expected": expected,
        **{k: v for k, v in sent.items() if k != "sent"},
        **stats,
        "latencies": latencies,
        "lags": lags,
        "backlog": queues,
        "cpu": cpu,
    }


def summarize(label, phases: list[dict], clients, connect, seconds_per_phase) -> dict:
    latencies = sorted(v for phase in phases for v in phase["latencies"])
    lags = sorted(v for phase in phases for v in phase["lags"])
    published = sum(p["published"] for p in phases)
    received = sum(p["received"] for p in phases)
    # Each phase's window: from its first send to its last receipt.
    seconds = sum(
        (p["last_received"] or p["first_sent"]) - p["first_sent"] for p in phases
    )
    send_seconds = sum(p["last_sent"] - p["first_sent"] for p in phases)
    cpu: collections.Counter = collections.Counter()
    for phase in phases:
        cpu.update(phase["cpu"]["cpu_s_by_process"])
    # Mean latency of the messages sent in each second of a phase, over rounds.
    rate = phases[0]["published"] / seconds_per_phase
    by_second: dict[int, list[float]] = collections.defaultdict(list)
    for phase in phases:
        for seq, mean in phase["mean_by_seq"].items():
            by_second[int(seq // rate)].append(mean)
    return {
        "target": label,
        "clients": clients,
        "connect": connect,
        "published": published,
        "send_rate_per_s": round(
            sum(p["published"] - 1 for p in phases) / send_seconds, 2
        ),
        "sender_late_max_ms": ms(max(p["late_max_s"] for p in phases)),
        "received": received,
        "expected": published * clients,
        "delivered_fraction": round(received / (published * clients), 6),
        "missing": published * clients - received,
        "delivered_per_s": round(received / seconds, 1),
        "p50_ms": ms(percentile(latencies, 0.50)),
        "p99_ms": ms(percentile(latencies, 0.99)),
        "max_ms": ms(latencies[-1]) if latencies else None,
        "from_schedule_p50_ms": ms(percentile(lags, 0.50)),
        "from_schedule_p99_ms": ms(percentile(lags, 0.99)),
        "from_schedule_max_ms": ms(lags[-1]) if lags else None,
        "mean_ms_by_second_of_phase": [
            ms(sum(values) / len(values)) for _, values in sorted(by_second.items())
        ],
        # CPU microseconds each process group spent per message delivered.
        "cpu_us_per_delivery": {
            name: round(1e6 * value / max(1, received), 1)
            for name, value in cpu.most_common()
            if name != OUTSIDE and 1e6 * value / max(1, received) >= 0.5
        },
        "by_round": [
            {
                "run": p["run"],
                "received": p["received"],
                "delivered_fraction": round(p["received"] / p["expected"], 6),
                "per_client_min": p["per_client_min"],
                "per_client_max": p["per_client_max"],
                "sockets_closed_so_far": p["closed_so_far"],
                "delivered_per_s": round(
                    p["received"]
                    / ((p["last_received"] or p["first_sent"]) - p["first_sent"]),
                    1,
                ),
                "p50_ms": ms(percentile(p["latencies"], 0.5)),
                "p99_ms": ms(percentile(p["latencies"], 0.99)),
                "from_schedule_p99_ms": ms(percentile(p["lags"], 0.99)),
                "sender_late_max_ms": ms(p["late_max_s"]),
                "backlog": p["backlog"],
                "cpu": p["cpu"],
            }
            for p in phases
        ],
    }


def ratios(results: dict) -> dict:
    return {
        "p50_latency_gateway_over_baseline": ratio(results, "p50_ms", "g", "b", 2),
        "p99_latency_gateway_over_baseline": ratio(results, "p99_ms", "g", "b", 2),
        "delivered_per_s_gateway_over_baseline": ratio(
            results, "delivered_per_s", "g", "b"
        ),
        "from_schedule_p50_gateway_over_baseline": ratio(
            results, "from_schedule_p50_ms", "g", "b", 2
        ),
        "from_schedule_p99_gateway_over_baseline": ratio(
            results, "from_schedule_p99_ms", "g", "b", 2
        ),
    }


# -- the report --------------------------------------------------------------------


def results_table(results: dict) -> str:
    keys = ["target", "clients", "published", "received", "delivered_fraction"]
    keys += ["delivered_per_s", "p50_ms", "p99_ms", "max_ms"]
    return markdown_table(
        ["", "target", "clients", "published", "received", "delivered"]
        + ["delivered/s", "p50 ms", "p99 ms", "max ms"],
        [[f"({key})", *(r[k] for k in keys)] for key, r in results.items()],
    )


def report(results: dict, args, warmup, message_bytes, processes, idle) -> dict:
    document = {
        **header("ws", traefik=traefik_version()),
        "clients": args.clients,
        "rate_per_s": args.rate,
        "seconds_per_phase": args.seconds,
        "rounds": args.rounds,
        "connect_batch": args.batch,
        "message_bytes": message_bytes,
        "messages": f"role-wide, routing key role.{ROLE}.{MESSAGE_TYPE}: every "
        "client receives every message (fan-out)",
        "latency": "receiver's time.time() minus the sender's time.time() embedded "
        "in the message (publisher just before basic_publish; baseline server "
        "timer just before its writes); from_schedule_*: minus the time the "
        "fixed-rate schedule gave the message, so a late sender counts too",
        "delivered_per_s": "messages received by all clients / (last receipt - "
        "first send), summed over rounds",
        "drain": f"after the last send, until every message came or none came for "
        f"{DRAIN_STALL} s (at most {DRAIN_CAP} s); missing = not received by then",
        "backlog": "sampled every second during a phase: bytes in kernel socket "
        "queues per server port (unsent + unread by the peer) and messages in "
        "ws_gateway's RabbitMQ queue (management API, refreshed every ~5 s)",
        "aggregation": "phases in turns (b g per round) after a discarded warm-up "
        "of each; receipts and latencies pooled over rounds",
        "processes": "this script (publisher, samplers), one client process "
        "(asyncio, tornado websocket_connect), one baseline server process, the "
        "stack: " + ", ".join(processes),
        "warmup": warmup,
        "results": results,
        "ratios": ratios(results),
        "idle": idle,
    }
    return write_results(RESULTS, document)


def print_report(document: dict) -> None:
    print()
    print(results_table(document["results"]))
    print()
    for name, value in document["ratios"].items():
        print(f"{name}: {value}")
    for key, result in document["results"].items():
        print(
            f"({key}) sender: {result['send_rate_per_s']}/s, late by up to "
            f"{result['sender_late_max_ms']} ms; from schedule p50/p99/max "
            f"{result['from_schedule_p50_ms']}/{result['from_schedule_p99_ms']}/"
            f"{result['from_schedule_max_ms']} ms; CPU us per delivery "
            f"{result['cpu_us_per_delivery']}; mean ms by second of a phase "
            f"{result['mean_ms_by_second_of_phase']}"
        )
        for phase in result["by_round"]:
            print(
                f"  {phase['run']}: machine busy {phase['cpu']['machine_busy_pct']} %"
                f" of {document['machine']['nproc']} cores; CPU s "
                f"{phase['cpu']['cpu_s_by_process']}; backlog {phase['backlog']}"
            )
    idle = document.get("idle")
    if idle:
        print(
            f"Idle: {idle['held']['sockets_open']:.0f} of {idle['sockets']} sockets "
            f"held for {idle['hold_s']} s; ws_gateway RSS {idle['before']['rss_kib']}"
            f" KiB with none, {idle['held']['rss_kib']} KiB with them: "
            f"{idle['rss_kib_per_socket']} KiB per socket; CPU s while held "
            f"{idle['gateway_cpu_s_while_held']}; one message to all: "
            f"{idle['one_message']}"
        )
    print(f"Written to {RESULTS}")


# -- main --------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000, help="(default 1000)")
    parser.add_argument(
        "--rate", type=float, default=20.0, help="messages per second (default 20)"
    )
    parser.add_argument(
        "--seconds", type=float, default=15.0, help="length of a phase (default 15)"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="(b) (g) phases each (default 2)"
    )
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="warm-up seconds (default 2)"
    )
    parser.add_argument(
        "--batch", type=int, default=100, help="clients connecting at once (100)"
    )
    parser.add_argument(
        "--idle",
        type=int,
        default=10000,
        help="idle sockets held by ws_gateway at the end, 0 for none (10000)",
    )
    parser.add_argument(
        "--idle-hold",
        type=float,
        default=30.0,
        help="seconds the idle sockets are held (default 30, past one ping)",
    )
    return parser.parse_args()


def connect_all(clients, args, tokens, base_port, http_port) -> dict:
    """Both populations, ``--batch`` at a time; raises unless all are open."""
    origin = {"Origin": f"http://app.localhost:{http_port}"}
    connect = {}
    for key, population, port in (
        ("b", "baseline", base_port),
        ("g", "gateway", http_port),
    ):
        urls = [
            f"ws://127.0.0.1:{port}/ws?token={token}"
            for token in tokens[: args.clients]
        ]
        connect[key] = clients.call("connect", population, urls, origin, args.batch)
    print(f"Connected: {json.dumps(connect)}", flush=True)
    for key, result in connect.items():
        if result["connected"] != args.clients:
            raise RuntimeError(f"({key}) not every client connected: {result}")
    return connect


def measure(stack, args, context) -> tuple[dict, dict, dict | None]:
    """Both targets, warm-up and rounds, then the idle sockets; ``(results, warm-up
    receipts, idle sockets)``."""
    http_port = stack.ports["http"]
    _, token = account(stack, "Bench WS")
    tokens = signed_tokens(
        stack.resources.private_key.read_text(), token, max(args.clients, args.idle)
    )
    base_port = free_port()
    server = context.Process(target=baseline_server, args=(base_port,))
    server.start()
    clients = None
    try:
        wait_for_baseline(base_port, server)
        clients = Clients(context)
        connect = connect_all(clients, args, tokens, base_port, http_port)
        roots = {
            os.getpid(): "bench (publisher)",
            **roots_of(stack),
            clients.process.pid: "bench clients",
            server.pid: "baseline server",
        }
        parameters = pika_parameters(stack.resources.amqp_uri, "bench_ws publisher")
        phases = {
            "b": Phase(
                "b",
                "baseline",
                lambda run, count: broadcast_baseline(base_port, run, args.rate, count),
                {"baseline→clients": base_port},
            ),
            "g": Phase(
                "g",
                "gateway",
                lambda run, count: publish(parameters, run, args.rate, count),
                {
                    "ws_gateway→traefik": stack.ports["ws"],
                    "traefik→clients": http_port,
                },
                stack.resources.vhost,
            ),
        }
        warm = argparse.Namespace(**{**vars(args), "seconds": args.warmup})
        warmup = {}
        for key, phase in phases.items():
            result = run_phase(phase, f"warm-{key}", warm, clients, roots)
            warmup[key] = {k: result[k] for k in ("received", "expected")}
        print(f"Warm-up (discarded): {json.dumps(warmup)}", flush=True)

        measured = {"b": [], "g": []}
        for round_number in range(1, args.rounds + 1):
            for key, phase in phases.items():
                result = run_phase(phase, f"{key}{round_number}", args, clients, roots)
                measured[key].append(result)
                print(
                    f"  round {round_number} ({key}): received {result['received']}"
                    f"/{result['expected']}, machine busy "
                    f"{result['cpu']['machine_busy_pct']} %",
                    flush=True,
                )
    finally:
        if clients is not None:
            clients.stop()
        if server.is_alive():
            server.terminate()
            server.join(5)
    labels = {
        "b": "bare Tornado broadcast (no Traefik, auth, RabbitMQ)",
        "g": "ws_gateway via RabbitMQ + Traefik",
    }
    results = {
        key: summarize(
            labels[key], measured[key], args.clients, connect[key], args.seconds
        )
        for key in ("b", "g")
    }
    idle = None
    if args.idle:
        idle = hold_idle(stack, args, context, tokens, parameters)
    return results, warmup, idle


def main() -> int:
    args = parse_args()
    raise_fd_limit()
    context = multiprocessing.get_context("spawn")
    processes = needed_processes()
    # Every client socket is the same user's: the per-user quota is lifted.
    quota = max(args.clients, args.idle)
    environment = {"EMS_DEMO": "0", "EMS_WS_MAX_SOCKETS_PER_USER": str(quota)}
    with (
        scratch("ws") as workdir,
        running(Stack(workdir, environment=environment, processes=processes)) as stack,
    ):
        results, warmup, idle = measure(stack, args, context)
        message_bytes = len(bench_message("g1", 299, time.time())[0])
        print_report(report(results, args, warmup, message_bytes, processes, idle))
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
