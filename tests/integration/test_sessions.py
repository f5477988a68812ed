"""Sessions end when their credentials change, on every real process: tokens carry
a credential version, an ADMIN setting a password ends the user's sessions, and the
WebSocket gateway re-checks its sockets in case a ``session.ended`` is missed."""

import jwt
import pytest
import sqlalchemy as sa

from harness.clients import ws_closed_with as closed_with
from harness.clients import ws_connect as connect
from harness.clients import ws_receive as receive

pytestmark = pytest.mark.integration


def test_a_role_changed_back_does_not_revive_the_old_token(admin, anonymous, new_user):
    user, ada = new_user()
    assert jwt.decode(ada.token, options={"verify_signature": False})["cv"] == 1
    assert ada.get("/api/auth/me").status_code == 200
    path = f"/api/users/{user['id']}"
    assert admin.patch(path, {"role": "OPERATOR"}).status_code == 200
    assert admin.patch(path, {"role": "USER"}).status_code == 200
    refused = ada.get("/api/auth/me")
    assert refused.status_code == 401
    assert refused.json()["error"] == "UNAUTHORIZED"
    fresh = anonymous.login(user["email"], "password-1")
    assert jwt.decode(fresh.token, options={"verify_signature": False})["cv"] == 3
    assert fresh.get("/api/auth/me").json()["role"] == "USER"


def test_a_password_set_by_an_admin_ends_the_user_s_sessions(
    stack, admin, anonymous, new_user
):
    user, ada = new_user()
    socket = connect(stack, ada.token)
    try:
        response = admin.patch(f"/api/users/{user['id']}", {"password": "new-pass-2"})
        assert response.status_code == 200
        message = receive(socket, type_="session.ended")
        assert message["data"] == {"reason": "password_changed"}
        assert closed_with(socket) == 4001
    finally:
        socket.close()
    assert ada.get("/api/auth/me").status_code == 401
    assert anonymous.post(
        "/api/auth/login", {"email": user["email"], "password": "password-1"}
    ).status_code in (401, 429)
    assert anonymous.login(user["email"], "new-pass-2").get("/api/auth/me").ok


def test_only_an_admin_sets_a_password(new_user):
    user, ada = new_user()
    _, bob = new_user("Bob")
    path = f"/api/users/{user['id']}"
    assert bob.patch(path, {"password": "taken-over-1"}).status_code == 403
    assert ada.patch(path, {"password": "taken-over-1"}).status_code == 403
    assert ada.get("/api/auth/me").status_code == 200


def test_a_missed_session_end_is_caught_by_the_socket_re_check(stack, new_user):
    user, ada = new_user()
    socket = connect(stack, ada.token)
    try:
        # The credentials change behind the platform's back: no session.ended is
        # published, as if the message had been lost on its way to the gateway.
        engine = sa.create_engine(stack.resources.databases["authdb"])
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "UPDATE credentials SET credential_version ="
                    " credential_version + 1 WHERE user_id = :id"
                ),
                {"id": user["id"]},
            )
        engine.dispose()
        # The stack re-checks every 2 s.
        message = receive(socket, type_="session.ended", wait=15)
        assert message is not None, "the socket was not re-checked"
        assert message["data"] == {"reason": "revoked"}
        assert closed_with(socket) == 4001
    finally:
        socket.close()
