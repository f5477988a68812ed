"""Per-user quotas through Traefik, against every real process: devices and open
orders answer 409 past their limit (also when the last places are asked for at
once), support messages 429 with Retry-After, questions past the AI quota go to
staff, and a socket past the user's limit is refused with 429 before the upgrade.

The stack runs with the default quotas (``config/variables.py``), except the AI quota,
which ``conftest.py`` sets to 3 so that it is reached within the message quota.
"""

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import websocket

from harness.clients import ws_connect as connect
from services.common.topology import iso_utc

pytestmark = pytest.mark.integration

MAX_DEVICES = 100
MAX_OPEN_ORDERS = 100
MAX_MESSAGES_PER_MINUTE = 10
MAX_AI_CALLS = 3  # SUPPORT_MAX_AI_CALLS_PER_HOUR in conftest.py
MAX_SOCKETS = 10


def at_once(calls):
    """Run the zero-argument ``calls`` together; their responses, in order."""
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_devices_past_the_quota_answer_409(new_user, admin):
    user, ada = new_user("Ada")

    def create(i):
        return lambda: ada.post("/api/devices", {"name": f"D{i}", "kind": "meter"})

    for i in range(MAX_DEVICES - 5):
        assert create(i)().status_code == 201
    # The last five places, asked for ten times at once: exactly five are had.
    statuses = [r.status_code for r in at_once([create(i) for i in range(10)])]
    assert sorted(statuses) == [201] * 5 + [409] * 5
    refused = create("x")()
    assert refused.status_code == 409
    assert refused.json() == {
        "error": "CONFLICT",
        "message": f"a user may own at most {MAX_DEVICES} devices; delete one first",
        "details": {"limit": MAX_DEVICES},
        "request_id": refused.headers["X-Request-Id"],
    }
    # ADMIN adding one for them is held to the owner's quota too.
    for_ada = admin.post(
        "/api/devices", {"name": "Extra", "kind": "meter", "user_id": user["id"]}
    )
    assert for_ada.status_code == 409
    devices = ada.get("/api/devices").json()
    assert len(devices) == MAX_DEVICES
    assert ada.delete(f"/api/devices/{devices[0]['id']}").status_code == 204
    assert create("y")().status_code == 201


def test_open_orders_past_the_quota_answer_409(new_user):
    _, ada = new_user("Ada")
    # Far-off hours at a price nobody sells at: the orders rest, and other tests'
    # books are not disturbed.
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start += timedelta(days=5)

    def bid(i):
        body = {
            "side": "buy",
            "delivery_hour": iso_utc(start + timedelta(hours=i % 24)),
            "price_per_kwh": 0.0001,
            "quantity_kwh": 0.1,
        }
        return lambda: ada.post("/api/trading/orders", body)

    placed = []
    try:
        for i in range(MAX_OPEN_ORDERS - 5):
            response = bid(i)()
            assert response.status_code == 201, response.text
            placed.append(response.json()["order"]["id"])
        responses = at_once([bid(i) for i in range(10)])
        placed += [r.json()["order"]["id"] for r in responses if r.status_code == 201]
        assert sorted(r.status_code for r in responses) == [201] * 5 + [409] * 5
        refused = bid(0)()
        assert refused.status_code == 409
        assert refused.json()["error"] == "CONFLICT"
        assert refused.json()["details"] == {"limit": MAX_OPEN_ORDERS}
        assert f"at most {MAX_OPEN_ORDERS} open orders" in refused.json()["message"]
        # A cancelled order frees its place.
        cancelled = placed.pop()
        assert ada.delete(f"/api/trading/orders/{cancelled}").status_code == 200
        again = bid(1)()
        assert again.status_code == 201, again.text
        placed.append(again.json()["order"]["id"])
    finally:
        for order_id in placed:
            ada.delete(f"/api/trading/orders/{order_id}")


def test_support_messages_past_the_quota_answer_429(new_user):
    _, ada = new_user("Ada")
    for _ in range(MAX_MESSAGES_PER_MINUTE):
        sent = ada.post("/api/support/messages", {"text": "How do I add a device?"})
        assert sent.status_code == 201, sent.text
    refused = ada.post("/api/support/messages", {"text": "How do I add a device?"})
    assert refused.status_code == 429
    body = refused.json()
    assert body["error"] == "RATE_LIMITED"
    assert body["details"]["limit"] == MAX_MESSAGES_PER_MINUTE
    assert 1 <= body["details"]["retry_after"] <= 61
    assert refused.headers["Retry-After"] == str(body["details"]["retry_after"])
    assert len(ada.get("/api/support/history").json()) == 2 * MAX_MESSAGES_PER_MINUTE
    # Another user is not held back.
    _, bob = new_user("Bob")
    assert bob.post("/api/support/messages", {"text": "Hello"}).status_code == 201


def test_questions_past_the_ai_quota_go_to_staff(new_user, admin):
    user, ada = new_user("Ada")
    question = {"text": "Do solar panels change my numbers?"}
    for _ in range(MAX_AI_CALLS):
        answered = ada.post("/api/support/messages", question)
        assert answered.status_code == 201, answered.text
        assert answered.json()["reply"]["author"] == "ai"
    unasked = ada.post("/api/support/messages", question)
    assert unasked.status_code == 201, unasked.text
    assert unasked.json()["reply"] is None
    inbox = admin.get("/api/support/conversations").json()
    [conversation] = [row for row in inbox if row["user_id"] == user["id"]]
    assert conversation["awaiting_staff"]
    # The rules still answer.
    ruled = ada.post("/api/support/messages", {"text": "How do I add a device?"})
    assert ruled.json()["reply"]["author"] == "bot"


def test_sockets_past_the_quota_are_refused_with_429(stack, new_user):
    _, ada = new_user("Ada")
    _, bob = new_user("Bob")
    sockets = [connect(stack, ada.token) for _ in range(MAX_SOCKETS)]
    try:
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            connect(stack, ada.token)
        assert refused.value.status_code == 429
        body = json.loads(refused.value.resp_body)
        assert body["error"] == "RATE_LIMITED"
        assert body["details"] == {"limit": MAX_SOCKETS}
        sockets.append(connect(stack, bob.token))  # Bob has his own
        sockets.pop(0).close()
        for _ in range(50):  # the gateway forgets a socket once it has closed
            try:
                sockets.append(connect(stack, ada.token))
                break
            except websocket.WebSocketBadStatusException:
                time.sleep(0.1)
        else:
            pytest.fail("a closed socket never freed its place")
    finally:
        for socket in sockets:
            socket.close()
