"""Readings that can never count, through the whole platform: each is dead-lettered
alone with its reason while the rest of its batch counts; ADMIN lists, inspects,
replays and purges dead letters over the API and with ``ems dead-letters``."""

import gzip
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kombu import Connection

from harness.polling import eventually
from harness.readings import publish_readings
from services.common.topology import DATA, reading_key

pytestmark = pytest.mark.integration


def reading(device_id, stamp, kwh, reading_id=None):
    return {
        "reading_id": reading_id or str(uuid.uuid4()),
        "device_id": device_id,
        "timestamp": stamp,
        "kwh": kwh,
    }


def dead_letters_of(admin, device_id, count=0, **params):
    """The dead letters of one device's readings, once there are ``count``."""
    key = reading_key(device_id)

    def listed():
        response = admin.get("/api/dead-letters", params={"limit": 500, **params})
        assert response.status_code == 200, response.text
        mine = [letter for letter in response.json() if letter["routing_key"] == key]
        return len(mine) >= count and (mine or count == 0)

    found = eventually(listed, timeout=20)
    return found if isinstance(found, list) else []


def total(client, device_id, day):
    response = client.get(
        "/api/consumption/day", params={"device_id": device_id, "date": day}
    )
    assert response.status_code == 200, response.text
    return response.json()["total_kwh"]


def publish(stack, device_id, body: bytes, **options):
    with Connection(stack.resources.amqp_uri) as connection:
        connection.Producer().publish(
            body,
            exchange=DATA,
            routing_key=reading_key(device_id),
            delivery_mode=2,
            declare=[DATA],
            retry=True,
            **options,
        )


def test_each_poison_reading_is_dead_lettered_alone_and_the_rest_counts(
    stack, device, admin
):
    device, _, client = device
    device_id = device["id"]
    today = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    day = (today - timedelta(hours=1)).date().isoformat()
    stamp = (today - timedelta(hours=1)).replace(minute=30).isoformat()
    poison = [
        (reading(device_id, "0001-01-01T00:00:00+05:00", 0.1), "back-fill window"),
        (reading(device_id, "1970-01-01T00:00:00Z", 0.1), "back-fill window"),
        (
            reading(device_id, (today + timedelta(hours=2)).isoformat(), 0.1),
            "s ahead",
        ),
        (reading(device_id, stamp, 1e30), "absurd"),
        (reading(device_id, stamp, 0.1, reading_id="r-\ud800"), "not valid Unicode"),
        (reading(device_id, stamp, 0.1, reading_id="r-\x00"), "NUL"),
    ]
    good = [reading(device_id, stamp, 0.001) for _ in range(60)]
    bodies = list(good)
    for place, (body, _) in enumerate(poison):
        bodies.insert(place * 9, body)
    publish_readings(stack, *bodies)
    bomb = gzip.compress(json.dumps(reading(device_id, stamp, 5.0)).encode())
    publish(
        stack,
        device_id,
        bomb,
        headers={"compression": "application/x-gzip"},
        content_type="application/json",
    )
    huge = reading(device_id, stamp, 5.0)
    huge["padding"] = "x" * 70_000
    publish(stack, device_id, json.dumps(huge).encode(), content_type="text/json")

    eventually(lambda: total(client, device_id, day) == pytest.approx(0.06))
    letters = dead_letters_of(admin, device_id, len(poison) + 2)
    assert len(letters) == len(poison) + 2
    by_service = {}
    for letter in letters:
        by_service.setdefault(letter["service"], []).append(letter["reason"])
    oversized, compressed = sorted(by_service["balancer"])
    assert oversized.endswith("bytes is over the limit of 65536: refused unread")
    assert compressed == "compressed body (application/x-gzip): refused unread"
    worker = by_service["monitoring_worker"]
    for _, fragment in poison:
        assert any(fragment in reason for reason in worker), (fragment, worker)
    # Nothing of the poison counted, and the good readings once each.
    assert total(client, device_id, day) == pytest.approx(0.06)


def test_only_admin_sees_and_handles_dead_letters(stack, device, admin, anonymous):
    device, _, client = device
    publish_readings(stack, reading(device["id"], "1970-01-01T00:00:00Z", 0.1))
    [letter] = dead_letters_of(admin, device["id"], 1)
    one = f"/api/dead-letters/{letter['id']}"
    for call in (
        lambda c: c.get("/api/dead-letters"),
        lambda c: c.get(one),
        lambda c: c.post(f"{one}/replay"),
        lambda c: c.delete(one),
        lambda c: c.delete("/api/dead-letters"),
    ):
        assert call(client).status_code == 403
        assert call(anonymous).status_code == 401
    assert admin.get(one).json()["id"] == letter["id"]


def test_admin_inspects_replays_deletes_and_purges_over_the_api(stack, device, admin):
    device, _, _ = device
    old = reading(device["id"], "1970-01-01T00:00:00Z", 0.1)
    publish_readings(stack, old, reading(device["id"], "1970-01-02T00:00:00Z", 0.2))
    letters = dead_letters_of(admin, device["id"], 2)
    first = next(x for x in letters if json.loads(x["preview"]) == old)
    shown = admin.get(f"/api/dead-letters/{first['id']}")
    assert shown.status_code == 200
    detail = shown.json()
    assert json.loads(detail["body"]) == old
    assert detail["exchange"] == "ems.data" and detail["replayable"] is True
    assert "back-fill window" in detail["reason"]

    replayed = admin.post(f"/api/dead-letters/{first['id']}/replay")
    assert replayed.status_code == 200, replayed.text
    assert replayed.json() == {
        "id": first["id"],
        "exchange": "ems.data",
        "routing_key": reading_key(device["id"]),
    }
    # Still too old: back through the balancer and a worker, dead-lettered anew.
    again = eventually(
        lambda: [
            x
            for x in dead_letters_of(admin, device["id"], 2)
            if json.loads(x["preview"]) == old and x["id"] != first["id"]
        ]
    )
    assert admin.get(f"/api/dead-letters/{first['id']}").status_code == 404

    assert admin.delete(f"/api/dead-letters/{again[0]['id']}").status_code == 204
    assert admin.delete(f"/api/dead-letters/{again[0]['id']}").status_code == 404
    assert admin.post(f"/api/dead-letters/{uuid.uuid4()}/replay").status_code == 404
    assert admin.get("/api/dead-letters", params={"limit": 0}).status_code == 400
    purged = admin.delete("/api/dead-letters", params={"reason": "back-fill window"})
    assert purged.status_code == 200 and purged.json()["deleted"] >= 1
    assert dead_letters_of(admin, device["id"]) == []


def ems(stack, *args):
    result = subprocess.run(
        [str(Path(sys.executable).with_name("ems")), "dead-letters", *args],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result


def test_the_ems_command_lists_shows_replays_and_purges(stack, device, admin):
    device, _, _ = device
    body = reading(device["id"], "1970-01-01T00:00:00Z", 0.1)
    publish_readings(stack, body)
    [letter] = dead_letters_of(admin, device["id"], 1)

    listed = ems(stack, "list", "--reason", "back-fill", "--json")
    assert listed.returncode == 0, listed.stderr
    assert letter["id"] in {x["id"] for x in json.loads(listed.stdout)}
    table = ems(stack, "list")
    assert letter["id"] in table.stdout and "back-fill window" in table.stdout
    shown = ems(stack, "show", letter["id"])
    assert json.loads(json.loads(shown.stdout)["body"]) == body
    replayed = ems(stack, "replay", letter["id"])
    assert replayed.stdout.strip() == (
        f"replayed {letter['id']} to ems.data {reading_key(device['id'])}"
    )
    missing = ems(stack, "show", letter["id"])
    assert missing.returncode == 1 and "not found" in missing.stderr
    dead_letters_of(admin, device["id"], 1)  # back again, still too old
    purged = ems(stack, "purge", "--reason", "back-fill window")
    assert purged.returncode == 0 and purged.stdout.startswith("deleted ")
    assert dead_letters_of(admin, device["id"]) == []
