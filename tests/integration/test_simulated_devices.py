"""Simulated devices that talk back, through the real stack: ``ems simulate
--commands`` logs each device of an account in over MQTT with credentials from the
API; commands published to ``ems.data`` as the platform publishes them reach it, and
its answers, its presence and its readings come back on ``ems.data``."""

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from kombu import Connection, Queue, binding

from harness.polling import eventually
from harness.readings import stored
from harness.simulation import simulate, stop
from services.common.topology import DATA, iso_utc

pytestmark = pytest.mark.integration


def key(device_id: str, what: str) -> str:
    """The routing key of MQTT topic ``ems/devices/<id>/<what>``."""
    return f"ems.devices.{device_id}.{what}"


class Watch:
    """A queue of the test's own on ``ems.data``, bound to what devices publish."""

    def __init__(self, amqp_uri: str, device_ids):
        self.connection = Connection(amqp_uri)
        bindings = [
            binding(DATA, routing_key=key(device_id, what))
            for device_id in device_ids
            for what in ("acks", "status", "reading")
        ]
        queue = Queue(exclusive=True, bindings=bindings)
        self.queue = queue(self.connection.default_channel)
        self.queue.declare()
        self.seen: list[tuple[str, dict]] = []

    def drain(self) -> list[tuple[str, dict]]:
        while (message := self.queue.get(no_ack=True)) is not None:
            self.seen.append((message.delivery_info["routing_key"], message.body))
        return self.seen

    def bodies(self, device_id: str, what: str) -> list[dict]:
        wanted = key(device_id, what)
        return [json.loads(body) for k, body in self.drain() if k == wanted]

    def wait_for(self, device_id: str, what: str, test, timeout: float = 60.0):
        return eventually(
            lambda: next((b for b in self.bodies(device_id, what) if test(b)), None),
            timeout=timeout,
        )

    def close(self):
        self.connection.release()


def send_command(amqp_uri, device_id, command_type, params, ttl=300.0, **fields):
    """A command on ``ems.data`` as the platform sends it; its id."""
    command = {
        "command_id": str(uuid.uuid4()),
        "type": command_type,
        "params": params,
        "expires_at": iso_utc(datetime.now(UTC) + timedelta(seconds=ttl)),
        **fields,
    }
    with Connection(amqp_uri) as connection:
        connection.Producer().publish(
            command,
            exchange=DATA,
            routing_key=key(device_id, "commands"),
            serializer="json",
            delivery_mode=2,
            retry=True,
        )
    return command["command_id"]


@pytest.fixture
def account(new_user):
    return new_user("Volta")


@pytest.fixture
def household(account):
    user, client = account
    devices = {}
    for name, kind, limit in (
        ("battery", "battery", 5.0),
        ("meter", "meter", 1.5),
        ("quiet", "appliance", 1.0),
    ):
        created = client.post(
            "/api/devices", {"name": name, "kind": kind, "max_hourly_kwh": limit}
        )
        assert created.status_code == 201, created.text
        devices[name] = created.json()["id"]
    return user["email"], devices


def test_simulated_devices_take_commands_answer_them_and_say_when_they_are_online(
    stack, household, tmp_path
):
    email, ids = household
    amqp_uri = stack.resources.amqp_uri
    watch = Watch(amqp_uri, ids.values())
    log = tmp_path / "simulator.log"
    behaviours = [
        "--behaviour", f"{ids['meter']}=reject",
        "--behaviour", f"{ids['quiet']}=silent",
    ]  # fmt: skip

    def answer(device_id, command_id):
        return watch.wait_for(
            device_id, "acks", lambda b: b["command_id"] == command_id
        )

    simulator = simulate(stack, email, *behaviours, log=log)
    try:
        # Online once subscribed: each logged in with its own credentials.
        for device_id in ids.values():
            watch.wait_for(device_id, "status", lambda b: b == {"online": True})

        charge = send_command(
            amqp_uri, ids["battery"], "battery_setpoint", {"power_kw": 2}
        )
        late = send_command(amqp_uri, ids["battery"], "ping", {}, ttl=-60)
        refused = send_command(amqp_uri, ids["meter"], "switch", {"on": False})
        send_command(amqp_uri, ids["quiet"], "ping", {})

        assert answer(ids["battery"], charge) == {
            "command_id": charge,
            "status": "ok",
            "detail": "charging at 2 kW",
        }
        expired = answer(ids["battery"], late)
        assert expired["status"] == "rejected"
        assert expired["detail"].startswith("expired at ")
        assert answer(ids["meter"], refused)["status"] == "rejected"
        # The silent one dropped its connection: the broker published its will.
        watch.wait_for(ids["quiet"], "status", lambda b: b == {"online": False})
        assert watch.bodies(ids["quiet"], "acks") == []

        # The battery charges: its readings say so, and the platform counts them.
        charging = watch.wait_for(
            ids["battery"], "reading", lambda b: b["soc_kwh"] > 5.0
        )
        assert {"kwh", "export_kwh", "power_w", "soc_kwh"} <= set(charging)
        assert charging["power_w"] > 1900 and charging["kwh"] > 0
        eventually(lambda: stored(stack, ids["battery"])[0] > 0)
        readings = len(watch.bodies(ids["quiet"], "reading"))
        time.sleep(2)
        assert len(watch.bodies(ids["quiet"], "reading")) == readings
    finally:
        stop(simulator)
    # A clean stop says offline itself.
    watch.wait_for(ids["battery"], "status", lambda b: b == {"online": False})

    # A command sent while the battery was away waits in its session.
    idle = send_command(amqp_uri, ids["battery"], "battery_setpoint", {"power_kw": 0})
    simulator = simulate(stack, email, log=log)
    try:
        assert answer(ids["battery"], idle) == {
            "command_id": idle,
            "status": "ok",
            "detail": "idle",
        }
    finally:
        stop(simulator)
        watch.close()
    assert "Traceback" not in log.read_text(), log.read_text()


def test_a_killed_simulator_s_devices_go_offline_on_the_platform(
    stack, household, account, tmp_path
):
    """SIGKILL leaves no time to say goodbye: the broker publishes each device's
    will, and the platform marks it offline and tells its owner."""
    _, client = account
    _, ids = household

    def online():
        listed = client.get("/api/devices/status")
        assert listed.status_code == 200, listed.text
        return {status["device_id"]: status["online"] for status in listed.json()}

    simulator = simulate(stack, household[0], log=tmp_path / "simulator.log")
    try:
        eventually(lambda: all(online().get(i) for i in ids.values()), timeout=60)
    finally:
        simulator.kill()
        simulator.wait()
    eventually(lambda: not any(online().values()), timeout=60)
    reasons = [n["reason"] for n in client.get("/api/notifications").json()]
    assert reasons.count("offline") == len(ids), reasons
