"""dr in its container, with devices, monitoring and an ingest worker, on the real
broker and the test run's databases: events, invitations and answers pushed over
``ems.ws``, and baselines and results computed from readings the worker counted.

The API refuses events that start in the past, so the events whose results are
checked are written straight into drdb, as if announced days ago.
"""

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from kombu import Connection
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_hook
from sqlalchemy import text
from sqlalchemy.orm import Session

from services.common.errors import ValidationFailed
from services.common.topology import SYNC, WS, ingest_queue
from services.devices.service import DevicesService
from services.dr.exceptions import EventConflict, EventNotFound
from services.dr.models import Event, Invitation
from services.dr.service import DrService
from services.dr.storage import DrStore
from services.monitoring.service import MonitoringService
from services.monitoring.worker import MonitoringWorker
from services.users.exceptions import UserNotFound

pytestmark = pytest.mark.usefixtures("clean_databases")

USER = {"user_id": "6f1c9d2e-0000-4000-8000-0000000000d1", "role": "USER"}
OTHER = {"user_id": "6f1c9d2e-0000-4000-8000-0000000000d2", "role": "USER"}
STRANGER = {"user_id": "6f1c9d2e-0000-4000-8000-0000000000d3", "role": "USER"}
OPERATOR = {"user_id": "6f1c9d2e-0000-4000-8000-0000000000f1", "role": "OPERATOR"}
QUEUE = ingest_queue(1)


def person(user_id):
    """Who users says ``user_id`` is."""
    tail = user_id[-2:]
    return {"id": user_id, "name": f"Person {tail}", "email": f"p{tail}@example.com"}


def unnamed(row):
    """``row`` as its own user sees it: staff are also told who it is."""
    return {key: value for key, value in row.items() if key not in ("name", "email")}


class FakeUsers:
    """users' ``describe_users``, knowing USER, OTHER, STRANGER and OPERATOR."""

    name = "users"

    @rpc
    def describe_users(self, user_ids):
        known = {c["user_id"] for c in (USER, OTHER, STRANGER, OPERATOR)}
        return [person(user_id) for user_id in user_ids if user_id in known]


class FakeBatteries:
    """A batteries service answering as dr expects ``list_batteries_of``: every
    user has one battery of 3 kW holding 4 kWh above its reserve."""

    name = "batteries"

    @rpc
    def list_batteries_of(self, user_ids):
        return [
            {"user_id": user_id, "max_discharge_kw": 3, "available_kwh": 4}
            for user_id in user_ids
        ]


class BatteriesWithoutTheCall:
    """A batteries service that does not offer ``list_batteries_of`` (yet)."""

    name = "batteries"

    @rpc
    def list_batteries(self):
        return []


class BatteriesOfAnotherShape:
    name = "batteries"

    @rpc
    def list_batteries_of(self, user_ids):
        return {user_id: {"capacity": 10} for user_id in user_ids}


class FailingBatteries:
    name = "batteries"

    @rpc
    def list_batteries_of(self, user_ids):
        raise RuntimeError("batterydb is down")


@pytest.fixture
def containers():
    """The platform's containers by service, for entrypoint hooks."""
    return {}


@pytest.fixture
def platform(container_factory, service_config, containers):
    container_factory(
        DevicesService,
        service_config("devices", DEVICES={"default_max_hourly_kwh": 0.5}),
    ).start()
    container_factory(MonitoringService, service_config("monitoring")).start()
    container_factory(FakeUsers, service_config()).start()
    container_factory(
        MonitoringWorker,
        service_config(
            "monitoring_worker",
            INGEST_QUEUE=QUEUE.name,
            BATCH_SIZE=50,
            BATCH_WAIT=0.05,
            MAX_READING_KWH=100,
            RPC_TIMEOUT=5,
        ),
    ).start()
    containers["dr"] = container_factory(
        DrService,
        service_config("dr", RPC_TIMEOUT=5, BATTERIES_RPC_TIMEOUT=1),
    )
    containers["dr"].start()
    return service_config()


@pytest.fixture
def rpc(platform):
    proxies, started = {}, []

    def get(service):
        if service not in proxies:
            wrapper = ServiceRpcProxy(service, platform)
            started.append(wrapper)
            proxies[service] = wrapper.start()
        return proxies[service]

    yield get
    for wrapper in started:
        wrapper.stop()


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def next_hour(hours: int) -> datetime:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return now + timedelta(hours=hours)


def new_event(hours_ahead=24, length=2, **changes) -> dict:
    start = next_hour(hours_ahead)
    data = {
        "name": "Evening peak",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=length)).isoformat(),
        "target_reduction_kw": 5,
        "incentive_per_kwh": 0.3,
    }
    data.update(changes)
    return data


def store_event(engines, start, end, invitations, cancelled=False) -> str:
    """An event written straight into drdb (the API only takes future ones)."""
    event_id = str(uuid.uuid4())
    with Session(engines["drdb"]) as session:
        session.add(
            Event(
                id=event_id,
                name="Past peak",
                start=start,
                end=end,
                target_reduction_kw=Decimal(5),
                incentive_per_kwh=Decimal("0.3"),
                created_by=OPERATOR["user_id"],
                cancelled_at=start - timedelta(days=1) if cancelled else None,
            )
        )
        session.flush()
        for user_id, status in invitations.items():
            session.add(Invitation(event_id=event_id, user_id=user_id, status=status))
        session.commit()
    return event_id


def pushes(listener, count, wait=5.0):
    return listener.messages(wait=wait, until=count)


# -- events, invitations, answers ----------------------------------------------------


def test_an_event_is_announced_answered_and_each_change_pushed(rpc, listen):
    dr = rpc("dr")
    ws = listen(WS, "#")
    event = dr.create_event(OPERATOR, new_event(name="  Evening peak "))
    assert event["name"] == "Evening peak" and event["status"] == "scheduled"
    assert event["created_by"] == OPERATOR["user_id"]
    assert event["invitation_counts"] == {"invited": 0, "opted_in": 0, "opted_out": 0}
    assert event["start"].endswith(":00:00Z") and event["cancelled_at"] is None

    invited = dr.invite(
        OPERATOR, event["id"], {"user_ids": [USER["user_id"], OTHER["user_id"]]}
    )
    assert [i["status"] for i in invited["invitations"]] == ["invited", "invited"]
    received = pushes(ws, 2)
    assert sorted(key for key, _ in received) == sorted(
        f"user.{viewer['user_id']}.dr.event" for viewer in (USER, OTHER)
    )
    for key, body in received:
        assert body["type"] == "dr.event" and body["data"]["change"] == "invited"
        assert body["data"]["event"]["id"] == event["id"]
        assert body["data"]["event"]["status"] == "scheduled"
        assert key == f"user.{body['data']['invitation']['user_id']}.dr.event"

    # Inviting again changes nothing and tells nobody.
    dr.invite(OPERATOR, event["id"], {"user_ids": [USER["user_id"]]})
    assert pushes(ws, 1, wait=0.5) == []

    [mine] = dr.list_events(USER)
    assert mine["invitation"]["status"] == "invited" and "invitations" not in mine
    assert dr.list_events(STRANGER) == []
    with pytest.raises(EventNotFound):
        dr.get_event(STRANGER, event["id"])

    answered = dr.opt_in(USER, event["id"])
    assert answered["invitation"]["status"] == "opted_in"
    received = pushes(ws, 4)
    assert sorted(key for key, _ in received) == sorted(
        [
            f"user.{USER['user_id']}.dr.event",
            "role.VIEWER.dr.event",
            "role.OPERATOR.dr.event",
            "role.ADMIN.dr.event",
        ]
    )
    for _, body in received:
        assert body["data"]["change"] == "opted_in"
        assert body["data"]["invitation"]["user_id"] == USER["user_id"]
    dr.opt_in(USER, event["id"])  # the same answer again: no push
    assert pushes(ws, 1, wait=0.5) == []

    dr.opt_out(OTHER, event["id"])
    assert {body["data"]["change"] for _, body in pushes(ws, 3)} == {"opted_out"}
    with pytest.raises(EventNotFound):
        dr.opt_in(STRANGER, event["id"])

    seen = dr.get_event(OPERATOR, event["id"])
    assert seen["invitation_counts"] == {"invited": 0, "opted_in": 1, "opted_out": 1}
    # Staff are told who each one is; users is asked once for all of them.
    assert {(i["name"], i["email"]) for i in seen["invitations"]} == {
        (person(viewer["user_id"])["name"], person(viewer["user_id"])["email"])
        for viewer in (USER, OTHER)
    }
    assert {i["user_id"]: i["status"] for i in seen["invitations"]} == {
        USER["user_id"]: "opted_in",
        OTHER["user_id"]: "opted_out",
    }
    assert [e["id"] for e in dr.list_events(OPERATOR)] == [event["id"]]
    assert dr.get_event(USER, event["id"])["invitation"]["status"] == "opted_in"


def test_bad_input_is_refused_with_details(rpc):
    dr = rpc("dr")
    with pytest.raises(ValidationFailed) as caught:
        dr.create_event(OPERATOR, new_event(hours_ahead=-2, target_reduction_kw=-1))
    assert set(caught.value.details) == {"start", "target_reduction_kw"}
    with pytest.raises(ValidationFailed) as caught:
        dr.create_event(OPERATOR, new_event(length=0))
    assert caught.value.details == {"end": ["must be after start"]}
    event = dr.create_event(OPERATOR, new_event())
    with pytest.raises(ValidationFailed):
        dr.invite(OPERATOR, event["id"], {"user_ids": ["not-an-id"]})
    for missing in (str(uuid.uuid4()), "not-an-id"):
        with pytest.raises(EventNotFound):
            dr.invite(OPERATOR, missing, {"user_ids": [USER["user_id"]]})
        with pytest.raises(EventNotFound):
            dr.get_event(OPERATOR, missing)


def test_only_existing_users_are_invited(rpc, listen):
    dr = rpc("dr")
    event = dr.create_event(OPERATOR, new_event())
    ws = listen(WS, "#")
    unknown = str(uuid.uuid4())
    with pytest.raises(UserNotFound) as caught:
        dr.invite(OPERATOR, event["id"], {"user_ids": [USER["user_id"], unknown]})
    assert caught.value.details == {"user_ids": [unknown]}
    assert dr.get_event(OPERATOR, event["id"])["invitations"] == []
    assert pushes(ws, 1, wait=0.5) == []


def test_invitations_and_answers_close_when_the_event_starts(rpc, engines):
    dr = rpc("dr")
    start = next_hour(-1)
    started = store_event(
        engines, start, start + timedelta(hours=3), {USER["user_id"]: "invited"}
    )
    assert dr.get_event(USER, started)["status"] == "active"
    for answer in (dr.opt_in, dr.opt_out):
        with pytest.raises(EventConflict) as caught:
            answer(USER, started)
        assert caught.value.details == {"status": "active"}
    with pytest.raises(EventConflict):
        dr.invite(OPERATOR, started, {"user_ids": [OTHER["user_id"]]})
    with pytest.raises(EventConflict) as caught:
        dr.results(OPERATOR, started)
    assert "once the event is over" in str(caught.value)


def test_cancelling_tells_everyone_invited_once(rpc, listen, engines):
    dr = rpc("dr")
    event = dr.create_event(OPERATOR, new_event())
    dr.invite(OPERATOR, event["id"], {"user_ids": [USER["user_id"], OTHER["user_id"]]})
    ws = listen(WS, "#")
    cancelled = dr.cancel_event(OPERATOR, event["id"])
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_at"]
    received = pushes(ws, 2)
    assert {body["data"]["change"] for _, body in received} == {"cancelled"}
    assert {body["data"]["event"]["status"] for _, body in received} == {"cancelled"}
    assert dr.cancel_event(OPERATOR, event["id"])["status"] == "cancelled"
    assert pushes(ws, 1, wait=0.5) == []
    with pytest.raises(EventConflict):
        dr.opt_in(USER, event["id"])
    with pytest.raises(EventConflict):
        dr.results(OPERATOR, event["id"])

    start = next_hour(-5)
    finished = store_event(engines, start, start + timedelta(hours=2), {})
    with pytest.raises(EventConflict):
        dr.cancel_event(OPERATOR, finished)


# -- baselines and results from counted readings -------------------------------------


def weekdays_before(day: date, count: int) -> list[date]:
    found, candidate = [], day
    while len(found) < count:
        candidate -= timedelta(days=1)
        if candidate.weekday() < 5:
            found.append(candidate)
    return found


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def send(config, *bodies):
    """Publish readings to the ingest queue, as the balancer forwards them."""
    with Connection(config["AMQP_URI"]) as connection:
        producer = connection.Producer()
        for body in bodies:
            producer.publish(
                body,
                routing_key=QUEUE.name,
                declare=[QUEUE],
                serializer="json",
                delivery_mode=2,
            )


def readings(device_id, day, hour, kwh):
    """An hour's energy as two readings, a quarter and three quarters in."""
    half = float(Decimal(str(kwh)) / 2)
    return [
        {
            "reading_id": str(uuid.uuid4()),
            "device_id": device_id,
            "timestamp": at(day, hour, minute).isoformat(),
            "kwh": half,
        }
        for minute in (15, 45)
    ]


@pytest.fixture
def history(platform, rpc, engines):
    """A weekday event that finished days ago, and the load of USER's two devices
    around it, counted by the worker.

    Event hours 17:00 and 18:00. On the 11 weekdays before it, one is excluded (an
    earlier event USER took part in); the other 10 have 1.0 + 0.1·i and
    0.5 + 0.05·i kWh (i = 0 for the most recent). The excluded day and a Sunday
    have 5 kWh, which must not count. On the day, USER uses 0.25 and 0.9 kWh.
    """
    event_day = datetime.now(UTC).date() - timedelta(days=2)
    while event_day.weekday() >= 5:
        event_day -= timedelta(days=1)
    before = weekdays_before(event_day, 11)
    excluded = before[2]
    eligible = [day for day in before if day != excluded]
    sunday = event_day - timedelta(days=(event_day.weekday() + 1))

    meter, heat_pump = (
        rpc("devices").create_device(
            USER, {"name": name, "kind": "meter", "max_hourly_kwh": 50}
        )
        for name in ("Meter", "Heat pump")
    )
    load = {}
    for i, day in enumerate(eligible):
        load[at(day, 17)] = Decimal("1.0") + Decimal("0.1") * i
        load[at(day, 18)] = Decimal("0.5") + Decimal("0.05") * i
    for day in (excluded, sunday):
        load[at(day, 17)] = load[at(day, 18)] = Decimal(5)
    load[at(event_day, 17)] = Decimal("0.25")
    load[at(event_day, 18)] = Decimal("0.9")
    bodies = []
    for hour, kwh in load.items():
        # The meter sees 60 %, the heat pump the rest: the baseline is the user's.
        share = (kwh * Decimal("0.6")).quantize(Decimal("0.000001"))
        bodies += readings(meter["id"], hour.date(), hour.hour, share)
        bodies += readings(heat_pump["id"], hour.date(), hour.hour, kwh - share)
    send(platform, *bodies)

    def counted() -> bool:
        first, last = at(before[-1] - timedelta(days=7), 0), at(event_day, 23)
        series = [
            rpc("monitoring").hourly_series(
                device["id"], first.isoformat(), last.isoformat()
            )
            for device in (meter, heat_pump)
        ]
        return sum(row["kwh"] for rows in series for row in rows) == pytest.approx(
            float(sum(load.values()))
        )

    wait_for(counted, timeout=30)
    store_event(
        engines, at(excluded, 12), at(excluded, 13), {USER["user_id"]: "opted_in"}
    )
    event_id = store_event(
        engines,
        at(event_day, 17),
        at(event_day, 19),
        {
            USER["user_id"]: "opted_in",
            OTHER["user_id"]: "opted_out",
            STRANGER["user_id"]: "invited",
        },
    )
    baseline = {
        17: sum(load[at(day, 17)] for day in eligible) / 10,
        18: sum(load[at(day, 18)] for day in eligible) / 10,
    }
    return {
        "event_id": event_id,
        "event_day": event_day,
        "baseline": baseline,
        "actual": {17: load[at(event_day, 17)], 18: load[at(event_day, 18)]},
    }


def test_results_compare_the_day_with_its_10_in_10_baseline(rpc, history):
    dr = rpc("dr")
    results = dr.results(OPERATOR, history["event_id"])
    assert results["event"]["status"] == "finished"
    [mine] = results["participants"]  # the opted-out and silent ones took no part
    assert mine["user_id"] == USER["user_id"]
    assert mine["baseline_days"] == 10 and mine["baseline_note"] is None

    day, baseline, actual = history["event_day"], history["baseline"], history["actual"]
    assert baseline == {17: Decimal("1.45"), 18: Decimal("0.725")}
    reduction = {
        hour: max(Decimal(0), baseline[hour] - actual[hour]) for hour in (17, 18)
    }
    assert reduction == {17: Decimal("1.2"), 18: Decimal(0)}  # 18:00 used more
    assert mine["hours"] == [
        {
            "hour": at(day, hour).isoformat().replace("+00:00", "Z"),
            "baseline_kwh": float(baseline[hour]),
            "actual_kwh": float(actual[hour]),
            "reduction_kwh": float(reduction[hour]),
        }
        for hour in (17, 18)
    ]
    total = sum(reduction.values())
    assert mine["baseline_kwh"] == float(sum(baseline.values()))
    assert mine["actual_kwh"] == float(sum(actual.values()))
    assert mine["reduction_kwh"] == float(total) == 1.2
    assert mine["incentive"] == float(total * Decimal("0.3")) == 0.36
    assert results["reduction_kwh"] == 1.2 and results["incentive"] == 0.36

    assert mine["name"] == person(USER["user_id"])["name"]  # staff are told who
    # The user sees their own result as staff do, without being named to themselves.
    assert dr.results(USER, history["event_id"])["participants"] == [unnamed(mine)]
    assert dr.results(OTHER, history["event_id"])["participants"] == []
    with pytest.raises(EventNotFound):
        dr.results({"user_id": str(uuid.uuid4()), "role": "USER"}, history["event_id"])


@pytest.mark.parametrize(
    "batteries",
    [None, BatteriesWithoutTheCall, BatteriesOfAnotherShape, FailingBatteries],
    ids=["absent", "without the call", "another shape", "failing"],
)
def test_flexibility_offers_the_baseline_and_says_when_batteries_are_unavailable(
    rpc, history, container_factory, platform, batteries
):
    if batteries is not None:
        container_factory(batteries, platform).start()
    offer = rpc("dr").flexibility(OPERATOR, history["event_id"])
    assert offer["participant_count"] == 1
    assert [row["opted_in_load_kw"] for row in offer["hours"]] == [1.45, 0.725]
    assert offer["opted_in_load_kw"] == 0.725  # the weaker hour holds throughout
    assert offer["battery_count"] == 0 and offer["battery_headroom_kw"] == 0
    assert offer["flexibility_kw"] == 0.725 and offer["covers_target"] is False
    assert offer["notes"] == ["batteries unavailable"]


def test_flexibility_adds_the_batteries_discharge_headroom(
    rpc, history, container_factory, platform
):
    container_factory(FakeBatteries, platform).start()
    offer = rpc("dr").flexibility(OPERATOR, history["event_id"])
    # One battery, 3 kW but 4 kWh over 2 hours: 2 kW throughout.
    assert offer["battery_count"] == 1 and offer["battery_headroom_kw"] == 2
    assert [row["flexibility_kw"] for row in offer["hours"]] == [3.45, 2.725]
    assert offer["flexibility_kw"] == 2.725 and offer["notes"] == []


def test_a_deleted_user_leaves_every_event(rpc, history, platform):
    dr = rpc("dr")
    deleted = {"user": {"id": USER["user_id"], "email": "u@example.com"}}
    with Connection(platform["AMQP_URI"]) as connection:
        producer = connection.Producer()
        for _ in range(2):  # a redelivered event changes nothing
            producer.publish(
                deleted,
                exchange=SYNC,
                routing_key="user.deleted",
                declare=[SYNC],
                serializer="json",
            )
    wait_for(lambda: dr.list_events(USER) == [])
    with pytest.raises(EventNotFound):
        dr.get_event(USER, history["event_id"])
    results = dr.results(OPERATOR, history["event_id"])
    assert results["participants"] == [] and results["reduction_kwh"] == 0
    remaining = dr.get_event(OPERATOR, history["event_id"])["invitations"]
    assert {i["user_id"] for i in remaining} == {
        OTHER["user_id"],
        STRANGER["user_id"],
    }


def test_settled_results_do_not_change_with_later_readings(rpc, history, platform):
    """An event that ended days ago is settled when its results are first asked
    for; readings that arrive later, for the event or its baseline days, are
    counted by monitoring but change nothing that was settled."""
    dr = rpc("dr")
    settled = dr.results(OPERATOR, history["event_id"])
    assert settled["settled"] is True and settled["reduction_kwh"] == 1.2
    late = rpc("devices").create_device(
        USER, {"name": "Late", "kind": "meter", "max_hourly_kwh": 50}
    )
    day = history["event_day"]
    send(
        platform,
        *readings(late["id"], day, 17, Decimal(3)),
        *readings(late["id"], weekdays_before(day, 1)[0], 17, Decimal(9)),
    )
    first, last = at(day - timedelta(days=7), 0), at(day, 23)

    def counted():
        series = rpc("monitoring").hourly_series(
            late["id"], first.isoformat(), last.isoformat()
        )
        return sum(row["kwh"] for row in series) == 12

    wait_for(counted)
    assert dr.results(OPERATOR, history["event_id"]) == settled
    assert dr.results(USER, history["event_id"])["participants"] == [
        unnamed(participant) for participant in settled["participants"]
    ]


def test_results_follow_late_readings_until_they_are_settled(rpc, platform, engines):
    """An event that ended within the settle delay (an hour) is not settled yet:
    its results include readings as they arrive."""
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=1)
    event_id = store_event(engines, start, end, {USER["user_id"]: "opted_in"})
    meter = rpc("devices").create_device(
        USER, {"name": "Meter", "kind": "meter", "max_hourly_kwh": 50}
    )
    dr = rpc("dr")
    early = dr.results(OPERATOR, event_id)
    assert early["settled"] is False
    assert early["participants"][0]["actual_kwh"] == 0
    send(platform, *readings(meter["id"], start.date(), start.hour, Decimal("0.5")))
    wait_for(
        lambda: dr.results(OPERATOR, event_id)["participants"][0]["actual_kwh"] == 0.5
    )
    assert dr.results(OPERATOR, event_id)["settled"] is False


def test_the_timer_settles_what_is_due_whether_asked_or_not(
    rpc, history, containers, engines
):
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    recent = store_event(
        engines, end - timedelta(hours=1), end, {USER["user_id"]: "opted_in"}
    )
    day = history["event_day"]
    cancelled = store_event(
        engines, at(day, 10), at(day, 11), {USER["user_id"]: "opted_in"}, True
    )
    with entrypoint_hook(containers["dr"], "settle_due") as settle_due:
        settle_due()
        settle_due()  # again: nothing changes
    with engines["drdb"].connect() as connection:
        rows = connection.execute(
            text(
                "SELECT e.id, e.settled_at IS NOT NULL, count(r.user_id) "
                "FROM events e LEFT JOIN participant_results r ON r.event_id = e.id "
                "GROUP BY e.id"
            )
        ).all()
    settled = {event_id: (done, results) for event_id, done, results in rows}
    assert settled[history["event_id"]] == (True, 1)  # USER; not the others
    assert settled[recent] == (False, 0)  # ended within the settle delay
    assert settled[cancelled] == (False, 0)
    results = rpc("dr").results(OPERATOR, history["event_id"])
    assert results["settled"] is True and results["reduction_kwh"] == 1.2


def test_each_event_is_dispatched_and_released_by_one_process(engines):
    """Two dr processes claim due events at once: the event one holds is skipped
    by the other (``SKIP LOCKED``), and once it is dispatched neither claims it
    again; it is released once it has ended or been cancelled."""
    now = datetime.now(UTC)
    running = store_event(
        engines, now - timedelta(minutes=1), now + timedelta(hours=1), {}
    )
    store_event(engines, now + timedelta(hours=1), now + timedelta(hours=2), {})
    store_event(engines, now - timedelta(hours=2), now - timedelta(hours=1), {})
    with (
        Session(engines["drdb"]) as first,
        Session(engines["drdb"]) as second,
    ):
        one, other = DrStore(first), DrStore(second)
        claimed = one.claim_to_dispatch(now)
        assert claimed.id == running
        assert other.claim_to_dispatch(now) is None  # held by the first
        one.add_dispatch(
            running,
            "start",
            user_id=USER["user_id"],
            device_id=str(uuid.uuid4()),
            type="switch",
            params='{"on": false}',
            command_id=str(uuid.uuid4()),
            status="pending",
            detail=None,
        )
        one.mark_dispatched(claimed, now)
        one.commit()
        assert other.claim_to_dispatch(now) is None  # dispatched already
        other.commit()
        assert one.claim_to_release(now) is None  # not over yet
        one.commit()

        cancelled = one.claim_to_dispatch(now)
        assert cancelled is None
        event = one.get_event(running, lock=True)
        one.cancel_event(event, now)
        one.commit()
        releasing = one.claim_to_release(now)
        assert releasing.id == running
        assert other.claim_to_release(now) is None
        one.mark_released(releasing, now)
        one.commit()
        assert other.claim_to_release(now) is None
        [sent] = other.dispatches(running)
        assert (sent.phase, sent.status) == ("start", "pending")
