"""/ws through Traefik, and the support chat, against every real process."""

import time
import uuid

import jwt
import pytest
import websocket
from kombu import Connection

from config import variables as v
from config.environment import environment
from harness.clients import ws_closed_with as closed_with
from harness.clients import ws_connect as connect
from harness.clients import ws_receive as receive
from harness.polling import eventually
from harness.readings import recent_day
from services.common.topology import DATA, WS, client_message, reading_key

pytestmark = pytest.mark.integration


def refused_status(stack, token):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        connect(stack, token)
    return refused.value.status_code


def publish(stack, exchange, routing_key, body):
    with Connection(stack.resources.amqp_uri) as connection:
        connection.Producer().publish(
            body,
            exchange=exchange,
            routing_key=routing_key,
            serializer="json",
            declare=[exchange],
        )


def test_overconsumption_reaches_its_owner_live_and_nobody_else(stack, new_user):
    ada, ada_client = new_user("Ada")
    _, bob_client = new_user("Bob")
    device = ada_client.post(
        "/api/devices", {"name": "Oven", "kind": "appliance", "max_hourly_kwh": 0.5}
    ).json()
    ada_socket, bob_socket = (
        connect(stack, ada_client.token),
        connect(stack, bob_client.token),
    )
    try:
        publish(
            stack,
            DATA,
            reading_key(device["id"]),
            {
                "reading_id": str(uuid.uuid4()),
                "device_id": device["id"],
                "timestamp": f"{recent_day()}T17:30:00Z",
                "kwh": 0.9,
            },
        )
        message = receive(ada_socket, type_="overconsumption")
        assert message["data"] == {
            "device_id": device["id"],
            "hour": f"{recent_day()}T17:00:00Z",
            "kwh": 0.9,
            "limit_kwh": 0.5,
            "reason": "reading",
        }
        assert receive(bob_socket, wait=2) is None
    finally:
        ada_socket.close()
        bob_socket.close()


def test_bad_expired_and_revoked_tokens_are_refused(stack, new_user):
    _, ada = new_user()
    claims = jwt.decode(ada.token, options={"verify_signature": False})
    expired = jwt.encode(
        dict(claims, exp=int(time.time()) - 5),
        stack.resources.private_key.read_text(),
        algorithm="EdDSA",
    )
    assert refused_status(stack, "not-a-token") == 401
    assert refused_status(stack, expired) == 401
    assert refused_status(stack, "") == 401
    socket = connect(stack, ada.token)
    socket.close()
    assert ada.post("/api/auth/logout").status_code == 204
    assert refused_status(stack, ada.token) == 401


def test_a_token_expiring_mid_session_ends_it(stack, new_user):
    _, ada = new_user()
    claims = jwt.decode(ada.token, options={"verify_signature": False})
    now = int(time.time())
    short = jwt.encode(
        dict(claims, iat=now, exp=now + 3, jti=uuid.uuid4().hex),
        stack.resources.private_key.read_text(),
        algorithm="EdDSA",
    )
    socket = connect(stack, short)
    message = receive(socket, wait=10, type_="session.ended")
    assert message["data"]["reason"] == "expired"
    assert closed_with(socket) == 4001


@pytest.mark.parametrize("ending", ["logout", "user_deleted", "role_changed"])
def test_the_session_ends_when_the_user_logs_out_or_is_changed(
    stack, admin, new_user, ending
):
    user, ada = new_user()
    socket = connect(stack, ada.token)
    if ending == "logout":
        ada.post("/api/auth/logout")
    elif ending == "user_deleted":
        admin.delete(f"/api/users/{user['id']}")
    else:
        admin.patch(f"/api/users/{user['id']}", {"role": "OPERATOR"})
    message = receive(socket, type_="session.ended")
    assert message["data"]["reason"] == ending
    assert closed_with(socket) == 4001


def test_two_gateway_processes_each_deliver_to_their_own_clients(stack, new_user):
    port = stack.ports["ws"] + 1000
    stack.start_process(
        "ws_gateway_2", "python -m ws_gateway", environment({v.WS_PORT: port})
    )
    try:
        stack.wait_for_log("ws_gateway_2", "consuming ems.ws", timeout=30)
        ada, ada_client = new_user("Ada")
        bob, bob_client = new_user("Bob")
        on_first = connect(stack, ada_client.token)  # through Traefik
        on_second = connect(stack, bob_client.token, port=port)  # the second process
        for user in (ada, bob):
            publish(
                stack,
                WS,
                f"user.{user['id']}.note",
                client_message("note", {"for": user["id"]}),
            )
        assert receive(on_first)["data"] == {"for": ada["id"]}
        assert receive(on_second)["data"] == {"for": bob["id"]}
        assert receive(on_first, wait=1) is None
        assert receive(on_second, wait=1) is None
        # Each is a process of its own to Prometheus.
        both = {"ws_gateway", "ws_gateway_2"}
        eventually(lambda: both <= set(stack.metrics_targets()))
    finally:
        stack.retire("ws_gateway_2")
    # The second one took its own target away as it ended, not the first's.
    assert "ws_gateway_2" not in stack.metrics_targets()
    assert "ws_gateway" in stack.metrics_targets()


def test_a_rule_answers_over_http_and_over_ws(stack, new_user):
    _, ada = new_user()
    socket = connect(stack, ada.token)
    try:
        response = ada.post(
            "/api/support/messages", {"text": "How do I add a new device?"}
        )
        assert response.status_code == 201, response.text
        reply = response.json()["reply"]
        assert reply["author"] == "bot" and "device" in reply["text"].lower()
        pushed = [receive(socket, type_="chat.message")["data"] for _ in range(2)]
        assert [m["author"] for m in pushed] == ["user", "bot"]
        assert pushed[1]["id"] == reply["id"]
    finally:
        socket.close()


def test_staff_are_alerted_and_their_reply_reaches_the_user_live(
    stack, admin, new_user
):
    user, ada = new_user()
    ada_socket, admin_socket = connect(stack, ada.token), connect(stack, admin.token)
    try:
        response = ada.post(
            "/api/support/messages",
            {"text": "My invoice from the grid operator looks odd"},
        )
        assert response.status_code == 201 and response.json()["reply"] is None
        alert = receive(admin_socket, type_="support.alert")
        assert alert["data"]["user_id"] == user["id"]
        inbox = admin.get("/api/support/conversations").json()
        assert inbox[0]["user_id"] == user["id"] and inbox[0]["awaiting_staff"]

        answered = admin.post(
            "/api/support/admin/reply",
            {"user_id": user["id"], "text": "Send it over, Ada."},
        )
        assert answered.status_code == 201, answered.text
        live = receive(ada_socket, type_="chat.message")
        while live and live["data"]["author"] != "staff":
            live = receive(ada_socket, type_="chat.message")
        assert live["data"]["text"] == "Send it over, Ada."
        history = ada.get("/api/support/history").json()
        assert [m["author"] for m in history] == ["user", "staff"]
        assert (
            admin.get("/api/support/history", params={"user_id": user["id"]}).json()
            == history
        )
        assert (
            ada.get(
                "/api/support/history",
                params={"user_id": admin.get("/api/auth/me").json()["id"]},
            ).status_code
            == 403
        )
        assert (
            ada.post(
                "/api/support/admin/reply", {"user_id": user["id"], "text": "x"}
            ).status_code
            == 403
        )
    finally:
        ada_socket.close()
        admin_socket.close()


def test_the_ai_model_answers_what_the_rules_do_not(stack, new_user, model_server):
    _, ada = new_user()
    response = ada.post(
        "/api/support/messages", {"text": "Do solar panels change my numbers?"}
    )
    reply = response.json()["reply"]
    assert reply["author"] == "ai"
    assert reply["text"].startswith("Solar panels lower")


def test_a_hung_model_falls_back_to_staff(stack, admin, new_user):
    user, ada = new_user()
    admin_socket = connect(stack, admin.token)
    try:
        started = time.monotonic()
        response = ada.post(
            "/api/support/messages", {"text": "please hang on this question"}
        )
        assert response.status_code == 201
        assert response.json()["reply"] is None
        assert time.monotonic() - started < 10
        alert = receive(admin_socket, type_="support.alert")
        assert alert["data"]["user_id"] == user["id"]
    finally:
        admin_socket.close()


def test_bad_chat_input_gets_400(new_user):
    _, ada = new_user()
    for body in ({}, {"text": ""}, {"text": "x" * 2001}, {"text": "hi", "extra": 1}):
        response = ada.post("/api/support/messages", body)
        assert response.status_code == 400, body
        assert response.json()["error"] == "VALIDATION_ERROR"
