"""Demand response through Traefik, against every real process: the routes and who
may use them, the ``dr.event`` pushes over /ws, and an event's baseline, reduction
and incentive computed from readings sent through the real pipeline.

The API refuses events that start in the past, so the finished event whose results
are checked is written straight into the stack's drdb, as it would stand had an
OPERATOR announced it days ago. That is cleaner than a test hook in the API: no
route exists, in production or in the OpenAPI document, that could backdate an
event and so make incentives for consumption already known. The event dispatched
to simulated devices is written so too, seconds long, starting seconds ahead.
"""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from harness.clients import ws_connect as connect
from harness.clients import ws_receive as receive
from harness.polling import eventually
from harness.readings import publish_readings as publish_amqp
from harness.simulation import simulate, stop
from services.dr.models import Event, Invitation

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def operator(admin, anonymous):
    email = f"op-{uuid.uuid4().hex[:8]}@example.com"
    created = admin.post(
        "/api/users",
        {"email": email, "password": "password-1", "name": "Op", "role": "OPERATOR"},
    )
    assert created.status_code == 201, created.text
    return anonymous.login(email, "password-1")


def future_event(**changes):
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start += timedelta(days=1)
    event = {
        "name": "Evening peak",
        "start": start.isoformat().replace("+00:00", "Z"),
        "end": (start + timedelta(hours=2)).isoformat().replace("+00:00", "Z"),
        "target_reduction_kw": 50,
        "incentive_per_kwh": 0.3,
    }
    event.update(changes)
    return event


def test_operators_run_events_and_users_answer_them(
    stack, admin, operator, new_user, anonymous
):
    ada_user, ada = new_user("Ada")
    bob_user, bob = new_user("Bob")
    ada_socket, operator_socket = (
        connect(stack, ada.token),
        connect(stack, operator.token),
    )
    try:
        # Only OPERATOR and ADMIN announce events; bad input names each field.
        assert ada.post("/api/dr/events", future_event()).status_code == 403
        assert anonymous.post("/api/dr/events", future_event()).status_code == 401
        past = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        refused = operator.post(
            "/api/dr/events",
            future_event(
                start=past.isoformat(),
                end=(past - timedelta(hours=1)).isoformat(),
                target_reduction_kw=-5,
                colour="red",
            ),
        )
        assert refused.status_code == 400
        body = refused.json()
        assert body["error"] == "VALIDATION_ERROR"
        assert body["details"] == {
            "start": ["must be in the future"],
            "end": ["must be after start"],
            "target_reduction_kw": [
                "Must be greater than 0 and less than or equal to 1000000."
            ],
            "colour": ["Unknown field."],
        }
        not_json = operator.request(
            "POST", "/api/dr/events", data="{not json", headers={"Content-Type": "x"}
        )
        assert not_json.status_code == 400

        created = operator.post("/api/dr/events", future_event())
        assert created.status_code == 201, created.text
        event = created.json()
        assert event["status"] == "scheduled"
        path = f"/api/dr/events/{event['id']}"

        # Invitations: OPERATOR only, existing users only.
        unknown = str(uuid.uuid4())
        missing = operator.post(
            f"{path}/invitations", {"user_ids": [ada_user["id"], unknown]}
        )
        assert missing.status_code == 404
        assert missing.json()["details"] == {"user_ids": [unknown]}
        bad = operator.post(f"{path}/invitations", {"user_ids": ["nope"]})
        assert bad.status_code == 400 and "user_ids" in bad.json()["details"]
        assert (
            ada.post(f"{path}/invitations", {"user_ids": [ada_user["id"]]}).status_code
            == 403
        )
        invited = operator.post(f"{path}/invitations", {"user_ids": [ada_user["id"]]})
        assert invited.status_code == 200, invited.text
        assert invited.json()["invitation_counts"]["invited"] == 1

        pushed = receive(ada_socket, "dr.event")
        assert pushed["data"]["change"] == "invited"
        assert pushed["data"]["event"]["id"] == event["id"]
        assert pushed["data"]["invitation"] == {
            "user_id": ada_user["id"],
            "status": "invited",
            "updated_at": pushed["data"]["invitation"]["updated_at"],
        }

        # Ada sees the event she is invited to; Bob sees nothing of it.
        [listed] = ada.get("/api/dr/events").json()
        assert listed["id"] == event["id"] and listed["invitation"]["status"] == (
            "invited"
        )
        assert bob.get("/api/dr/events").json() == []
        for response in (
            bob.get(path),
            bob.post(f"{path}/opt-in"),
            bob.get(f"{path}/results"),
        ):
            assert response.status_code == 404, response.text
            assert response.json()["error"] == "NOT_FOUND"

        opted_in = ada.post(f"{path}/opt-in")
        assert opted_in.status_code == 200, opted_in.text
        assert opted_in.json()["invitation"]["status"] == "opted_in"
        told = receive(operator_socket, "dr.event")
        assert told["data"]["change"] == "opted_in"
        assert told["data"]["invitation"]["user_id"] == ada_user["id"]
        assert receive(ada_socket, "dr.event")["data"]["change"] == "opted_in"
        assert ada.post(f"{path}/opt-out").json()["invitation"]["status"] == (
            "opted_out"
        )
        assert ada.post(f"{path}/opt-in").status_code == 200

        seen = operator.get(path).json()
        assert seen["invitations"][0]["status"] == "opted_in"
        # Staff see whom they invited by name and address (dr asks users).
        [invited] = seen["invitations"]
        assert (invited["user_id"], invited["name"], invited["email"]) == (
            ada_user["id"],
            ada_user["name"],
            ada_user["email"],
        )
        assert "name" not in ada.get(path).json()["invitation"]
        assert event["id"] in [e["id"] for e in operator.get("/api/dr/events").json()]
        assert admin.get(path).status_code == 200

        # Results wait for the end; flexibility is for OPERATOR and ADMIN.
        early = operator.get(f"{path}/results")
        assert early.status_code == 409 and early.json()["error"] == "CONFLICT"
        assert ada.get(f"{path}/flexibility").status_code == 403
        offer = operator.get(f"{path}/flexibility")
        assert offer.status_code == 200, offer.text
        assert offer.json()["participant_count"] == 1

        # Cancelling: OPERATOR only; Ada is told, and can no longer answer.
        assert ada.delete(path).status_code == 403
        cancelled = operator.delete(path)
        assert cancelled.status_code == 200 and cancelled.json()["status"] == (
            "cancelled"
        )
        changes = []
        while (pushed := receive(ada_socket, "dr.event")) is not None:
            changes.append(pushed["data"]["change"])
            if changes[-1] == "cancelled":
                break
        assert changes == ["opted_out", "opted_in", "cancelled"]
        assert pushed["data"]["event"]["status"] == "cancelled"
        assert ada.post(f"{path}/opt-out").status_code == 409
        assert operator.get("/api/dr/events/not-an-id").status_code == 404
    finally:
        ada_socket.close()
        operator_socket.close()


def test_staff_find_the_people_they_invite(admin, operator, new_user, anonymous):
    tag = uuid.uuid4().hex[:8]
    ada_user, ada = new_user(f"Ada{tag}")
    bob_user, _ = new_user(f"Bob{tag}")
    for staff in (operator, admin):
        found = staff.get("/api/users/directory", params={"q": tag.upper()})
        assert found.status_code == 200, found.text
        assert [user["id"] for user in found.json()] == [ada_user["id"], bob_user["id"]]
        assert found.json()[0] == ada_user
        by_email = staff.get(
            "/api/users/directory", params={"q": ada_user["email"], "limit": 5}
        )
        assert [user["id"] for user in by_email.json()] == [ada_user["id"]]
    assert len(operator.get("/api/users/directory", params={"limit": 1}).json()) == 1
    bad = operator.get("/api/users/directory", params={"limit": "many"})
    assert bad.status_code == 400 and "limit" in bad.json()["details"]
    assert ada.get("/api/users/directory").status_code == 403
    assert anonymous.get("/api/users/directory").status_code == 401
    # The directory is not a user: ADMIN's route to one user is still there.
    assert admin.get(f"/api/users/{ada_user['id']}").json() == ada_user


# -- the baseline from readings through the pipeline -------------------------------


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def weekdays_before(day: date, count: int) -> list[date]:
    found, candidate = [], day
    while len(found) < count:
        candidate -= timedelta(days=1)
        if candidate.weekday() < 5:
            found.append(candidate)
    return found


def store_event(stack, start, end, invitations) -> str:
    """A DR event written into the stack's drdb, as announced days ago."""
    engine = create_engine(stack.resources.databases["drdb"])
    event_id = str(uuid.uuid4())
    try:
        with Session(engine) as session:
            session.add(
                Event(
                    id=event_id,
                    name="Yesterday's peak",
                    start=start,
                    end=end,
                    target_reduction_kw=Decimal(5),
                    incentive_per_kwh=Decimal("0.3"),
                    created_by=str(uuid.uuid4()),
                )
            )
            session.flush()
            for user_id, status in invitations.items():
                session.add(
                    Invitation(event_id=event_id, user_id=user_id, status=status)
                )
            session.commit()
    finally:
        engine.dispose()
    return event_id


def test_the_baseline_and_reduction_come_from_readings_through_the_pipeline(
    stack, admin, operator, new_user
):
    """A weekday event, 17:00–19:00 UTC, over days ago. On the 11 weekdays before
    it Ada used 1.0 + 0.1·i kWh at 17:00 and 0.5 + 0.05·i at 18:00 (i = 0 the most
    recent), except on one, when she took part in an earlier event (5 kWh: must
    not count); 5 kWh on the Sunday too (not a weekday). On the day: 0.25 and
    0.9 kWh."""
    ada_user, ada = new_user("Ada")
    bob_user, bob = new_user("Bob")
    device = ada.post(
        "/api/devices", {"name": "Meter", "kind": "meter", "max_hourly_kwh": 50}
    ).json()

    event_day = datetime.now(UTC).date() - timedelta(days=2)
    while event_day.weekday() >= 5:
        event_day -= timedelta(days=1)
    before = weekdays_before(event_day, 11)
    excluded = before[3]
    eligible = [day for day in before if day != excluded]
    sunday = event_day - timedelta(days=event_day.weekday() + 1)

    sent: dict[datetime, Decimal] = {}
    for i, day in enumerate(eligible):
        sent[at(day, 17)] = Decimal("1.0") + Decimal("0.1") * i
        sent[at(day, 18)] = Decimal("0.5") + Decimal("0.05") * i
    for day in (excluded, sunday):
        sent[at(day, 17)] = sent[at(day, 18)] = Decimal(5)
    sent[at(event_day, 17)] = Decimal("0.25")
    sent[at(event_day, 18)] = Decimal("0.9")
    readings = []
    for hour, kwh in sent.items():
        for minute, part in ((10, Decimal("0.4")), (50, Decimal("0.6"))):
            readings.append(
                {
                    "reading_id": str(uuid.uuid4()),
                    "device_id": device["id"],
                    "timestamp": at(hour.date(), hour.hour, minute).isoformat(),
                    "kwh": float(kwh * part),
                }
            )
    publish_amqp(stack, *readings)

    def day_total(day):
        response = ada.get(
            "/api/consumption/day",
            params={"device_id": device["id"], "date": day.isoformat()},
        )
        assert response.status_code == 200, response.text
        return Decimal(str(response.json()["total_kwh"]))

    for day in {hour.date() for hour in sent}:
        expected = sum(kwh for hour, kwh in sent.items() if hour.date() == day)
        eventually(lambda day=day, expected=expected: day_total(day) == expected)

    store_event(stack, at(excluded, 12), at(excluded, 14), {ada_user["id"]: "opted_in"})
    event_id = store_event(
        stack,
        at(event_day, 17),
        at(event_day, 19),
        {ada_user["id"]: "opted_in", bob_user["id"]: "opted_out"},
    )

    # What the test expects, from what it sent.
    baseline = {h: sum(sent[at(d, h)] for d in eligible) / 10 for h in (17, 18)}
    actual = {h: sent[at(event_day, h)] for h in (17, 18)}
    reduction = {h: max(Decimal(0), baseline[h] - actual[h]) for h in (17, 18)}
    total = sum(reduction.values())
    incentive = total * Decimal("0.3")
    assert (baseline[17], baseline[18], total, incentive) == (
        Decimal("1.45"),
        Decimal("0.725"),
        Decimal("1.2"),
        Decimal("0.36"),
    )

    response = operator.get(f"/api/dr/events/{event_id}/results")
    assert response.status_code == 200, response.text
    results = response.json()
    assert results["event"]["status"] == "finished"
    [mine] = results["participants"]
    assert mine["user_id"] == ada_user["id"] and mine["baseline_days"] == 10
    assert mine["hours"] == [
        {
            "hour": at(event_day, h).isoformat().replace("+00:00", "Z"),
            "baseline_kwh": float(baseline[h]),
            "actual_kwh": float(actual[h]),
            "reduction_kwh": float(reduction[h]),
        }
        for h in (17, 18)
    ]
    assert mine["baseline_kwh"] == float(sum(baseline.values()))
    assert mine["actual_kwh"] == float(sum(actual.values()))
    assert mine["reduction_kwh"] == float(total)
    assert mine["incentive"] == float(incentive)
    assert (results["reduction_kwh"], results["incentive"]) == (
        float(total),
        float(incentive),
    )

    # Staff are told who took part, by name; Ada sees her own result, unnamed.
    assert (mine["name"], mine["email"]) == (ada_user["name"], ada_user["email"])
    unnamed = {
        key: value for key, value in mine.items() if key not in ("name", "email")
    }
    assert ada.get(f"/api/dr/events/{event_id}/results").json()["participants"] == [
        unnamed
    ]
    assert bob.get(f"/api/dr/events/{event_id}/results").json()["participants"] == []
    assert results["settled"] is True  # the event ended days ago

    # A reading for the event that arrives after the settlement is counted, but
    # the settled results stay as they were.
    late = {
        "reading_id": str(uuid.uuid4()),
        "device_id": device["id"],
        "timestamp": at(event_day, 17, 30).isoformat(),
        "kwh": 2.0,
    }
    publish_amqp(stack, late)
    expected = sum(kwh for hour, kwh in sent.items() if hour.date() == event_day)
    eventually(lambda: day_total(event_day) == expected + 2)
    assert operator.get(f"/api/dr/events/{event_id}/results").json() == results

    offer = operator.get(f"/api/dr/events/{event_id}/flexibility").json()
    assert [row["opted_in_load_kw"] for row in offer["hours"]] == [1.45, 0.725]
    # The batteries service has no battery of Ada's to offer (or cannot answer
    # yet, which the response then says).
    assert offer["battery_count"] == 0 and offer["flexibility_kw"] == 0.725
    assert set(offer["notes"]) <= {"batteries unavailable"}

    # Deleting Ada takes her out of every event.
    assert admin.delete(f"/api/users/{ada_user['id']}").status_code == 204
    eventually(
        lambda: (
            operator.get(f"/api/dr/events/{event_id}/results").json()["participants"]
            == []
        )
    )
    remaining = operator.get(f"/api/dr/events/{event_id}").json()["invitations"]
    assert [i["user_id"] for i in remaining] == [bob_user["id"]]


# -- dispatch ------------------------------------------------------------------------


def test_an_event_dispatches_the_participants_devices_and_releases_them(
    stack, operator, new_user, tmp_path
):
    """An opted-in household's load is switched off and its charger paused when
    the event starts, through the devices service to simulated devices that
    answer; when it ends both are released; the results show every command and
    its answer. A household that opted out is sent nothing."""
    ada, household = new_user("Ada")
    bob, _ = new_user("Bob")
    ids = {}
    for name, kind, limit in (
        ("heater", "appliance", 2.0),
        ("wallbox", "ev_charger", 11.0),
        ("meter", "meter", 5.0),
    ):
        created = household.post(
            "/api/devices", {"name": name, "kind": kind, "max_hourly_kwh": limit}
        )
        assert created.status_code == 201, created.text
        ids[name] = created.json()["id"]
    simulator = simulate(stack, ada["email"], log=tmp_path / "simulator.log")
    try:
        now = datetime.now(UTC)
        event_id = store_event(
            stack,
            now + timedelta(seconds=5),
            now + timedelta(seconds=25),
            {ada["id"]: "opted_in", bob["id"]: "opted_out"},
        )
        issuer = f"dr:{event_id}"

        def answered(device_id, type_name, params):
            listed = household.get(f"/api/devices/{device_id}/commands").json()
            return next(
                (
                    command
                    for command in listed
                    if command["created_by"] == issuer
                    and (command["type"], command["params"]) == (type_name, params)
                    and command["status"] == "acked"
                ),
                None,
            )

        off = eventually(lambda: answered(ids["heater"], "switch", {"on": False}))
        paused = eventually(lambda: answered(ids["wallbox"], "ev_current", {"amps": 0}))
        on = eventually(
            lambda: answered(ids["heater"], "switch", {"on": True}), timeout=60
        )
        resumed = eventually(
            lambda: answered(ids["wallbox"], "ev_current", {"amps": 6}), timeout=60
        )
        # Shed within the window, given back after it.
        end = now + timedelta(seconds=25)
        for shed in (off, paused):
            assert datetime.fromisoformat(shed["created_at"]) < end
        for given in (on, resumed):
            assert datetime.fromisoformat(given["created_at"]) >= end
        # The meter has nothing to shed.
        meter = household.get(f"/api/devices/{ids['meter']}/commands").json()
        assert [c for c in meter if c["created_by"] == issuer] == []
    finally:
        stop(simulator)

    results = operator.get(f"/api/dr/events/{event_id}/results")
    assert results.status_code == 200, results.text
    [participant] = results.json()["participants"]
    assert participant["user_id"] == ada["id"]
    sent = {
        (d["device_id"], d["phase"]): (d["type"], d["params"], d["command_id"])
        for d in participant["dispatches"]
    }
    assert sent == {
        (ids["heater"], "start"): ("switch", {"on": False}, off["id"]),
        (ids["wallbox"], "start"): ("ev_current", {"amps": 0}, paused["id"]),
        (ids["heater"], "end"): ("switch", {"on": True}, on["id"]),
        (ids["wallbox"], "end"): ("ev_current", {"amps": 6}, resumed["id"]),
    }
    assert {d["status"] for d in participant["dispatches"]} == {"acked"}
    # Ada sees her own.
    own = household.get(f"/api/dr/events/{event_id}/results").json()
    assert own["participants"][0]["dispatches"] == participant["dispatches"]


def test_cancelling_a_running_event_gives_devices_back_at_once(
    stack, operator, new_user, tmp_path
):
    """An event cancelled an hour before its end gives the household's devices
    back now, each as it was set before the event: the charger its 10 A."""
    ada, household = new_user("Ada")
    ids = {}
    for name, kind in (("heater", "appliance"), ("wallbox", "ev_charger")):
        created = household.post(
            "/api/devices", {"name": name, "kind": kind, "max_hourly_kwh": 11}
        )
        assert created.status_code == 201, created.text
        ids[name] = created.json()["id"]

    def acked(device_id, params, issuer):
        return next(
            (
                command
                for command in household.get(
                    f"/api/devices/{device_id}/commands"
                ).json()
                if command["created_by"].startswith(issuer)
                and command["params"] == params
                and command["status"] == "acked"
            ),
            None,
        )

    simulator = simulate(stack, ada["email"], log=tmp_path / "simulator.log")
    try:
        set_by_owner = household.post(
            f"/api/devices/{ids['wallbox']}/commands",
            {"type": "ev_current", "params": {"amps": 10}},
        )
        assert set_by_owner.status_code == 202, set_by_owner.text
        eventually(lambda: acked(ids["wallbox"], {"amps": 10.0}, ada["id"]))
        now = datetime.now(UTC)
        event_id = store_event(
            stack,
            now + timedelta(seconds=3),
            now + timedelta(hours=1),
            {ada["id"]: "opted_in"},
        )
        issuer = f"dr:{event_id}"
        eventually(lambda: acked(ids["heater"], {"on": False}, issuer))
        eventually(lambda: acked(ids["wallbox"], {"amps": 0.0}, issuer))
        assert acked(ids["heater"], {"on": True}, issuer) is None
        cancelled = operator.delete(f"/api/dr/events/{event_id}")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        eventually(lambda: acked(ids["heater"], {"on": True}, issuer))
        eventually(lambda: acked(ids["wallbox"], {"amps": 10.0}, issuer))
    finally:
        stop(simulator)
