"""The alarms service on the real broker and database, two processes of it, with
monitoring, batteries, devices and users stood in for: rules raise and clear
alarms by what those services say, one active alarm per originator and type
whatever the processes and redelivered events do, acknowledgements and clears,
rules' checks, and who is told (pushes, e-mail, quiet hours)."""

import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from harness.monitoring import publish
from services.alarms.exceptions import AlarmNotFound, DeviceLimitRule, RuleScopeNotFound
from services.alarms.models import Alarm, AlarmRule, HeldEmail, Preferences
from services.alarms.service import AlarmsService
from services.alarms.storage import AlarmStore
from services.common.errors import Forbidden, NotFound, ValidationFailed
from services.common.topology import ALARMS_SYNC, SYNC, WS

pytestmark = pytest.mark.usefixtures("clean_databases")

OWNER = {"user_id": "5a1c9d2e-0000-4000-8000-0000000000aa", "role": "USER"}
STRANGER = {"user_id": "5a1c9d2e-0000-4000-8000-0000000000bb", "role": "USER"}
SITE_VIEWER = {"user_id": "5a1c9d2e-0000-4000-8000-0000000000cc", "role": "USER"}
OPERATOR = {"user_id": "5a1c9d2e-0000-4000-8000-0000000000dd", "role": "OPERATOR"}
SITE = "6b2d0e3f-0000-4000-8000-000000000001"
STAMP = "2026-12-01T00:00:00+00:00"


class FakeMonitoring:
    name = "monitoring"
    kwh: dict[str, float] = {}
    states: dict[str, dict] = {}

    @rpc
    def hourly_series_of(self, device_ids, start, end):
        return {
            device_id: [
                {
                    "hour": start,
                    "kwh": FakeMonitoring.kwh.get(device_id, 0.0),
                    "export_kwh": 0.0,
                }
            ]
            for device_id in device_ids
        }

    @rpc
    def device_states(self, device_ids):
        return {
            d: FakeMonitoring.states[d]
            for d in device_ids
            if d in FakeMonitoring.states
        }

    @rpc
    def power_floor(self, device_ids, minutes, now_iso=None):
        return {}

    @rpc
    def forecast_generation(self, device_id, hours=24, now_iso=None):
        return {"hours": [{"hour": now_iso, "kwh": 0.0}]}


class FakeBatteries:
    name = "batteries"
    soc: dict[str, float] = {}

    @rpc
    def fleet_of(self, device_ids):
        return [
            {"device_id": d, "capacity_kwh": 10.0, "soc_kwh": FakeBatteries.soc[d]}
            for d in device_ids
            if d in FakeBatteries.soc
        ]


class FakeDevices:
    name = "devices"

    @rpc(expected_exceptions=NotFound)
    def describe_device(self, device_id):
        raise NotFound()

    @rpc(expected_exceptions=NotFound)
    def describe_site(self, site_id):
        raise NotFound()

    @rpc
    def site_inventory(self, after=None, limit=100):
        return []


class FakeUsers:
    name = "users"

    @rpc
    def describe_users(self, user_ids):
        return [
            {
                "id": user_id,
                "email": f"{user_id[-2:]}@example.com",
                "name": f"User {user_id[-2:]}",
                "role": "OPERATOR" if user_id == OPERATOR["user_id"] else "USER",
                "time_zone": "Europe/London",
            }
            for user_id in user_ids
        ]


def device(name="Heat pump", kind="heat_pump", limit=2.0, updated=STAMP):
    return {
        "id": str(uuid.uuid4()),
        "user_id": OWNER["user_id"],
        "name": name,
        "kind": kind,
        "site_id": SITE,
        "room_id": None,
        "max_hourly_kwh": limit,
        "updated_at": updated,
    }


SITE_EVENT = {
    "site": {
        "id": SITE,
        "name": "Riverside",
        "timezone": "Europe/London",
        "members": [
            {"user_id": OWNER["user_id"], "role": "owner"},
            {"user_id": SITE_VIEWER["user_id"], "role": "viewer"},
        ],
        "updated_at": STAMP,
    }
}


@pytest.fixture
def alarms(container_factory, service_config):
    """Two alarms processes with quick rounds, the stand-ins, and an RPC proxy."""
    FakeMonitoring.kwh, FakeMonitoring.states, FakeBatteries.soc = {}, {}, {}
    for service in (FakeMonitoring, FakeBatteries, FakeDevices, FakeUsers):
        container_factory(service, service_config()).start()
    settings = service_config(
        "alarms", EVALUATE_SECONDS=0.2, NOTIFY_SECONDS=0.3, RPC_TIMEOUT=5
    )
    for _ in range(2):
        container_factory(AlarmsService, settings).start()
    publish(settings, ALARMS_SYNC, "site.created", [SITE_EVENT], exchange=SYNC)
    with ServiceRpcProxy("alarms", service_config()) as proxy:
        yield proxy, settings


def send_device(settings, body, key="device.created", times=1):
    publish(settings, ALARMS_SYNC, key, [{"device": body}] * times, exchange=SYNC)


def wait_for(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("timed out")


def rows(engines, **where) -> list[Alarm]:
    with Session(engines["alarmdb"]) as session:
        query = select(Alarm).filter_by(**where).order_by(Alarm.started_at)
        return list(session.scalars(query))


def test_one_active_alarm_per_device_and_type_under_two_processes_and_redelivery(
    alarms, engines
):
    proxy, settings = alarms
    heat_pump = device()
    # The same event three times, and an older change after it.
    send_device(settings, heat_pump, times=3)
    send_device(
        settings,
        heat_pump | {"max_hourly_kwh": 9.0, "updated_at": "2026-01-01T00:00:00+00:00"},
        "device.updated",
    )
    FakeMonitoring.kwh[heat_pump["id"]] = 3.2
    raised = wait_for(lambda: rows(engines, device_id=heat_pump["id"]))
    time.sleep(2)  # ten rounds in each process
    assert len(rows(engines, device_id=heat_pump["id"])) == 1
    alarm = raised[0]
    assert (alarm.type, alarm.severity, alarm.active) == ("energy_over", "major", True)
    assert float(alarm.threshold) == 2.0 and float(alarm.value) == 3.2
    with Session(engines["alarmdb"]) as session:
        limits = session.scalars(
            select(AlarmRule).filter_by(device_id=heat_pump["id"], device_limit=True)
        ).all()
    assert [float(rule.threshold) for rule in limits] == [2.0]

    # The condition ends: the alarm clears itself, cleared by nobody.
    FakeMonitoring.kwh[heat_pump["id"]] = 0.4
    wait_for(lambda: not rows(engines, device_id=heat_pump["id"], active=True))
    [ended] = rows(engines, device_id=heat_pump["id"])
    assert ended.ended_at is not None and ended.cleared_by is None


def test_the_database_refuses_a_second_active_alarm_whoever_raises_it(engines):
    values = {
        "type": "offline",
        "severity": "minor",
        "originator_type": "device",
        "originator_id": str(uuid.uuid4()),
        "originator_name": "Meter",
        "user_id": OWNER["user_id"],
        "message": "Meter has been offline for 20 minutes",
        "started_at": datetime.now(UTC),
        "updated_at": datetime.now(UTC),
    }
    raised, start = [], threading.Barrier(8)

    def race():
        with Session(engines["alarmdb"]) as session:
            store = AlarmStore(session)
            start.wait()
            raised.append(store.raise_alarm(dict(values)))
            store.commit()

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(alarm is not None for alarm in raised) == 1
    assert len(rows(engines, originator_id=values["originator_id"])) == 1


def test_acknowledge_and_clear_by_hand(alarms, engines, listen):
    proxy, settings = alarms
    pushes = listen(WS, "user.#")
    mail = listen(SYNC, "mail.send")
    heat_pump = device()
    send_device(settings, heat_pump)
    FakeMonitoring.kwh[heat_pump["id"]] = 5.0
    [alarm] = wait_for(lambda: rows(engines, device_id=heat_pump["id"]))

    page = proxy.list_alarms(OWNER, {"status": "active"})
    assert [a["id"] for a in page["alarms"]] == [alarm.id]
    assert page["alarms"][0]["permissions"] == {"acknowledge": True, "clear": True}
    assert proxy.list_alarms(STRANGER, {})["alarms"] == []
    viewer_view = proxy.list_alarms(SITE_VIEWER, {})["alarms"][0]
    assert viewer_view["permissions"] == {"acknowledge": False, "clear": False}
    assert proxy.alarm_summary(OWNER) == {
        "active": 1,
        "unacknowledged": 1,
        "by_severity": {"critical": 0, "major": 1, "minor": 0, "warning": 0},
    }
    with pytest.raises(AlarmNotFound):
        proxy.acknowledge_alarm(STRANGER, alarm.id, {})
    # Seen but not theirs to act on: as a missing one.
    with pytest.raises(AlarmNotFound):
        proxy.acknowledge_alarm(SITE_VIEWER, alarm.id, {})
    with pytest.raises(ValidationFailed):
        proxy.acknowledge_alarm(OWNER, alarm.id, {"comment": "x" * 501})

    acked = proxy.acknowledge_alarm(OWNER, alarm.id, {"comment": "on it"})
    assert acked["acknowledged"] and acked["comment"] == "on it"
    assert acked["acknowledged_by"] == {"id": OWNER["user_id"], "name": "User aa"}
    again = proxy.acknowledge_alarm(OPERATOR, alarm.id, {"comment": "me too"})
    assert again["acknowledged_by"]["id"] == OWNER["user_id"]

    cleared = proxy.clear_alarm(OPERATOR, alarm.id, {"comment": "expected"})
    assert (
        cleared["status"] == "cleared"
        and cleared["cleared_by"]["id"] == OPERATOR["user_id"]
    )
    # While the hour stays over its limit, no new alarm replaces the cleared one;
    time.sleep(1.5)
    assert len(rows(engines, device_id=heat_pump["id"])) == 1
    # once the condition ended, the rule watches again.
    FakeMonitoring.kwh[heat_pump["id"]] = 0.1
    time.sleep(1)
    FakeMonitoring.kwh[heat_pump["id"]] = 4.0
    wait_for(lambda: rows(engines, device_id=heat_pump["id"], active=True))

    received = pushes.messages(wait=1)
    kinds = {(key.split(".")[1], message["type"]) for key, message in received}
    assert (OWNER["user_id"], "alarm.created") in kinds
    assert (SITE_VIEWER["user_id"], "alarm.created") in kinds
    assert (OWNER["user_id"], "alarm.updated") in kinds
    sent = [body for _, body in mail.messages(wait=1)]
    assert {body["to"] for body in sent} == {"aa@example.com", "cc@example.com"}
    assert all(
        "Heat pump used 5 kWh" in body["text"] or "4 kWh" in body["text"]
        for body in sent
    )


def test_quiet_hours_hold_e_mail_and_severities_filter_it(alarms, engines, listen):
    proxy, settings = alarms
    mail = listen(SYNC, "mail.send")
    assert proxy.get_preferences(OWNER) == {
        "app_severities": ["critical", "major", "minor", "warning"],
        "email_severities": ["critical", "major"],
        "quiet_hours": None,
        "digest": {"enabled": False, "hour": 8},
    }
    # The owner wants only critical alarms by e-mail; the site viewer is in
    # quiet hours now (on their London clock).
    proxy.put_preferences(
        OWNER,
        {
            "app_severities": ["critical", "major"],
            "email_severities": ["critical"],
            "digest": {"enabled": False},
        },
    )
    london = datetime.now(ZoneInfo("Europe/London"))
    quiet = {
        "start": (london - timedelta(minutes=1)).strftime("%H:%M"),
        "end": (london + timedelta(minutes=30)).strftime("%H:%M"),
    }
    viewer = {
        "app_severities": ["critical", "major", "minor", "warning"],
        "email_severities": ["major"],
        "quiet_hours": quiet,
        "digest": {"enabled": False, "hour": 8},
    }
    assert proxy.put_preferences(SITE_VIEWER, viewer)["quiet_hours"] == quiet
    for body, field in (
        (viewer | {"app_severities": ["loud"]}, "app_severities"),
        (viewer | {"digest": {"enabled": True, "hour": 25}}, "digest"),
        (viewer | {"quiet_hours": {"start": "22:00", "end": "22:00"}}, "quiet_hours"),
        (viewer | {"quiet_hours": {"start": "7am", "end": "22:00"}}, "quiet_hours"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            proxy.put_preferences(OWNER, body)
        assert field in refused.value.details

    heat_pump = device()
    send_device(settings, heat_pump)
    FakeMonitoring.kwh[heat_pump["id"]] = 7.0
    wait_for(lambda: rows(engines, device_id=heat_pump["id"]))
    time.sleep(1)
    # Major: not for the owner's e-mail; held for the viewer.
    assert mail.messages(wait=0.5) == []
    with Session(engines["alarmdb"]) as session:
        held = session.scalars(select(HeldEmail.user_id)).all()
    assert held == [SITE_VIEWER["user_id"]]

    # Quiet hours over: the held e-mail goes out in the next look.
    proxy.put_preferences(SITE_VIEWER, viewer | {"quiet_hours": None})
    [(_, sent)] = mail.messages(wait=3, until=1)
    assert sent["to"] == "cc@example.com"
    assert "during your quiet hours" in sent["subject"]
    assert "Heat pump used 7 kWh" in sent["text"]


def test_rules_are_checked_and_kept_to_their_people(alarms, engines):
    proxy, settings = alarms
    meter = device("Meter", "meter")
    send_device(settings, meter)
    wait_for(lambda: rows_of_rules(engines, meter["id"]))
    [own] = proxy.list_rules(OWNER, {"device_id": meter["id"]})
    assert own["device_limit"] and own["threshold"] == 2.0
    assert own["permissions"] == {"update": True, "delete": False}
    with pytest.raises(ValidationFailed) as refused:
        proxy.update_rule(OWNER, own["id"], {"threshold": 5})
    assert "threshold" in refused.value.details
    with pytest.raises(DeviceLimitRule):
        proxy.delete_rule(OWNER, own["id"])
    assert (
        proxy.update_rule(OWNER, own["id"], {"severity": "critical"})["severity"]
        == "critical"
    )

    offline = proxy.create_rule(
        OWNER,
        {
            "name": "Meter silent",
            "type": "offline",
            "device_id": meter["id"],
            "duration_min": 15,
        },
    )
    assert offline["severity"] == "major" and offline["permissions"]["delete"]
    site_rule = proxy.create_rule(
        OWNER,
        {"name": "Site total", "type": "energy_over", "site_id": SITE, "threshold": 10},
    )
    assert {
        rule["id"] for rule in proxy.list_rules(SITE_VIEWER, {"site_id": SITE})
    } >= {
        offline["id"],
        site_rule["id"],
    }
    for body, field in (
        ({"name": "x", "type": "offline", "device_id": meter["id"]}, "duration_min"),
        (
            {
                "name": "x",
                "type": "offline",
                "device_id": meter["id"],
                "duration_min": 5,
                "threshold": 1,
            },
            "threshold",
        ),
        (
            {
                "name": "x",
                "type": "soc_below",
                "device_id": meter["id"],
                "threshold": 120,
            },
            "threshold",
        ),
        ({"name": "x", "type": "energy_over", "threshold": 1}, "device_id"),
        ({"name": "x", "type": "hot", "device_id": meter["id"]}, "type"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            proxy.create_rule(OWNER, body)
        assert field in refused.value.details
    with pytest.raises(RuleScopeNotFound):
        proxy.create_rule(
            STRANGER,
            {
                "name": "x",
                "type": "offline",
                "device_id": meter["id"],
                "duration_min": 5,
            },
        )
    with pytest.raises(RuleScopeNotFound):
        proxy.create_rule(
            SITE_VIEWER,
            {"name": "x", "type": "offline", "site_id": SITE, "duration_min": 5},
        )
    with pytest.raises(Forbidden):
        proxy.create_rule(
            OWNER, {"name": "x", "type": "offline", "kind": "meter", "duration_min": 5}
        )
    everywhere = proxy.create_rule(
        OPERATOR,
        {
            "name": "Batteries low",
            "type": "soc_below",
            "kind": "battery",
            "threshold": 15,
        },
    )
    assert everywhere["permissions"] == {"update": True, "delete": True}
    proxy.delete_rule(OWNER, offline["id"])
    assert offline["id"] not in {
        r["id"] for r in proxy.list_rules(OWNER, {"device_id": meter["id"]})
    }


def rows_of_rules(engines, device_id):
    with Session(engines["alarmdb"]) as session:
        return session.scalars(select(AlarmRule).filter_by(device_id=device_id)).all()


def test_each_type_of_rule_raises_and_clears_its_alarm(alarms, engines):
    proxy, settings = alarms
    meter, battery = (
        device("Meter", "meter", limit=100),
        device("Battery", "battery", limit=100),
    )
    send_device(settings, meter)
    send_device(settings, battery)
    wait_for(lambda: rows_of_rules(engines, battery["id"]))
    now = datetime.now(UTC).isoformat()
    FakeMonitoring.states[meter["id"]] = {
        "online": False,
        "since": "2026-12-01T00:00:00+00:00",
        "last_seen": "2026-12-01T00:00:00+00:00",
        "reading_interval_s": 60,
        "power_w": None,
        "power_at": None,
    }
    FakeBatteries.soc[battery["id"]] = 1.0
    proxy.create_rule(
        OWNER,
        {
            "name": "off",
            "type": "offline",
            "device_id": meter["id"],
            "duration_min": 10,
            "severity": "critical",
        },
    )
    proxy.create_rule(
        OWNER,
        {
            "name": "quiet",
            "type": "no_reading",
            "device_id": meter["id"],
            "duration_min": 10,
        },
    )
    proxy.create_rule(
        OWNER,
        {
            "name": "low",
            "type": "soc_below",
            "device_id": battery["id"],
            "threshold": 20,
            "severity": "warning",
        },
    )
    found = wait_for(
        lambda: len(rows(engines, active=True)) == 3 and rows(engines, active=True)
    )
    assert {(a.originator_name, a.type, a.severity) for a in found} == {
        ("Meter", "offline", "critical"),
        ("Meter", "no_reading", "major"),
        ("Battery", "soc_below", "warning"),
    }
    FakeMonitoring.states[meter["id"]] |= {
        "online": True,
        "since": now,
        "last_seen": now,
    }
    FakeBatteries.soc[battery["id"]] = 5.0
    wait_for(lambda: not rows(engines, active=True))
    summary = proxy.alarm_summary(OWNER)
    assert summary["active"] == 0
    assert len(proxy.list_alarms(OWNER, {"status": "cleared"})["alarms"]) == 3
    assert [
        a["type"]
        for a in proxy.list_alarms(OWNER, {"severity": "critical,warning", "limit": 1})[
            "alarms"
        ]
    ] in (["offline"], ["soc_below"])


def test_the_daily_digest_goes_once_a_day_at_its_hour(alarms, engines, listen):
    proxy, settings = alarms
    mail = listen(SYNC, "mail.send")
    heat_pump = device()
    send_device(settings, heat_pump)
    FakeMonitoring.kwh[heat_pump["id"]] = 3.0
    wait_for(lambda: rows(engines, device_id=heat_pump["id"]))
    # The alarm's own e-mail, to the owner and the site's viewer.
    assert len(mail.messages(wait=3, until=2)) == 2
    # Only the digest by e-mail; switched on after its hour, it starts tomorrow.
    proxy.put_preferences(
        OWNER,
        {
            "app_severities": [],
            "email_severities": [],
            "digest": {"enabled": True, "hour": 0},
        },
    )
    time.sleep(1)
    assert mail.messages(wait=0.5) == []
    # Tomorrow has come: the digest is due once.
    with Session(engines["alarmdb"]) as session:
        session.execute(
            update(Preferences).values(digest_sent_on=date.today() - timedelta(days=1))
        )
        session.commit()
    [(_, digest)] = mail.messages(wait=3, until=1)
    assert digest["to"] == "aa@example.com"
    assert digest["subject"].startswith("[EMS] Your alarms, ")
    assert digest["subject"].endswith(": 1 active")
    assert "Heat pump used 3 kWh" in digest["text"]
    time.sleep(1)
    assert mail.messages(wait=0.5) == []
