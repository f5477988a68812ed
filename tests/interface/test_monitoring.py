"""monitoring's service and ingest worker, with devices, on the real broker and DB."""

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from kombu import Connection
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import text

from harness.readings import recent_day
from services.common.errors import ValidationFailed
from services.common.topology import WS, ingest_queue
from services.devices.service import DevicesService
from services.monitoring.exceptions import NoSuchDevice
from services.monitoring.service import MonitoringService
from services.monitoring.worker import MonitoringWorker

pytestmark = pytest.mark.usefixtures("clean_databases")

OWNER = {"user_id": "6f1c9d2e-0000-4000-8000-0000000000aa", "role": "USER"}
ADMIN = {"user_id": "6f1c9d2e-0000-4000-8000-0000000000ad", "role": "ADMIN"}
QUEUE = ingest_queue(1)


@pytest.fixture
def platform(container_factory, service_config):
    container_factory(
        DevicesService,
        service_config("devices", DEVICES={"default_max_hourly_kwh": 0.5}),
    ).start()
    container_factory(MonitoringService, service_config("monitoring")).start()
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


@pytest.fixture
def device(rpc):
    return rpc("devices").create_device(
        OWNER, {"name": "Meter", "kind": "meter", "max_hourly_kwh": 1.0}
    )


def send(config, *bodies, raw=None):
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
        if raw is not None:
            producer.publish(
                raw,
                routing_key=QUEUE.name,
                declare=[QUEUE],
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
            )


def reading(device_id, stamp, kwh, reading_id=None):
    return {
        "reading_id": reading_id or uuid.uuid4().hex,
        "device_id": device_id,
        "timestamp": stamp,
        "kwh": kwh,
    }


def day(rpc, device_id, date):
    return rpc("monitoring").consumption_day(
        OWNER, {"device_id": device_id, "date": date}
    )


def stored_total(rpc, device_id, date):
    """The day's total as stored, asked as another service would (no caller)."""
    start = datetime.fromisoformat(f"{date}T00:00:00+00:00")
    series = rpc("monitoring").hourly_series(
        device_id, start.isoformat(), (start + timedelta(days=1)).isoformat()
    )
    return sum(hour["kwh"] for hour in series)


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_readings_add_up_per_utc_hour_late_and_out_of_order(platform, rpc, device):
    bodies = [
        reading(device["id"], f"{recent_day()}T10:15:00Z", 0.25),
        reading(device["id"], f"{recent_day()}T11:00:00Z", 0.125),  # ends 10–11
        reading(
            device["id"], f"{recent_day(1)}T00:00:00Z", 0.5
        ),  # the last hour of the day
        reading(
            device["id"], f"{recent_day()}T00:00:00Z", 0.75
        ),  # the last hour of the day before
        reading(device["id"], f"{recent_day()}T23:59:59+01:00", 0.0625),  # 22:00 UTC
    ]
    send(platform, *reversed(bodies))
    report = wait_for(
        lambda: (r := day(rpc, device["id"], recent_day()))["total_kwh"] == 0.9375 and r
    )
    by_hour = {h["hour"]: h["kwh"] for h in report["hours"] if h["kwh"]}
    assert by_hour == {
        f"{recent_day()}T10:00:00Z": 0.375,
        f"{recent_day()}T22:00:00Z": 0.0625,
        f"{recent_day()}T23:00:00Z": 0.5,
    }
    assert len(report["hours"]) == 24 and report["unit"] == "kWh"
    assert day(rpc, device["id"], recent_day(-1))["total_kwh"] == 0.75


def test_a_reading_sent_twice_counts_once(platform, rpc, device):
    body = reading(device["id"], f"{recent_day()}T10:15:00Z", 0.3)
    send(platform, body, body)
    wait_for(lambda: day(rpc, device["id"], recent_day())["total_kwh"] == 0.3)
    send(platform, body, reading(device["id"], f"{recent_day()}T10:30:00Z", 0.1))
    wait_for(lambda: day(rpc, device["id"], recent_day())["total_kwh"] == 0.4)
    time.sleep(0.5)
    assert day(rpc, device["id"], recent_day())["total_kwh"] == 0.4


def test_telemetry_is_stored_and_exported_energy_counted_apart_once(
    platform, rpc, device, engines
):
    pv = reading(device["id"], f"{recent_day()}T12:15:00Z", 0.0) | {
        "export_kwh": 0.4,
        "power_w": -1600.5,
        "soc_kwh": 6.25,
        "measurements": {"voltage_v": 231.4, "temperature_c": 41},
    }
    drawn = reading(device["id"], f"{recent_day()}T12:30:00Z", 0.1) | {
        "export_kwh": None
    }
    send(platform, pv, drawn, pv)  # the second pv: a redelivery
    report = wait_for(
        lambda: (
            (r := day(rpc, device["id"], recent_day()))["total_export_kwh"] == 0.4
            and r["total_kwh"] == 0.1
            and r
        )
    )
    noon = report["hours"][12]
    assert noon == {"hour": f"{recent_day()}T12:00:00Z", "kwh": 0.1, "export_kwh": 0.4}
    assert all(h["export_kwh"] == 0 for h in report["hours"] if h is not noon)
    series = rpc("monitoring").hourly_series(
        device["id"], f"{recent_day()}T12:00:00Z", f"{recent_day()}T13:00:00Z"
    )
    assert series == [noon]
    with engines["monitoringdb"].connect() as connection:
        rows = connection.execute(
            text(
                "SELECT reading_id, export_kwh, power_w, soc_kwh, measurements "
                "FROM readings ORDER BY timestamp"
            )
        ).all()
    assert [tuple(row[1:]) for row in rows] == [
        (
            Decimal("0.4"),
            -1600.5,
            6.25,
            {"voltage_v": 231.4, "temperature_c": 41.0},
        ),
        (None, None, None, None),
    ]
    time.sleep(0.5)
    assert day(rpc, device["id"], recent_day())["total_export_kwh"] == 0.4


BAD = [
    ({"kwh": 1}, "missing fields"),
    ("NaN", "not finite"),
    (-1, "negative"),
    (1e6, "absurd"),
    ("Infinity", "not finite"),
]


def test_bad_messages_are_dead_lettered_with_their_reason(
    platform, rpc, device, listen
):
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    good = reading(device["id"], f"{recent_day()}T10:15:00Z", 0.2)
    with Connection(platform["AMQP_URI"]) as connection:
        producer = connection.Producer()
        for payload in [
            '{"not json',
            json.dumps({"kwh": 1}),
            json.dumps(
                reading(device["id"], f"{recent_day()}T10:15:00Z", float("nan"))
            ),
            json.dumps(reading(device["id"], f"{recent_day()}T10:15:00Z", -1)),
            json.dumps(reading(device["id"], f"{recent_day()}T10:15:00Z", 1e6)),
            json.dumps(reading(device["id"], "not a time", 0.1)),
            json.dumps(reading(device["id"], future, 0.1)),
            json.dumps(reading(str(uuid.uuid4()), f"{recent_day()}T10:15:00Z", 0.1)),
            json.dumps(good),
        ]:
            producer.publish(
                payload.encode(),
                routing_key=QUEUE.name,
                declare=[QUEUE],
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
            )
    wait_for(lambda: day(rpc, device["id"], recent_day())["total_kwh"] == 0.2)
    reasons = [m for m in dead_messages(rpc, 8)]
    assert len(reasons) == 8
    for expected in [
        "undecodable body",
        "missing fields",
        "not finite",
        "negative",
        "absurd",
        "unparseable timestamp",
        "ahead",
        "unknown device",
    ]:
        assert any(expected in reason for reason in reasons), (expected, reasons)


def dead_messages(rpc, count, timeout=10.0):
    """Reasons of the dead letters monitoring keeps, once there are ``count``."""
    letters = wait_for(
        lambda: (
            len(found := rpc("monitoring").list_dead_letters(ADMIN, {"limit": 500}))
            >= count
            and found
        ),
        timeout,
    )
    assert {letter["service"] for letter in letters} == {"monitoring_worker"}
    return [letter["reason"] for letter in letters]


def test_overconsumption_reaches_the_owner_once_per_device_hour(
    platform, rpc, device, listen
):
    pushed = listen(WS, f"user.{OWNER['user_id']}.overconsumption")
    for minute in (10, 20, 30, 40, 50):  # 0.3 each: over the 1.0 limit at 40
        send(platform, reading(device["id"], f"{recent_day()}T10:{minute}:00Z", 0.3))
        time.sleep(0.15)
    send(
        platform, reading(device["id"], f"{recent_day()}T11:30:00Z", 1.5)
    )  # alone over
    messages = pushed.messages(wait=5, until=2)
    assert sorted(m["data"]["reason"] for _, m in messages) == ["hourly", "reading"]
    hourly = next(m for _, m in messages if m["data"]["reason"] == "hourly")
    assert hourly["type"] == "overconsumption"
    assert hourly["data"] == {
        "device_id": device["id"],
        "hour": f"{recent_day()}T10:00:00Z",
        "kwh": 1.2,
        "limit_kwh": 1.0,
        "reason": "hourly",
    }
    stored = rpc("monitoring").list_notifications(OWNER, {})
    assert [n["reason"] for n in stored] == ["reading", "hourly"]
    assert pushed.messages(wait=1) == []


def test_a_deleted_device_is_purged_and_its_late_readings_refused(
    platform, rpc, device, listen
):
    send(platform, reading(device["id"], f"{recent_day()}T10:15:00Z", 2.0))
    wait_for(lambda: day(rpc, device["id"], recent_day())["total_kwh"] == 2.0)
    rpc("devices").delete_device(OWNER, device["id"])
    wait_for(lambda: stored_total(rpc, device["id"], recent_day()) == 0)
    with pytest.raises(NoSuchDevice):
        day(rpc, device["id"], recent_day())
    assert rpc("monitoring").list_notifications(OWNER, {}) == []
    send(platform, reading(device["id"], f"{recent_day()}T10:30:00Z", 0.1))
    assert "device deleted" in dead_messages(rpc, 1)[0]


def test_cut_database_connections_lose_and_double_nothing(
    platform, rpc, device, engines
):
    bodies = [
        reading(device["id"], f"{recent_day()}T{h:02d}:{m:02d}:00Z", 0.001)
        for h in range(24)
        for m in range(1, 60, 3)
    ][:400]
    stop = threading.Event()

    def cut_connections():
        # Terminate the services' connections to monitoringdb while they work.
        while not stop.is_set():
            with engines["monitoringdb"].connect() as connection:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            time.sleep(0.05)

    cutter = threading.Thread(target=cut_connections)
    cutter.start()
    try:
        for start in range(0, len(bodies), 20):
            send(platform, *bodies[start : start + 20])
            time.sleep(0.02)
    finally:
        time.sleep(0.5)
        stop.set()
        cutter.join()
    wait_for(
        lambda: day(rpc, device["id"], recent_day())["total_kwh"] == 0.4,
        timeout=60,
    )
    with engines["monitoringdb"].connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM readings")).scalar()
        total = connection.execute(text("SELECT sum(kwh) FROM hourly_totals")).scalar()
    assert count == 400
    assert float(total) == pytest.approx(0.4)


def test_new_hourly_totals_reach_the_owner_as_they_are_counted(
    platform, rpc, device, listen
):
    pushed = listen(WS, f"user.{OWNER['user_id']}.consumption.updated")
    send(platform, reading(device["id"], f"{recent_day()}T10:15:00Z", 0.25))
    first = pushed.messages(wait=5, until=1)
    again = reading(device["id"], f"{recent_day()}T10:30:00Z", 0.5)
    send(platform, again, again)  # redelivered: counted, and announced, once
    later = pushed.messages(wait=3)

    assert first[0][1]["type"] == "consumption.updated"
    assert first[0][1]["data"] == {
        "totals": [
            {
                "device_id": device["id"],
                "hour": f"{recent_day()}T10:00:00Z",
                "kwh": 0.25,
                "export_kwh": 0.0,
            }
        ]
    }
    totals = [t["kwh"] for _, m in later for t in m["data"]["totals"]]
    assert totals == [0.75]
    assert day(rpc, device["id"], recent_day())["total_kwh"] == 0.75


def test_the_series_of_several_devices_come_in_one_call(platform, rpc, device):
    other = rpc("devices").create_device(OWNER, {"name": "Pump", "kind": "heat_pump"})
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    send(
        platform,
        reading(device["id"], f"{yesterday}T10:15:00Z", 0.25),
        reading(device["id"], f"{yesterday}T12:30:00Z", 0.5),
        reading(other["id"], f"{yesterday}T10:45:00Z", 0.125),
    )
    wait_for(lambda: day(rpc, device["id"], yesterday)["total_kwh"] == 0.75)
    wait_for(lambda: day(rpc, other["id"], yesterday)["total_kwh"] == 0.125)
    start, end = f"{yesterday}T09:00:00Z", f"{yesterday}T14:00:00Z"
    silent = str(uuid.uuid4())
    ids = [other["id"], device["id"], silent, other["id"]]
    series = rpc("monitoring").hourly_series_of(ids, start, end)
    assert list(series) == [other["id"], device["id"], silent]
    for device_id in series:
        assert series[device_id] == rpc("monitoring").hourly_series(
            device_id, start, end
        )
    assert [row["kwh"] for row in series[device["id"]]] == [0, 0.25, 0, 0.5, 0]
    assert [row["kwh"] for row in series[silent]] == [0] * 5
    assert rpc("monitoring").hourly_series_of([], start, end) == {}
    for bad in ("not a list", [1, 2], [device["id"]] * 1001):
        with pytest.raises(ValidationFailed):
            rpc("monitoring").hourly_series_of(bad, start, end)


def poison(device_id):
    """One reading of each kind that can never be stored or counted."""
    now = datetime.now(UTC)
    return [
        (reading(device_id, "0001-01-01T00:00:00+05:00", 0.1), "back-fill window"),
        (reading(device_id, "1970-01-01T00:00:00Z", 0.1), "back-fill window"),
        (reading(device_id, (now + timedelta(hours=1)).isoformat(), 0.1), "ahead"),
        (reading(device_id, "9999-12-31T23:59:59-05:00", 0.1), "ahead"),
        (reading(device_id, f"{recent_day()}T10:15:00Z", 1e30), "absurd"),
        (reading(device_id, f"{recent_day()}T10:15:00Z", 10**40), "absurd"),
        (
            reading(device_id, f"{recent_day()}T10:15:00Z", 0.1, reading_id="r\ud800"),
            "not valid Unicode",
        ),
        (
            reading(device_id, f"{recent_day()}T10:15:00Z", 0.1, reading_id="r\x00"),
            "NUL",
        ),
    ]


def test_poison_readings_are_dead_lettered_alone_and_the_batch_commits_once(
    platform, rpc, device, monkeypatch
):
    from services.common.batching import BatchConsumer

    handled = []
    original = BatchConsumer.handle_batch_result

    def record(self, batch, worker_ctx, result=None, exc_info=None):
        handled.append((len(batch), exc_info))
        return original(self, batch, worker_ctx, result, exc_info)

    monkeypatch.setattr(BatchConsumer, "handle_batch_result", record)
    bad = poison(device["id"])
    good = [
        reading(device["id"], f"{recent_day()}T10:{m:02d}:00Z", 0.001)
        for m in range(50 - len(bad))
    ]
    # One batch (BATCH_SIZE is 50) of good readings with every poison among them.
    mixed = list(good)
    for place, (body, _) in enumerate(bad):
        mixed.insert(place * 5, body)
    send(platform, *mixed)
    wait_for(
        lambda: (
            day(rpc, device["id"], recent_day())["total_kwh"]
            == pytest.approx(0.001 * len(good))
        )
    )
    reasons = dead_messages(rpc, len(bad))
    for _, fragment in bad:
        assert any(fragment in reason for reason in reasons), (fragment, reasons)
    assert len(reasons) == len(bad)
    # No batch failed, so none was replayed one message at a time: every message
    # was handled once, in one successful batch per transaction.
    assert all(exc_info is None for _, exc_info in handled), handled
    assert sum(size for size, _ in handled) == 50
    assert len(handled) <= 2


def test_compressed_and_oversized_bodies_are_dead_lettered_unread(
    platform, rpc, device
):
    bomb = reading(device["id"], f"{recent_day()}T10:15:00Z", 0.5)
    huge = reading(device["id"], f"{recent_day()}T10:15:00Z", 0.5)
    huge["padding"] = "x" * 70_000
    with Connection(platform["AMQP_URI"]) as connection:
        producer = connection.Producer()
        for body, compression in ((bomb, "gzip"), (huge, None)):
            producer.publish(
                body,
                routing_key=QUEUE.name,
                declare=[QUEUE],
                serializer="json",
                compression=compression,
                delivery_mode=2,
            )
    send(platform, reading(device["id"], f"{recent_day()}T10:30:00Z", 0.25))
    wait_for(lambda: day(rpc, device["id"], recent_day())["total_kwh"] == 0.25)
    reasons = sorted(dead_messages(rpc, 2))
    assert "body of" in reasons[0] and "over the limit of 65536" in reasons[0]
    assert reasons[1].startswith("compressed body (application/x-gzip)")
    time.sleep(0.5)
    assert day(rpc, device["id"], recent_day())["total_kwh"] == 0.25


def test_a_days_consumption_is_its_owners_and_staffs(platform, rpc, device):
    """Decided from monitoring's copy of the devices, which asks devices about one
    it has not heard of yet."""
    query = {"device_id": device["id"], "date": recent_day()}
    monitoring = rpc("monitoring")
    stranger = {"user_id": str(uuid.uuid4()), "role": "USER"}
    for role in ("OPERATOR", "ADMIN"):
        staff = {"user_id": str(uuid.uuid4()), "role": role}
        assert monitoring.consumption_day(staff, query)["device_id"] == device["id"]
    for refused in (
        lambda: monitoring.consumption_day(stranger, query),
        lambda: monitoring.forecast(stranger, {"device_id": device["id"]}),
        lambda: monitoring.backtest(stranger, {"device_id": device["id"]}),
        lambda: monitoring.consumption_day(
            ADMIN, {**query, "device_id": str(uuid.uuid4())}
        ),
    ):
        with pytest.raises(NoSuchDevice):
            refused()
    assert (
        monitoring.forecast(OWNER, {"device_id": device["id"], "hours": 2})["device_id"]
        == device["id"]
    )
    with pytest.raises(ValidationFailed):
        monitoring.consumption_day(OWNER, {"device_id": device["id"]})


def test_a_pv_device_s_place_reaches_its_generation_forecast(platform, rpc):
    """The place comes from devices: asked of it for a device monitoring has not
    heard of, and then from ems.sync when it changes."""
    pv = rpc("devices").create_device(
        OWNER,
        {"name": "Roof", "kind": "pv", "latitude": -33.9, "longitude": 18.4},
    )
    monitoring = rpc("monitoring")
    query = {"device_id": pv["id"], "hours": 2}
    forecast = monitoring.generation_forecast(OWNER, query)
    assert forecast["location"] == {
        "latitude": -33.9,
        "longitude": 18.4,
        "source": "device",
    }
    rpc("devices").update_device(OWNER, pv["id"], {"latitude": None, "longitude": None})
    wait_for(
        lambda: (
            monitoring.generation_forecast(OWNER, query)["location"]["source"]
            == "installation"
        )
    )
    stranger = {"user_id": str(uuid.uuid4()), "role": "USER"}
    with pytest.raises(NoSuchDevice):
        monitoring.generation_forecast(stranger, query)
    with pytest.raises(NoSuchDevice):
        monitoring.generation_backtest(stranger, {"device_id": pv["id"]})
