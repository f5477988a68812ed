"""audit in its container, on a real broker and a real database: records that any
service publishes with ``Audit`` are stored once, never changed, and listed to
ADMIN newest first, filtered and a page at a time."""

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from kombu import Connection
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.audit.service import AuditService
from services.common.audit import Audit, record
from services.common.errors import Forbidden, ValidationFailed
from services.common.topology import AUDIT_RECORDED, DLX, SYNC

pytestmark = pytest.mark.usefixtures("clean_databases")

ADMIN = {"user_id": "6f1c9d2e-0000-4000-8000-0000000000ad", "role": "ADMIN"}
OPERATOR = {"user_id": "6f1c9d2e-0000-4000-8000-0000000000c3", "role": "OPERATOR"}
USER_ID = "6f1c9d2e-0000-4000-8000-0000000000a1"
START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class RecorderService:
    """Any service of the platform, as far as the audit log sees it."""

    name = "recorder"
    audit = Audit()

    @rpc
    def act(self, caller, action, object_type, object_id, details, client):
        self.audit(caller, action, object_type, object_id, details, client)


@pytest.fixture
def audit_rpc(container_factory, service_config):
    config = service_config("audit")
    container_factory(AuditService, config).start()
    with ServiceRpcProxy("audit", config) as proxy:
        yield proxy


@pytest.fixture
def publish(service_config):
    with Connection(service_config()["AMQP_URI"]) as connection:
        producer = connection.Producer()

        def send(message):
            producer.publish(
                message,
                exchange=SYNC,
                routing_key=AUDIT_RECORDED,
                declare=[SYNC],
                serializer="json",
            )

        yield send


def wait_for(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def listed(audit_rpc, **query):
    return audit_rpc.list_records(ADMIN, {k: str(v) for k, v in query.items()})


def test_a_service_records_with_audit(audit_rpc, container_factory, service_config):
    config = service_config("audit")
    container_factory(RecorderService, config).start()
    with ServiceRpcProxy("recorder", config) as recorder:
        recorder.act(
            ADMIN,
            "users.role_changed",
            "user",
            USER_ID,
            {"from": "USER", "to": "OPERATOR"},
            "203.0.113.7",
        )
        recorder.act(
            None, "trading.settled", "settlement", "2026-12-01T08:00:00Z", {}, None
        )
    page = wait_for(
        lambda: len(listed(audit_rpc)["records"]) == 2 and listed(audit_rpc)
    )
    settled, changed = page["records"]
    assert changed["actor"] == {"id": ADMIN["user_id"], "role": "ADMIN"}
    assert changed["action"] == "users.role_changed"
    assert changed["object"] == {"type": "user", "id": USER_ID}
    assert changed["details"] == {"from": "USER", "to": "OPERATOR"}
    assert changed["client"] == "203.0.113.7"
    assert settled["actor"] is None and settled["client"] is None
    assert page["next"] is None


def test_a_redelivered_record_is_stored_once(audit_rpc, publish, engines):
    message = record(ADMIN, "users.deleted", "user", USER_ID, client="198.51.100.2")
    for _ in range(3):
        publish(message)
    publish(record(ADMIN, "users.deleted", "user", str(uuid.uuid4())))
    wait_for(lambda: len(listed(audit_rpc)["records"]) == 2)
    time.sleep(0.5)
    with engines["auditdb"].connect() as connection:
        assert (
            connection.scalar(
                text("SELECT count(*) FROM audit_records WHERE id = :id"),
                {"id": message["id"]},
            )
            == 1
        )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_records SET action = 'users.nothing'",
        "UPDATE audit_records SET client = NULL WHERE id = :id",
        "DELETE FROM audit_records WHERE id = :id",
        "DELETE FROM audit_records",
        "TRUNCATE audit_records",
    ],
)
def test_the_log_refuses_any_change(audit_rpc, publish, engines, statement):
    message = record(ADMIN, "devices.deleted", "device", str(uuid.uuid4()))
    publish(message)
    wait_for(lambda: listed(audit_rpc)["records"])
    with pytest.raises(DBAPIError, match="append-only"):
        with engines["auditdb"].begin() as connection:
            connection.execute(text(statement), {"id": message["id"]})
    (kept,) = listed(audit_rpc)["records"]
    assert kept["id"] == message["id"] and kept["action"] == "devices.deleted"


def test_a_record_that_is_not_one_is_dead_lettered(audit_rpc, publish, listen):
    dead = listen(DLX, "audit.#")
    publish({"id": "nope", "action": "Users!"})
    good = record(ADMIN, "users.deleted", "user", USER_ID)
    publish(good)
    wait_for(lambda: listed(audit_rpc)["records"])
    (rejected,) = dead.messages(wait=3, until=1)
    assert rejected[1]["id"] == "nope"
    assert [r["id"] for r in listed(audit_rpc)["records"]] == [good["id"]]


@pytest.fixture
def history(audit_rpc, publish):
    """Eight records an hour apart, oldest first."""
    device_id, site_id = str(uuid.uuid4()), str(uuid.uuid4())
    made = [
        (ADMIN, "users.role_changed", "user", USER_ID),
        (OPERATOR, "devices.command_issued", "device", device_id),
        (ADMIN, "devices.credentials_rotated", "device", device_id),
        (OPERATOR, "dr.event_created", "dr_event", str(uuid.uuid4())),
        (None, "trading.settled", "settlement", "2026-12-01T11:00:00Z"),
        (ADMIN, "devices.site_deleted", "site", site_id),
        (ADMIN, "users.deleted", "user", USER_ID),
        (OPERATOR, "devices.command_issued", "device", device_id),
    ]
    records = [
        record(
            actor,
            action,
            kind,
            object_id,
            client="192.0.2.1",
            now=START + timedelta(hours=n),
        )
        for n, (actor, action, kind, object_id) in enumerate(made)
    ]
    for message in reversed(records):  # arrival order is not the log's order
        publish(message)
    wait_for(lambda: len(listed(audit_rpc, limit=500)["records"]) == len(records))
    return records


def ids(page):
    return [entry["id"] for entry in page["records"]]


def test_the_newest_come_first(audit_rpc, history):
    assert ids(listed(audit_rpc)) == [r["id"] for r in reversed(history)]


def test_filters(audit_rpc, history):
    newest_first = list(reversed(history))

    def expected(keep):
        return [r["id"] for r in newest_first if keep(r)]

    assert ids(listed(audit_rpc, actor_id=OPERATOR["user_id"])) == expected(
        lambda r: r["actor"] and r["actor"]["id"] == OPERATOR["user_id"]
    )
    assert ids(listed(audit_rpc, action="devices.")) == expected(
        lambda r: r["action"].startswith("devices.")
    )
    assert ids(listed(audit_rpc, action="devices")) == expected(
        lambda r: r["action"].startswith("devices.")
    )
    assert ids(listed(audit_rpc, action="devices.command_issued")) == expected(
        lambda r: r["action"] == "devices.command_issued"
    )
    assert ids(listed(audit_rpc, object_type="user", object_id=USER_ID)) == expected(
        lambda r: r["object"] == {"type": "user", "id": USER_ID}
    )
    assert ids(
        listed(
            audit_rpc,
            **{"from": "2026-12-01T10:00:00Z", "to": "2026-12-01T13:00:00Z"},
        )
    ) == [r["id"] for r in reversed(history[2:5])]
    # A prefix is a prefix of the action, not a pattern.
    assert listed(audit_rpc, action="dev")["records"] == []


def every_page(audit_rpc, **query):
    """The records of every page, following each page's ``next``."""
    seen, cursor = [], None
    for _ in range(50):
        page = listed(audit_rpc, **query, **({"cursor": cursor} if cursor else {}))
        seen += ids(page)
        cursor = page["next"]
        if cursor is None:
            return seen
    raise AssertionError("the pages never end")


def test_pages_follow_each_other(audit_rpc, history):
    assert every_page(audit_rpc, limit=3, action="devices.") == [
        r["id"] for r in reversed(history) if r["action"].startswith("devices.")
    ]
    assert every_page(audit_rpc, limit=2) == [r["id"] for r in reversed(history)]
    assert every_page(audit_rpc, limit=8) == [r["id"] for r in reversed(history)]


def test_records_of_the_same_instant_are_paged_by_id(audit_rpc, publish):
    records = [
        record(ADMIN, "devices.deleted", "device", str(uuid.uuid4()), now=START)
        for _ in range(5)
    ]
    for message in records:
        publish(message)
    wait_for(lambda: len(listed(audit_rpc)["records"]) == len(records))
    assert every_page(audit_rpc, limit=2) == sorted(
        (r["id"] for r in records), reverse=True
    )


def test_only_admin_reads_the_log(audit_rpc):
    with pytest.raises(Forbidden):
        audit_rpc.list_records(OPERATOR, {})
    with pytest.raises(Forbidden):
        audit_rpc.list_records({"user_id": USER_ID, "role": "VIEWER"}, {})


def test_bad_filters_answer_400_with_their_fields(audit_rpc):
    with pytest.raises(ValidationFailed) as refused:
        audit_rpc.list_records(
            ADMIN, {"limit": "9999", "cursor": "x", "action": "a b", "from": "soon"}
        )
    assert set(refused.value.details) == {"limit", "cursor", "action", "from"}
