"""The VIEWER role through Traefik, against every real process: an ADMIN makes an
account a VIEWER, which then reads what ADMIN reads and changes nothing.

The routes are those of the served OpenAPI document, not a list kept here: a route
added to the gateway is walked by this test without being named in it. Each
route's path values are real objects of another user (her device, battery, order,
conversation, site and room, an alarm her meter raised and its rule) or an event
ADMIN announced and invited her to, so an
answer says what the role may do, not that an id is missing.
"""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from gateway.api import ROUTES
from harness.polling import eventually
from harness.readings import publish_readings
from services.common.topology import iso_utc

pytestmark = pytest.mark.integration

WRITES = {"post", "put", "patch", "delete"}

#: Reads that VIEWER is refused although ADMIN may make them, and why.
READS_REFUSED = {
    # Dead letters are raw traffic kept to repair the platform with: ADMIN's
    # tool, not a view of the platform (services/monitoring/policies.py).
    ("get", "/api/dead-letters"): 403,
    ("get", "/api/dead-letters/{dead_letter_id}"): 403,
    # The audit log names who did what from which address: ADMIN's alone
    # (services/audit/policies.py).
    ("get", "/api/audit"): 403,
    # The platform's own state, its processes' errors with their request ids
    # among it: the operator's tool beside the dead letters (gateway/api/platform.py).
    ("get", "/api/operations"): 403,
}

#: Writes a VIEWER may make, and why: they are not walked, and are asserted on
#: their own below.
WRITES_ALLOWED = {
    # Anyone's, before signing in.
    ("post", "/api/auth/login"),
    ("post", "/api/auth/register"),
    ("post", "/api/auth/password-reset"),
    ("post", "/api/auth/password-reset/confirm"),
    ("post", "/api/auth/email/confirm"),
    ("post", "/api/auth/verification/resend"),
    # The VIEWER's own account: its profile, and deleting it (which the walk
    # must not do to the account it runs as).
    ("patch", "/api/auth/me"),
    ("delete", "/api/auth/me"),
    # The VIEWER's own session and own conversation with support: they change
    # nothing of anyone else's (a logout would end the session the walk runs in).
    ("post", "/api/auth/logout"),
    ("post", "/api/support/messages"),
    # Which alarms reach the VIEWER: its own preferences.
    ("put", "/api/notification-preferences"),
}

#: Routes that are asked by POST and store nothing: reads, answered as to staff.
READS_BY_POST = {
    # The cheapest plan for a battery, worked out and returned, not kept.
    ("post", "/api/batteries/{battery_id}/schedule"): 200,
}

#: Every route by method and OpenAPI path, with who the gateway lets call it.
ACCESS = {(route.method.lower(), route.openapi_path): route.access for route in ROUTES}


def refusal(method: str, path: str) -> int:
    """How a write is refused to a VIEWER: 403 by the gateway on a route for other
    roles, or by the service on a route that acts on no object (``devices.create``,
    ``trading.place``); 404 on an object of someone else's, which a caller who may
    not change it is told is missing, as every role is (an OPERATOR deleting a
    device, anyone cancelling another's order or answering another's invitation)."""
    access = ACCESS[(method, path)]
    if access.roles and "VIEWER" not in access.roles:
        return 403
    return 404 if "{" in path else 403


@pytest.fixture(scope="module")
def world(stack, admin, anonymous):
    """Ada's objects, an event she is invited to, and a VIEWER that ADMIN made."""
    ada_email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    registered = anonymous.post(
        "/api/auth/register",
        {"email": ada_email, "password": "password-1", "name": "Ada"},
    )
    assert registered.status_code == 201, registered.text
    ada_user, ada = registered.json(), anonymous.login(ada_email, "password-1")

    meter = ada.post(
        "/api/devices", {"name": "Meter", "kind": "meter", "max_hourly_kwh": 2}
    )
    assert meter.status_code == 201, meter.text
    site_id = meter.json()["site_id"]
    room = ada.post(f"/api/sites/{site_id}/rooms", {"name": "Hall"})
    assert room.status_code == 201, room.text
    store = ada.post("/api/devices", {"name": "Store", "kind": "battery"})
    assert store.status_code == 201, store.text
    battery = ada.post(
        "/api/batteries",
        {
            "device_id": store.json()["id"],
            "capacity_kwh": 10,
            "max_charge_kw": 5,
            "max_discharge_kw": 4,
            "efficiency": 0.81,
            "min_soc": 0.1,
            "max_soc": 0.9,
        },
    )
    assert battery.status_code == 201, battery.text
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    hour += timedelta(hours=3)
    order = ada.post(
        "/api/trading/orders",
        {
            "side": "buy",
            "delivery_hour": iso_utc(hour),
            "price_per_kwh": 0.2,
            "quantity_kwh": 1,
        },
    )
    assert order.status_code == 201, order.text
    asked = ada.post("/api/support/messages", {"text": "Hello"})
    assert asked.status_code in (200, 201), asked.text

    start = hour + timedelta(days=1)
    event = admin.post(
        "/api/dr/events",
        {
            "name": "Evening peak",
            "start": iso_utc(start),
            "end": iso_utc(start + timedelta(hours=2)),
            "target_reduction_kw": 5,
            "incentive_per_kwh": 0.3,
        },
    )
    assert event.status_code == 201, event.text
    invited = admin.post(
        f"/api/dr/events/{event.json()['id']}/invitations",
        {"user_ids": [ada_user["id"]]},
    )
    assert invited.status_code in (200, 201), invited.text

    # Her meter over its limit of 2 kWh: an alarm of its own limit rule.
    publish_readings(
        stack,
        {
            "reading_id": uuid.uuid4().hex,
            "device_id": meter.json()["id"],
            "timestamp": iso_utc(datetime.now(UTC).replace(microsecond=0)),
            "kwh": 2.5,
        },
    )
    alarm = eventually(lambda: ada.get("/api/alarms").json()["alarms"][:1], timeout=30)[
        0
    ]
    viewer_email = f"vera-{uuid.uuid4().hex[:8]}@example.com"
    created = admin.post(
        "/api/users",
        {
            "email": viewer_email,
            "password": "password-1",
            "name": "Vera",
            "role": "USER",
        },
    )
    assert created.status_code == 201, created.text
    made = admin.patch(f"/api/users/{created.json()['id']}", {"role": "VIEWER"})
    assert made.status_code == 200, made.text
    assert made.json()["role"] == "VIEWER"
    return {
        "viewer": anonymous.login(viewer_email, "password-1"),
        "path": {
            "user_id": ada_user["id"],
            "device_id": meter.json()["id"],
            "site_id": site_id,
            "room_id": room.json()["id"],
            "battery_id": battery.json()["id"],
            "event_id": event.json()["id"],
            "order_id": order.json()["order"]["id"],
            "dead_letter_id": str(uuid.uuid4()),
            "session_id": ada.get("/api/auth/sessions").json()[0]["id"],
            "alarm_id": alarm["id"],
            "rule_id": alarm["rule_id"],
        },
        "query": {
            "device_id": meter.json()["id"],
            "date": date.today().isoformat(),
            "delivery_hour": iso_utc(hour),
            "user_id": ada_user["id"],
        },
    }


def operations(anonymous):
    """``(method, path, operation)`` of every route the gateway serves."""
    document = anonymous.get("/api/openapi.json")
    assert document.status_code == 200
    return [
        (method, path, operation)
        for path, methods in document.json()["paths"].items()
        for method, operation in methods.items()
    ]


def request(client, world, method, path, operation):
    """Ask ``client`` for the route, its path and required query filled in, with
    the documented example body."""
    url = path.format(**world["path"])
    query = {
        parameter["name"]: world["query"][parameter["name"]]
        for parameter in operation.get("parameters", ())
        if parameter["in"] == "query" and parameter.get("required")
    }
    content = operation.get("requestBody", {}).get("content", {})
    body = content.get("application/json", {}).get("example")
    return client.request(method.upper(), url, params=query, json=body)


def test_an_admin_makes_a_viewer_who_is_told_it_reads_only(world):
    me = world["viewer"].get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["role"] == "VIEWER"
    permissions = set(me.json()["permissions"])
    assert {"devices.read_all", "dr.read_all", "users.read_users"} <= permissions
    assert not {"devices.create", "dr.create", "trading.place"} & permissions


def test_a_viewer_reads_every_route_as_admin_does(world, admin, anonymous):
    walked = []
    for method, path, operation in operations(anonymous):
        if method != "get":
            continue
        as_admin = request(admin, world, method, path, operation)
        as_viewer = request(world["viewer"], world, method, path, operation)
        expected = READS_REFUSED.get((method, path), as_admin.status_code)
        walked.append((path, as_viewer.status_code, expected))
    assert [(p, got) for p, got, _ in walked] == [(p, e) for p, _, e in walked]
    # ADMIN reads the others' objects on nearly every route (not another's
    # order, which is its owner's alone), and so, then, does VIEWER.
    assert sum(got == 200 for _, got, _ in walked) > 20


def test_a_viewer_changes_nothing(world, admin, anonymous):
    answers = []
    # Deletions last, so that a route wrongly allowed still leaves the objects
    # the others are walked against.
    routes = sorted(
        (route for route in operations(anonymous) if route[0] in WRITES),
        key=lambda route: route[0] == "delete",
    )
    for method, path, operation in routes:
        if (method, path) in WRITES_ALLOWED:
            continue
        expected = READS_BY_POST.get((method, path)) or refusal(method, path)
        response = request(world["viewer"], world, method, path, operation)
        answers.append((method, path, response.status_code))
        assert response.status_code == expected, (method, path, response.text)
    assert len(answers) > 20
    # Ada's objects are all still there, as they were.
    for path in (
        "/api/devices/{device_id}",
        "/api/sites/{site_id}",
        "/api/batteries/{battery_id}",
        "/api/users/{user_id}",
        "/api/dr/events/{event_id}",
    ):
        assert admin.get(path.format(**world["path"])).status_code == 200


def test_a_viewer_still_talks_to_support_and_signs_out(world):
    viewer = world["viewer"]
    asked = viewer.post("/api/support/messages", {"text": "Hello"})
    assert asked.status_code in (200, 201), asked.text
    theirs = viewer.get(
        "/api/support/history", params={"user_id": world["path"]["user_id"]}
    )
    assert theirs.status_code == 200
    assert [message["text"] for message in theirs.json()][:1] == ["Hello"]
    inbox = viewer.get("/api/support/conversations")
    assert inbox.status_code == 200
    assert world["path"]["user_id"] in {row["user_id"] for row in inbox.json()}
    reply = viewer.post(
        "/api/support/admin/reply",
        {"user_id": world["path"]["user_id"], "text": "Hi"},
    )
    assert reply.status_code == 403
    assert viewer.post("/api/auth/logout").status_code == 204
    assert viewer.get("/api/auth/me").status_code == 401
