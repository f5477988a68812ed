"""A household's history through the real stack: ``ems simulate --history`` sends
each device's hourly readings up to the hour it was created, through the ingest
like any reading, before going live; a second start sends the same readings and
the platform counts each once."""

import re
from datetime import datetime

import pytest
import requests

from harness.polling import eventually
from harness.readings import counted_until
from harness.simulation import simulate, stop
from services.common.topology import BALANCER_RAW, INGEST_PREFIX

pytestmark = pytest.mark.integration

SENT = re.compile(r"history sent: (\d+) readings confirmed")


def history_sent(log) -> list[int]:
    """What each start's history line in the simulator's log says it sent."""
    return [int(count) for count in SENT.findall(log.read_text())]


def ingest(stack) -> tuple[int, int]:
    """Of the queues readings pass through: how many messages were published into
    them so far, and how many are still in them (ready or unacknowledged)."""
    answer = requests.get(
        f"{stack.resources.management_uri.rstrip('/')}/api/queues/"
        f"{stack.resources.vhost.name}",
        auth=("guest", "guest"),
        timeout=30,
    )
    answer.raise_for_status()
    queues = [
        q
        for q in answer.json()
        if q["name"] == BALANCER_RAW.name or q["name"].startswith(INGEST_PREFIX)
    ]
    published = sum(q.get("message_stats", {}).get("publish", 0) for q in queues)
    return published, sum(q.get("messages", 0) for q in queues)


def hour_start(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def household(new_user):
    user, client = new_user("Hestia")
    devices = {}
    for name, kind, limit in (("meter", "meter", 1.5), ("pv", "pv", 3.0)):
        created = client.post(
            "/api/devices", {"name": name, "kind": kind, "max_hourly_kwh": limit}
        )
        assert created.status_code == 201, created.text
        device = created.json()
        joined = datetime.fromisoformat(device["created_at"].replace("Z", "+00:00"))
        # History readings end on whole hours no later than the device joined;
        # its live readings are stamped after it joined.
        devices[device["id"]] = hour_start(joined)
    return user["email"], devices


def counted(stack, devices) -> dict:
    return {d: counted_until(stack, d, until) for d, until in devices.items()}


def test_history_is_counted_once_however_often_it_is_sent(stack, household, tmp_path):
    email, devices = household
    log = tmp_path / "simulator.log"

    simulator = simulate(stack, email, "--history", "6h", log=log)
    try:
        [sent] = eventually(lambda: history_sent(log), timeout=120)
        # Six hours before now, up to the hour each device joined: 5 or 6 each.
        assert 10 <= sent <= 12
        first = eventually(
            lambda: (
                (now := counted(stack, devices))
                and sum(c[0] for c in now.values()) == sent
                and now
            ),
            timeout=120,
        )
    finally:
        stop(simulator)
    for count, drawn, total, _ in first.values():
        # Every history reading counted in its hour, once.
        assert count >= 5 and total == pytest.approx(drawn, abs=1e-6)
    # The meter always draws; the PV system draws only at night, so its six hours
    # may well add up to nothing.
    assert sum(total for _, _, total, _ in first.values()) > 0

    published, _ = ingest(stack)
    simulator = simulate(stack, email, "--history", "6h", log=log)
    try:
        first_start, again = eventually(
            lambda: (sent := history_sent(log)) and len(sent) == 2 and sent, timeout=120
        )
        # The same readings (one fewer each if an hour began in between) ...
        assert first_start - len(devices) <= again <= first_start
        # ... went through the ingest, all of them, and left it.
        eventually(
            lambda: (now := ingest(stack))[0] >= published + again and now[1] == 0,
            timeout=120,
        )
    finally:
        stop(simulator)
    assert counted(stack, devices) == first
    assert "Traceback" not in log.read_text(), log.read_text()
