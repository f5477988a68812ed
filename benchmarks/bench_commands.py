"""Command round trip: how long a command takes from the API to its device and back
to its owner's socket as ``acked``, at a fixed rate, measured against a bare MQTT
publish-and-answer through the same broker, in the same run, on the same machine.

The script starts a throw-away platform (``harness.stack.Stack``) with the processes
of the Procfile but the reading pipeline (monitoring workers, balancer), the web app
and the simulator. It registers one user with ``--devices`` devices for each target,
each with its own credentials (``POST /api/devices/{id}/credentials``). The devices
run in a process of their own, one paho MQTT client each, logged in as the device
(its broker user name as client id) and subscribed to ``ems/devices/<id>/commands``
with QoS 1. A device answers every command at once, ``{"command_id", "status": "ok",
"detail": "pong"}`` with QoS 1, and acknowledges the command to the broker (PUBACK)
once the broker has its answer, as the simulator's devices do. Then:

(p) platform: this process sends ``ping`` commands, ``POST /api/devices/{id}/commands``
    through Traefik (ForwardAuth, gateway, the devices service), round-robin over the
    devices, from a pool of sender threads with one keep-alive connection each. The
    devices service sends the command on ``ems.data``; the device's answer on
    ``ems/devices/<id>/acks`` goes back to the devices service, which stores it and
    pushes ``command.updated`` on ``ems.ws``; ws_gateway hands it to the owner's
    socket (``/ws`` through Traefik), which this process holds open. The clock stops
    when that socket says the command is ``acked``.
(b) baseline: one MQTT client of this process (the installation's administrator
    login) publishes the same message, QoS 1, to ``ems/devices/<id>/commands`` of the
    other devices, round-robin; they answer on ``ems/devices/<id>/answers`` (a topic
    no platform queue is bound to), to which that client is subscribed. The clock
    stops when the answer arrives.

Both targets are driven open-loop: a schedule hands command n to the sender threads
at start + n / ``--rate``, whether or not earlier ones were answered; a sender that
falls behind its schedule shows in the "from schedule" figures. Latency is measured
in this process (monotonic clock) from the moment a sender starts sending a command
to the moment its answer arrives. After the last send the script waits until every
command is answered, or none has been for ``DRAIN_STALL`` seconds; what has not been
answered by then is lost. Phases run in turns, (b) (p) per round, after a discarded
warm-up of each.

Run from the repository root::

    PYTHONWARNINGS=ignore .venv/bin/python benchmarks/bench_commands.py \\
        [--rate R] [--seconds S] [--rounds N] [--devices D]
"""

import argparse
import collections
import http.client
import json
import math
import multiprocessing
import os
import queue
import socket
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
import requests
import websocket
from benchkit import (
    OUTSIDE,
    CpuWindow,
    account,
    bearer,
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

from harness.clients import ws_connect
from harness.stack import Stack, read_procfile
from services.common.topology import mqtt_ack_topic, mqtt_command_topic
from simulator.commands import OK, ack

RESULTS = Path(__file__).resolve().parent / "results" / "commands.json"
#: Procfile processes this benchmark does not start, as ``bench_ws.py``: the
#: reading pipeline, the web app and the simulator.
NOT_STARTED = ("monitoring_worker", "balancer", "web", "simulator")
COMMAND = "ping"
#: Long enough that no command expires while the platform works off a backlog.
TTL_S = 600
#: After the last send: stop waiting for answers once none came for DRAIN_STALL
#: seconds, or DRAIN_CAP seconds passed; what has not come by then is lost.
DRAIN_STALL = 10.0
DRAIN_CAP = 180.0
MQTT_HOST = "127.0.0.1"


def needed_processes() -> list[str]:
    return [name for name in read_procfile() if not name.startswith(NOT_STARTED)]


def answer_topic(device_id: str) -> str:
    """Where a baseline device answers: under its own topics, bound to nothing of
    the platform's."""
    return f"ems/devices/{device_id}/answers"


def command_message(command_id: str) -> str:
    """A baseline command: the body the devices service sends, same fields."""
    expires = datetime.now(UTC) + timedelta(seconds=TTL_S)
    return json.dumps(
        {
            "command_id": command_id,
            "type": COMMAND,
            "params": {},
            "expires_at": expires.isoformat(timespec="milliseconds"),
        }
    )


# -- the devices (a process of their own) ------------------------------------------


class AnsweringDevice:
    """One device on the broker's MQTT listener with its own login: answers every
    command on ``answer_to``, and acknowledges the command once its answer is."""

    def __init__(self, login: dict, answer_to: str):
        mqtt_login = login["mqtt"]
        self.command_topic = mqtt_login["command_topic"]
        self.port = int(mqtt_login["port"])
        self.answer_to = answer_to
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=mqtt_login["client_id"],
            manual_ack=True,
        )
        self.client.username_pw_set(mqtt_login["username"], login["password"])
        self.client.max_inflight_messages_set(1000)
        self.client.on_connect = self.on_connect
        self.client.on_subscribe = self.on_subscribe
        self.client.on_message = self.on_message
        self.client.on_publish = self.on_publish
        self.subscribed = threading.Event()
        self.received = self.answered = 0
        # Only paho's network thread touches it: each answer's PUBACK is reported
        # after the callback that published the answer has returned.
        self.answering: dict[int, tuple[int, int]] = {}

    def start(self) -> None:
        self.client.connect(MQTT_HOST, self.port, keepalive=30)
        self.client.loop_start()

    def on_connect(self, client, userdata, flags, reason_code, properties):
        if not reason_code.is_failure:
            client.subscribe(self.command_topic, qos=1)

    def on_subscribe(self, client, userdata, mid, reason_codes, properties):
        if not any(code.is_failure for code in reason_codes):
            self.subscribed.set()

    def on_message(self, client, userdata, message):
        self.received += 1
        command_id = json.loads(message.payload)["command_id"]
        body = json.dumps(ack(command_id, OK, "pong"))
        info = client.publish(self.answer_to, body, qos=1)
        self.answering[info.mid] = (message.mid, message.qos)

    def on_publish(self, client, userdata, mid, reason_code, properties):
        command = self.answering.pop(mid, None)
        if command is not None:
            self.answered += 1
            client.ack(*command)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def devices_process(conn, devices: list[tuple[dict, str]]) -> None:
    """Runs the devices ``[(login, answer topic)]`` until told to close; answers
    ``counts`` with what each received and answered."""
    running = [AnsweringDevice(login, topic) for login, topic in devices]
    for device in running:
        device.start()
    deadline = time.monotonic() + 30
    for device in running:
        device.subscribed.wait(max(0.0, deadline - time.monotonic()))
    conn.send(sum(device.subscribed.is_set() for device in running))
    while (command := conn.recv()) != "close":
        if command == "counts":
            conn.send(
                {
                    "received": sum(device.received for device in running),
                    "answered": sum(device.answered for device in running),
                }
            )
    for device in running:
        device.close()
    conn.send("closed")


class Devices:
    """The parent's handle on the devices' process."""

    def __init__(self, context, devices: list[tuple[dict, str]]):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=devices_process, args=(child, devices))
        self.process.start()
        if not self.conn.poll(60) or (subscribed := self.conn.recv()) != len(devices):
            self.stop()
            raise RuntimeError("not every device subscribed to its commands")
        print(f"{subscribed} devices connected and subscribed", flush=True)

    def counts(self) -> dict:
        self.conn.send("counts")
        return self.conn.recv()

    def stop(self) -> None:
        if self.process.is_alive():
            try:
                self.conn.send("close")
                self.conn.poll(10)
            except OSError:
                pass
            self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


# -- the senders -------------------------------------------------------------------


def open_loop(send, count: int, rate: float, senders: int) -> dict:
    """``send(n)`` for n in 0 … ``count`` - 1, each handed to one of ``senders``
    threads at start + n / ``rate``: when each was due and when its send began
    (monotonic seconds)."""
    jobs: queue.SimpleQueue = queue.SimpleQueue()
    due = [math.nan] * count
    began = [math.nan] * count

    def sender() -> None:
        while (n := jobs.get()) is not None:
            began[n] = time.monotonic()
            send(n)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()
    start = time.monotonic() + 0.05
    for n in range(count):
        due[n] = start + n / rate
        delay = due[n] - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        jobs.put(n)
    for _ in threads:
        jobs.put(None)
    for thread in threads:
        thread.join()
    return {"due": due, "began": began}


class ApiSender:
    """Sends command n to device n mod D over the API, one keep-alive connection
    per thread; keeps each accepted command's id and how long the API took."""

    def __init__(self, port: int, token: str, device_ids: list[str]):
        self.port = port
        self.headers = {**bearer(token), "Content-Type": "application/json"}
        self.device_ids = device_ids
        self.body = json.dumps({"type": COMMAND, "params": {}, "ttl_s": TTL_S})
        self.local = threading.local()
        self.lock = threading.Lock()
        self.ids: dict[int, str] = {}
        self.api_seconds: list[float] = []
        self.refused: collections.Counter = collections.Counter()

    def __call__(self, n: int) -> None:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.local.connection = connection
        device_id = self.device_ids[n % len(self.device_ids)]
        began = time.monotonic()
        try:
            connection.request(
                "POST", f"/api/devices/{device_id}/commands", self.body, self.headers
            )
            response = connection.getresponse()
            text = response.read()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            self.local.connection = None
            with self.lock:
                self.refused[type(exc).__name__] += 1
            return
        took = time.monotonic() - began
        with self.lock:
            if response.status == 202:
                self.ids[n] = json.loads(text)["id"]
                self.api_seconds.append(took)
            else:
                self.refused[f"HTTP {response.status}"] += 1


class SocketListener(threading.Thread):
    """The owner's socket: when each command was told ``acked`` (or another final
    status), by command id."""

    FINAL = {"acked", "rejected", "expired"}

    def __init__(self, stack: Stack, token: str):
        super().__init__(daemon=True)
        self.socket = ws_connect(stack, token)
        self.socket.settimeout(None)
        self.finals: dict[str, tuple[str, float]] = {}

    def run(self) -> None:
        while True:
            try:
                text = self.socket.recv()
            except (websocket.WebSocketException, OSError):
                return  # closed by stop()
            now = time.monotonic()
            message = json.loads(text)
            data = message.get("data") or {}
            if message["type"] == "command.updated" and data["status"] in self.FINAL:
                self.finals.setdefault(data["id"], (data["status"], now))

    def stop(self) -> None:
        """Ends the connection under the blocked ``recv``, which ends the thread."""
        try:
            self.socket.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.join(5)
        self.socket.close()


class Commander:
    """The baseline's MQTT client: publishes commands to devices (QoS 1) and hears
    their answers, with the installation's administrator login."""

    def __init__(self, amqp_uri: str, port: int, device_ids: list[str]):
        login = urlsplit(amqp_uri)
        vhost = unquote(login.path.lstrip("/"))
        self.device_ids = device_ids
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"bench-commander-{uuid.uuid4().hex[:8]}",
        )
        self.client.username_pw_set(
            f"{vhost}:{unquote(login.username)}", unquote(login.password)
        )
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.answers: dict[str, float] = {}
        self.ids: dict[int, str] = {}
        self.refused: collections.Counter = collections.Counter()
        self.subscribed = threading.Event()
        self.client.on_connect = lambda client, *args: client.subscribe(
            answer_topic("+"), qos=1
        )
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.client.on_message = self.on_message
        self.client.connect(MQTT_HOST, port, keepalive=30)
        self.client.loop_start()
        if not self.subscribed.wait(20):
            raise RuntimeError("the baseline's client could not subscribe")

    def on_message(self, client, userdata, message):
        now = time.monotonic()
        self.answers.setdefault(json.loads(message.payload)["command_id"], now)

    def __call__(self, n: int) -> None:
        command_id = str(uuid.uuid4())
        device_id = self.device_ids[n % len(self.device_ids)]
        info = self.client.publish(
            mqtt_command_topic(device_id), command_message(command_id), qos=1
        )
        if info.rc == mqtt.MQTT_ERR_SUCCESS:
            self.ids[n] = command_id
        else:
            self.refused[mqtt.error_string(info.rc)] += 1

    def new_phase(self):
        """Itself as a phase's sender, and what was answered when."""
        self.ids, self.refused = {}, collections.Counter()
        return self, lambda: {
            command_id: ("acked", at) for command_id, at in dict(self.answers).items()
        }

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# -- measuring ---------------------------------------------------------------------


def ms(value: float) -> float:
    return round(value * 1000, 2)


def wait_for_answers(ids, answered, stall: float, cap: float) -> None:
    """Until every one of ``ids`` is in ``answered()``, none came for ``stall``
    seconds, or ``cap`` seconds passed."""
    started = last_change = time.monotonic()
    seen = -1
    while time.monotonic() - started < cap:
        finals = answered()
        done = sum(1 for command_id in ids if command_id in finals)
        if done == len(ids):
            return
        if done != seen:
            seen, last_change = done, time.monotonic()
        elif time.monotonic() - last_change > stall:
            return
        time.sleep(0.1)


def run_phase(run: str, seconds: float, args, new_sender, roots) -> dict:
    """One measurement of a target: ``rate`` x ``seconds`` commands from the
    sender ``new_sender()`` makes."""
    count = max(1, round(args.rate * seconds))
    sender, answered_at = new_sender()
    before = set(answered_at())
    window = CpuWindow(roots)
    load_before = os.getloadavg()[0]
    schedule = open_loop(sender, count, args.rate, args.senders)
    wait_for_answers(list(sender.ids.values()), answered_at, DRAIN_STALL, DRAIN_CAP)
    cpu = cpu_result(window)
    finals = answered_at()
    latencies, lags, by_second = [], [], collections.defaultdict(list)
    statuses: collections.Counter = collections.Counter()
    for n, command_id in sender.ids.items():
        final = finals.get(command_id)
        if final is None:
            continue
        status, at = final
        statuses[status] += 1
        if status != "acked":
            continue
        latencies.append(at - schedule["began"][n])
        lags.append(at - schedule["due"][n])
        by_second[int(n // args.rate)].append(at - schedule["began"][n])
    # Commands the API refused (a 503 when the gateway's call timed out, say) that
    # the platform went on to carry out all the same.
    accepted = set(sender.ids.values())
    unclaimed = sum(
        1
        for command_id, (status, _) in finals.items()
        if status == "acked" and command_id not in before and command_id not in accepted
    )
    began = [t for t in schedule["began"] if not math.isnan(t)]
    late = [b - d for b, d in zip(schedule["began"], schedule["due"], strict=True)]
    return {
        "run": run,
        "commands": count,
        "accepted": len(sender.ids),
        "refused": dict(sender.refused),
        "acked": len(latencies),
        "other_final_status": {s: c for s, c in statuses.items() if s != "acked"},
        "lost": count - len(latencies),
        "acked_though_refused": unclaimed,
        "send_rate_per_s": round((count - 1) / (max(began) - min(began)), 2)
        if count > 1
        else None,
        "sender_late_max_ms": ms(max(late)),
        "latencies": latencies,
        "lags": lags,
        "mean_by_second": {s: sum(v) / len(v) for s, v in by_second.items()},
        "api_seconds": list(getattr(sender, "api_seconds", [])),
        "load_average_1m": [load_before, os.getloadavg()[0]],
        "cpu": cpu,
    }


def summarize(label: str, phases: list[dict]) -> dict:
    latencies = sorted(v for phase in phases for v in phase["latencies"])
    lags = sorted(v for phase in phases for v in phase["lags"])
    api = sorted(v for phase in phases for v in phase["api_seconds"])
    by_second = collections.defaultdict(list)
    for phase in phases:
        for second, mean in phase["mean_by_second"].items():
            by_second[second].append(mean)
    commands = sum(p["commands"] for p in phases)
    acked = sum(p["acked"] for p in phases)
    cpu: collections.Counter = collections.Counter()
    for phase in phases:
        cpu.update(phase["cpu"]["cpu_s_by_process"])
    summary = {
        "target": label,
        "commands": commands,
        "acked": acked,
        "lost": sum(p["lost"] for p in phases),
        "send_rate_per_s": round(
            sum(p["send_rate_per_s"] or 0 for p in phases) / len(phases), 2
        ),
        "sender_late_max_ms": max(p["sender_late_max_ms"] for p in phases),
        "p50_ms": ms(percentile(latencies, 0.50)),
        "p99_ms": ms(percentile(latencies, 0.99)),
        "max_ms": ms(latencies[-1]) if latencies else None,
        "from_schedule_p50_ms": ms(percentile(lags, 0.50)),
        "from_schedule_p99_ms": ms(percentile(lags, 0.99)),
        "mean_ms_by_second_of_phase": [
            ms(sum(values) / len(values)) for _, values in sorted(by_second.items())
        ],
        # CPU microseconds each process group spent per command answered.
        "cpu_us_per_command": {
            name: round(1e6 * value / max(1, acked), 1)
            for name, value in cpu.most_common()
            if name != OUTSIDE and 1e6 * value / max(1, acked) >= 5
        },
        "by_round": [
            {
                "run": p["run"],
                "commands": p["commands"],
                "accepted": p["accepted"],
                "refused": p["refused"],
                "acked": p["acked"],
                "other_final_status": p["other_final_status"],
                "lost": p["lost"],
                "acked_though_refused": p["acked_though_refused"],
                "send_rate_per_s": p["send_rate_per_s"],
                "sender_late_max_ms": p["sender_late_max_ms"],
                "p50_ms": ms(percentile(p["latencies"], 0.5)),
                "p99_ms": ms(percentile(p["latencies"], 0.99)),
                "load_average_1m": [round(v, 2) for v in p["load_average_1m"]],
                "cpu": p["cpu"],
            }
            for p in phases
        ],
    }
    if api:
        summary["api_202_p50_ms"] = ms(percentile(api, 0.5))
        summary["api_202_p99_ms"] = ms(percentile(api, 0.99))
    return summary


def ratios(results: dict) -> dict:
    return {
        "p50_latency_platform_over_baseline": ratio(results, "p50_ms", "p", "b", 2),
        "p99_latency_platform_over_baseline": ratio(results, "p99_ms", "p", "b", 2),
        "from_schedule_p50_platform_over_baseline": ratio(
            results, "from_schedule_p50_ms", "p", "b", 2
        ),
        "from_schedule_p99_platform_over_baseline": ratio(
            results, "from_schedule_p99_ms", "p", "b", 2
        ),
    }


def provision(stack: Stack, count: int) -> tuple[str, dict[str, list[dict]]]:
    """An owner's token, and per target ``count`` devices' credentials."""
    _, token = account(stack, "Bench Commands")
    logins: dict[str, list[dict]] = {}
    for key in ("b", "p"):
        logins[key] = []
        for n in range(count):
            device = requests.post(
                stack.url("/api/devices"),
                json={"name": f"{key} {n}", "kind": "meter"},
                headers=bearer(token),
                timeout=30,
            )
            device.raise_for_status()
            answer = requests.post(
                stack.url(f"/api/devices/{device.json()['id']}/credentials"),
                headers=bearer(token),
                timeout=30,
            )
            answer.raise_for_status()
            logins[key].append(answer.json())
    return token, logins


def measure(stack: Stack, args, context) -> tuple[dict, dict]:
    """Warm-up and rounds of both targets: ``(results, warm-up figures)``."""
    token, logins = provision(stack, args.devices)
    ids = {key: [login["device_id"] for login in logins[key]] for key in logins}
    devices = Devices(
        context,
        [(login, answer_topic(login["device_id"])) for login in logins["b"]]
        + [(login, mqtt_ack_topic(login["device_id"])) for login in logins["p"]],
    )
    listener = commander = None
    try:
        listener = SocketListener(stack, token)
        listener.start()
        mqtt_port = int(logins["b"][0]["mqtt"]["port"])
        commander = Commander(stack.resources.amqp_uri, mqtt_port, ids["b"])

        def new_api_sender():
            sender = ApiSender(stack.ports["http"], token, ids["p"])
            return sender, lambda: dict(listener.finals)

        targets = {"b": commander.new_phase, "p": new_api_sender}
        roots = {
            os.getpid(): "bench (senders, socket, baseline client)",
            **roots_of(stack),
            devices.process.pid: "bench devices",
        }
        warmup = {}
        for key, target in targets.items():
            result = run_phase(f"warm-{key}", args.warmup, args, target, roots)
            warmup[key] = {k: result[k] for k in ("commands", "acked", "lost")}
        print(f"Warm-up (discarded): {json.dumps(warmup)}", flush=True)
        measured = {"b": [], "p": []}
        for round_number in range(1, args.rounds + 1):
            for key, target in targets.items():
                run = f"{key}{round_number}"
                result = run_phase(run, args.seconds, args, target, roots)
                measured[key].append(result)
                print(
                    f"  {run}: acked {result['acked']}/{result['commands']}, lost "
                    f"{result['lost']}, p50 {ms(percentile(result['latencies'], 0.5))}"
                    f" ms, p99 {ms(percentile(result['latencies'], 0.99))} ms, "
                    f"machine busy {result['cpu']['machine_busy_pct']} %",
                    flush=True,
                )
        warmup["devices"] = devices.counts()
    finally:
        if commander is not None:
            commander.close()
        if listener is not None:
            listener.stop()
        devices.stop()
    labels = {
        "b": "bare MQTT publish and answer (same broker, same devices' code)",
        "p": "platform: API → device → ack → owner's socket",
    }
    results = {key: summarize(labels[key], measured[key]) for key in ("b", "p")}
    return results, warmup


# -- the report --------------------------------------------------------------------


def results_table(results: dict) -> str:
    keys = ["target", "commands", "acked", "lost", "send_rate_per_s", "p50_ms"]
    keys += ["p99_ms", "max_ms", "from_schedule_p50_ms", "from_schedule_p99_ms"]
    return markdown_table(
        ["", "target", "commands", "acked", "lost", "sent/s", "p50 ms", "p99 ms"]
        + ["max ms", "from schedule p50 ms", "from schedule p99 ms"],
        [[f"({key})", *(r[k] for k in keys)] for key, r in results.items()],
    )


def report(results: dict, args, warmup, processes) -> dict:
    document = {
        **header("commands", traefik=traefik_version()),
        "rate_per_s": args.rate,
        "seconds_per_phase": args.seconds,
        "rounds": args.rounds,
        "devices_per_target": args.devices,
        "senders": args.senders,
        "commands_sent": f"{COMMAND}, ttl_s {TTL_S}; each device answers at once",
        "latency": "from the moment a sender thread starts sending a command to "
        "the moment this process hears it acked (p: command.updated 'acked' on the "
        "owner's socket; b: the device's answer); from_schedule_*: from the time "
        "the open-loop schedule gave the command instead",
        "lost": "commands scheduled but not acked (refused by the API, or no answer "
        f"by the time none had come for {DRAIN_STALL} s, at most {DRAIN_CAP} s)",
        "aggregation": "phases in turns (b p per round) after a discarded warm-up "
        "of each; latencies pooled over rounds",
        "processes": "this script (senders, the owner's socket, the baseline's MQTT "
        "client), one devices process (paho, one client per device), the stack: "
        + ", ".join(processes),
        "warmup": warmup,
        "results": results,
        "ratios": ratios(results),
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
            f"({key}) sender late by up to {result['sender_late_max_ms']} ms; "
            f"API 202 p50/p99 {result.get('api_202_p50_ms')}/"
            f"{result.get('api_202_p99_ms')} ms; CPU us per command "
            f"{result['cpu_us_per_command']}; mean ms by second of a phase "
            f"{result['mean_ms_by_second_of_phase']}"
        )
        for phase in result["by_round"]:
            print(
                f"  {phase['run']}: machine busy {phase['cpu']['machine_busy_pct']} %"
                f" of {document['machine']['nproc']} cores, load average "
                f"{phase['load_average_1m']}; refused {phase['refused']} (acked "
                f"all the same: {phase['acked_though_refused']}); other "
                f"{phase['other_final_status']}; outside "
                f"{phase['cpu']['outside_busiest_cores']}"
            )
    print(f"Written to {RESULTS}")


# -- main --------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rate", type=float, default=100.0, help="commands per second (default 100)"
    )
    parser.add_argument(
        "--seconds", type=float, default=15.0, help="length of a phase (default 15)"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="(b) (p) phases each (default 2)"
    )
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="warm-up seconds (default 3)"
    )
    parser.add_argument(
        "--devices", type=int, default=10, help="devices per target (default 10)"
    )
    parser.add_argument(
        "--senders", type=int, default=50, help="sender threads (default 50)"
    )
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    context = multiprocessing.get_context("spawn")
    processes = needed_processes()
    with (
        scratch("commands") as workdir,
        running(
            Stack(workdir, environment={"EMS_DEMO": "0"}, processes=processes)
        ) as stack,
    ):
        results, warmup = measure(stack, args, context)
        print_report(report(results, args, warmup, processes))
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
