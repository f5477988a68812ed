"""Alarms through the real stack: a device's own limit raises one alarm as its
readings go over it, live over ``/ws`` and by e-mail through the SMTP server; it
is acknowledged and cleared by the people it concerns; a rule clears its alarm
when its condition ends; two processes of the alarms service and one killed in
the middle of its work still leave one active alarm per device and type."""

import signal
import time
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from harness.clients import ws_connect, ws_receive
from harness.mail import mails_to, wait_for_mail
from harness.polling import eventually
from harness.readings import publish_readings

pytestmark = pytest.mark.integration


def over_the_limit(device_id: str, kwh: float, count: int = 3) -> list[dict]:
    """Readings of the current hour adding up to ``kwh``."""
    now = datetime.now(UTC).replace(microsecond=0)
    return [
        {
            "reading_id": uuid.uuid4().hex,
            "device_id": device_id,
            "timestamp": now.isoformat().replace("+00:00", "Z"),
            "kwh": round(kwh / count, 6),
        }
        for _ in range(count)
    ]


def alarms_of(stack, device_id: str) -> list:
    engine = create_engine(stack.resources.databases["alarmdb"])
    try:
        with engine.connect() as connection:
            return connection.execute(
                text(
                    "SELECT id, type, active FROM alarms WHERE device_id = :d "
                    "ORDER BY started_at"
                ),
                {"d": device_id},
            ).all()
    finally:
        engine.dispose()


def first_alarm(client, device_id: str) -> dict:
    return eventually(
        lambda: (
            (page := client.get(f"/api/alarms?device_id={device_id}").json()["alarms"])
            and page[0]
        ),
        timeout=30,
    )


def test_a_device_over_its_limit_raises_one_alarm_that_people_act_on(
    stack, device, new_user, admin
):
    meter, user, client = device
    stranger, other = new_user("Eve")
    socket = ws_connect(stack, client.token)
    try:
        publish_readings(stack, *over_the_limit(meter["id"], 1.5))
        alarm = first_alarm(client, meter["id"])
        assert (alarm["type"], alarm["severity"], alarm["status"]) == (
            "energy_over",
            "major",
            "active",
        )
        assert alarm["originator"] == {
            "type": "device",
            "id": meter["id"],
            "name": "Meter",
        }
        assert alarm["value"] == 1.5 and alarm["threshold"] == 1.0
        assert "Meter used 1.5 kWh in the hour from" in alarm["message"]
        pushed = ws_receive(socket, "alarm.created", wait=15)
        assert pushed["data"]["id"] == alarm["id"]
    finally:
        socket.close()

    # By e-mail too (major is e-mailed by default), through maildev.
    mail = wait_for_mail(stack, user["email"])
    assert mail["subject"] == "[EMS] Major alarm: Meter"
    assert "Meter used 1.5 kWh" in mail["text"]

    summary = client.get("/api/alarms/summary").json()
    assert summary["active"] == 1 and summary["unacknowledged"] == 1
    assert other.get(f"/api/alarms?device_id={meter['id']}").json()["alarms"] == []
    assert other.post(f"/api/alarms/{alarm['id']}/ack", {}).status_code == 404
    assert client.post("/api/alarms/nope/ack", {}).status_code == 404
    refused = client.post(f"/api/alarms/{alarm['id']}/ack", {"comment": 7})
    assert refused.status_code == 400 and "comment" in refused.json()["details"]
    bad = client.get("/api/alarms?status=loud&severity=huge")
    assert bad.status_code == 400
    assert set(bad.json()["details"]) == {"status", "severity"}

    acked = client.post(f"/api/alarms/{alarm['id']}/ack", {"comment": "on it"})
    assert acked.status_code == 200, acked.text
    assert acked.json()["acknowledged"] and acked.json()["comment"] == "on it"
    assert acked.json()["acknowledged_by"]["id"] == user["id"]
    assert client.get("/api/alarms/summary").json()["unacknowledged"] == 0

    # More readings of the hour: still the one alarm, its value following.
    publish_readings(stack, *over_the_limit(meter["id"], 0.9))
    eventually(
        lambda: (
            client.get(f"/api/alarms?device_id={meter['id']}").json()["alarms"][0][
                "value"
            ]
            == 2.4
        ),
        timeout=30,
    )
    assert len(alarms_of(stack, meter["id"])) == 1

    cleared = client.post(f"/api/alarms/{alarm['id']}/clear", {})
    assert cleared.json()["status"] == "cleared"
    assert cleared.json()["cleared_by"]["id"] == user["id"]
    time.sleep(3)
    # The hour is still over: no new alarm while its condition holds.
    assert [row.active for row in alarms_of(stack, meter["id"])] == [False]
    assert len(mails_to(stack, user["email"])) == 1

    # Both acts are in the audit log, with who and from where.
    records = eventually(
        lambda: (
            (
                found := admin.get(
                    "/api/audit", params={"object_id": alarm["id"]}
                ).json()["records"]
            )
            and len(found) == 2
            and found
        ),
        timeout=30,
    )
    assert [r["action"] for r in records] == ["alarms.cleared", "alarms.acknowledged"]
    assert {r["actor"]["id"] for r in records} == {user["id"]}
    assert records[1]["details"]["comment"] == "on it"
    assert all(r["client"] == "127.0.0.1" for r in records)


def test_a_rule_clears_its_alarm_when_the_condition_ends(stack, device):
    meter, user, client = device
    [own] = client.get(f"/api/alarm-rules?device_id={meter['id']}").json()
    assert own["device_limit"] and own["threshold"] == 1.0
    assert (
        client.patch(f"/api/alarm-rules/{own['id']}", {"threshold": 9}).status_code
        == 400
    )
    assert client.delete(f"/api/alarm-rules/{own['id']}").status_code == 409
    site_rule = client.post(
        "/api/alarm-rules",
        {
            "name": "Home over 1.2 kWh",
            "type": "energy_over",
            "site_id": meter["site_id"],
            "threshold": 1.2,
            "severity": "critical",
        },
    )
    assert site_rule.status_code == 201, site_rule.text

    publish_readings(stack, *over_the_limit(meter["id"], 1.5))
    alarm = first_alarm(client, meter["id"])
    site_alarm = eventually(
        lambda: (
            (
                page := client.get(
                    f"/api/alarms?site_id={meter['site_id']}&severity=critical"
                ).json()["alarms"]
            )
            and page[0]
        ),
        timeout=30,
    )
    assert site_alarm["originator"]["type"] == "site"

    # The device's limit goes up: its rule follows, its alarm ends by itself.
    raised = client.patch(f"/api/devices/{meter['id']}", {"max_hourly_kwh": 5})
    assert raised.status_code == 200, raised.text
    ended = eventually(
        lambda: (
            (
                found := client.get(f"/api/alarms?device_id={meter['id']}").json()[
                    "alarms"
                ][0]
            )["status"]
            == "cleared"
            and found
        ),
        timeout=30,
    )
    assert ended["id"] == alarm["id"] and ended["cleared_by"] is None
    assert ended["ended_at"] is not None
    # And the site's rule, deleted, takes its alarm with it.
    assert (
        client.delete(f"/api/alarm-rules/{site_rule.json()['id']}").status_code == 204
    )
    eventually(
        lambda: (
            client.get(f"/api/alarms?site_id={meter['site_id']}&status=active").json()[
                "alarms"
            ]
            == []
        ),
        timeout=30,
    )


def test_two_alarms_processes_and_one_killed_keep_one_active_alarm(stack, device):
    meter, user, client = device
    second = "alarms_2"
    stack.start_process(second, stack.commands["alarms"])
    try:
        for _ in range(3):
            publish_readings(stack, *over_the_limit(meter["id"], 0.6))
            time.sleep(0.7)
            stack.kill("alarms", signal.SIGKILL)
            stack.start_process("alarms")
        first_alarm(client, meter["id"])
        time.sleep(4)
        rows = alarms_of(stack, meter["id"])
        assert [(row.type, row.active) for row in rows] == [("energy_over", True)]
        rules = client.get(f"/api/alarm-rules?device_id={meter['id']}").json()
        assert [rule["device_limit"] for rule in rules] == [True]
    finally:
        stack.retire(second)
