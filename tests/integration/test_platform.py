"""The contract's flows, through Traefik, against every real process."""

import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness.clients import ApiClient
from harness.polling import eventually
from services.common.identity import LIFETIME, Voucher
from services.common.topology import SYNC
from services.users.permissions import account_permissions

pytestmark = pytest.mark.integration


def listen(stack, exchange, key):
    from kombu import Connection, Queue

    connection = Connection(stack.resources.amqp_uri)
    queue = Queue(
        f"test-{uuid.uuid4().hex}", exchange=exchange, routing_key=key, auto_delete=True
    )
    bound = queue(connection.default_channel)
    bound.declare()
    return connection, bound


def drain(bound, count, wait=10.0):
    received, deadline = [], time.monotonic() + wait
    while len(received) < count and time.monotonic() < deadline:
        message = bound.get(no_ack=True)
        if message is None:
            time.sleep(0.05)
        else:
            received.append(message.payload)
    return received


def test_the_device_flow_from_registration_to_cascade(
    stack, anonymous, admin, new_user
):
    user, ada = new_user("Ada")
    assert ada.get("/api/auth/me").json()["email"] == user["email"]

    created = ada.post(
        "/api/devices", {"name": "Kitchen", "kind": "appliance", "max_hourly_kwh": 0.7}
    )
    assert created.status_code == 201, created.text
    device = created.json()
    assert device["user_id"] == user["id"]
    assert [d["id"] for d in ada.get("/api/devices").json()] == [device["id"]]

    _, bob = new_user("Bob")
    for method in ("get", "delete"):
        response = getattr(bob, method)(f"/api/devices/{device['id']}")
        assert response.status_code == 404
        assert response.json()["error"] == "NOT_FOUND"
    assert bob.patch(f"/api/devices/{device['id']}", {"name": "x"}).status_code == 404
    assert bob.get("/api/devices").json() == []

    everyone = admin.get("/api/devices").json()
    assert device["id"] in [d["id"] for d in everyone]
    assert admin.get(f"/api/devices/{device['id']}").status_code == 200

    connection, events = listen(stack, SYNC, "device.deleted")
    try:
        assert admin.delete(f"/api/users/{user['id']}").status_code == 204
        # The token dies with the request that deleted its user.
        assert ada.get("/api/auth/me").status_code == 401
        assert ada.get("/api/devices").status_code == 401
        deleted = drain(events, 1)
    finally:
        connection.release()
    assert [body["device"]["id"] for body in deleted] == [device["id"]]
    # The event is published before its transaction commits (never lost): the
    # device is gone once the cascade's commit follows it.
    eventually(
        lambda: admin.get(f"/api/devices/{device['id']}").status_code == 404,
        timeout=10,
    )
    assert admin.get(f"/api/users/{user['id']}").status_code == 404


def test_admin_manages_users_and_roles(admin, anonymous, new_user):
    email = f"op-{uuid.uuid4().hex[:8]}@example.com"
    created = admin.post(
        "/api/users",
        {"email": email, "password": "password-1", "name": "Op", "role": "OPERATOR"},
    )
    assert created.status_code == 201, created.text
    operator = anonymous.login(email, "password-1")
    user, ada = new_user()
    # What each account may do, as /me tells the web app, is what the services
    # then allow it.
    me = operator.get("/api/auth/me").json()
    assert me["role"] == "OPERATOR"
    assert me["permissions"] == account_permissions(
        {"user_id": me["id"], "role": "OPERATOR"}
    )
    assert {"devices.read_all", "dr.create", "users.find_users"} <= set(
        me["permissions"]
    )
    assert "users.manage_users" not in me["permissions"]
    assert operator.get("/api/users/directory").status_code == 200
    assert ada.get("/api/auth/me").json()["permissions"] == [
        "alarms.create_rules",
        "batteries.create",
        "devices.create",
        "devices.create_site",
        "trading.place",
    ]
    assert ada.get("/api/users/directory").status_code == 403
    assert "users.manage_users" in admin.get("/api/auth/me").json()["permissions"]
    ada.post("/api/devices", {"name": "Meter", "kind": "meter"})
    # OPERATOR reads every device but changes none of them.
    seen = operator.get("/api/devices", params={"user_id": user["id"]}).json()
    assert len(seen) == 1
    assert operator.delete(f"/api/devices/{seen[0]['id']}").status_code == 404
    assert operator.get("/api/users").status_code == 403

    demoted = admin.patch(f"/api/users/{created.json()['id']}", {"role": "USER"})
    assert demoted.json()["role"] == "USER"
    assert operator.get("/api/devices").status_code == 401
    assert (
        admin.post(
            "/api/users", {"email": email, "password": "password-1", "name": "Op"}
        ).status_code
        == 409
    )
    assert ada.get("/api/users").status_code == 403
    assert ada.post("/api/users", {}).status_code == 403


def test_register_never_yields_another_role(anonymous, admin):
    email = f"eve-{uuid.uuid4().hex[:8]}@example.com"
    for role in ("ADMIN", "OPERATOR", "USER"):
        response = anonymous.post(
            "/api/auth/register",
            {"email": email, "password": "password-1", "name": "Eve", "role": role},
        )
        assert response.status_code == 400
        assert "role" in response.json()["details"]
    response = anonymous.post(
        "/api/auth/register", {"email": email, "password": "password-1", "name": "Eve"}
    )
    assert response.json()["role"] == "USER"
    eve = anonymous.login(email, "password-1")
    assert eve.get("/api/auth/me").json()["role"] == "USER"


@pytest.mark.parametrize(
    "names",
    [
        ("X-User-Id", "X-User-Role"),
        ("X_User_Id", "X_User_Role"),
        ("X.User.Id", "X.User.Role"),
        ("x-user-id", "x-user-role"),
    ],
)
def test_identity_headers_from_clients_are_ignored(admin, anonymous, new_user, names):
    admin_id = admin.get("/api/auth/me").json()["id"]
    spoofed = {names[0]: admin_id, names[1]: "ADMIN"}
    user, ada = new_user()
    assert ada.get("/api/users", headers=spoofed).status_code == 403
    assert ada.get("/api/auth/me", headers=spoofed).json()["id"] == user["id"]
    assert anonymous.get("/api/users", headers=spoofed).status_code == 401
    assert anonymous.get("/api/devices", headers=spoofed).status_code == 401


def test_an_identity_auth_did_not_vouch_for_is_refused(stack, admin, new_user):
    """Headers that look like auth's vouching, signed with another key: Traefik
    removes them from the request, and the gateway, asked directly, does not take
    them either."""
    admin_id = admin.get("/api/auth/me").json()["id"]
    forged = Voucher(Ed25519PrivateKey.generate()).headers(admin_id, "ADMIN")
    user, ada = new_user()
    assert ada.get("/api/users", headers=forged).status_code == 403
    assert ada.get("/api/auth/me", headers=forged).json()["id"] == user["id"]
    direct = ApiClient(f"http://127.0.0.1:{stack.ports['gateway']}")
    assert direct.get("/api/users", headers=forged).status_code == 401
    # Auth's own vouching, copied from elsewhere, ends with its lifetime.
    stale = Voucher.from_pem(stack.resources.private_key.read_bytes()).headers(
        admin_id, "ADMIN", now=time.time() - LIFETIME - 1
    )
    assert direct.get("/api/users", headers=stale).status_code == 401


def test_internal_routes_are_not_routed(anonymous, admin):
    assert anonymous.get("/internal/verify").status_code == 404
    assert admin.get("/internal/verify").status_code == 404


def test_bad_input_gets_the_fields_that_are_wrong(new_user):
    _, ada = new_user()
    response = ada.post(
        "/api/devices",
        {"name": "", "kind": "toaster", "max_hourly_kwh": -1, "colour": "red"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "VALIDATION_ERROR"
    assert set(body["details"]) == {"name", "kind", "max_hourly_kwh", "colour"}
    not_json = ada.request(
        "POST",
        "/api/devices",
        data="{oops",
        headers={"Content-Type": "application/json"},
    )
    assert not_json.status_code == 400
    assert ada.get("/api/nothing-here").json()["error"] == "NOT_FOUND"


def test_repeated_failed_logins_reach_429(anonymous, new_user):
    user, _ = new_user()
    statuses = [
        anonymous.post(
            "/api/auth/login", {"email": user["email"], "password": "wrong-password"}
        ).status_code
        for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    limited = anonymous.post(
        "/api/auth/login", {"email": user["email"], "password": "password-1"}
    )
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    # A spoofed client address does not buy another five tries.
    spoofed = anonymous.post(
        "/api/auth/login",
        {"email": user["email"], "password": "password-1"},
        headers={"X-Real-Ip": "203.0.113.9", "X-Forwarded-For": "203.0.113.9"},
    )
    assert spoofed.status_code == 429


def test_health_reports_every_service(anonymous):
    # The SMTP server's state is remembered a few seconds: it may have been
    # probed before maildev was up.
    response = eventually(
        lambda: (
            (
                (answer := anonymous.get("/api/health")).json().get("dependencies")
                == {"smtp": "ok"}
            )
            and answer
        ),
        timeout=30,
    )
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "services": {
            name: "ok"
            for name in (
                "auth",
                "users",
                "devices",
                "monitoring",
                "support",
                "batteries",
                "dr",
                "trading",
                "alarms",
                "mail",
                "audit",
            )
        },
        # maildev, the stack's SMTP server, answers the mail service's probe.
        "dependencies": {"smtp": "ok"},
    }


def test_an_smtp_server_that_is_down_is_reported_and_leaves_the_platform_ok(
    stack, anonymous
):
    stack.kill("maildev")
    try:
        down = eventually(
            lambda: (
                (
                    (answer := anonymous.get("/api/health")).json()["dependencies"]
                    == {"smtp": "unreachable"}
                )
                and answer
            ),
            timeout=30,
        )
        assert down.status_code == 200
        assert down.json()["status"] == "ok"
        assert down.json()["services"]["mail"] == "ok"
    finally:
        stack.start_process("maildev")
    eventually(
        lambda: anonymous.get("/api/health").json()["dependencies"] == {"smtp": "ok"},
        timeout=30,
    )


def test_the_web_app_is_served_on_its_host(stack):
    import requests

    page = requests.get(stack.url("/"), headers={"Host": "app.localhost"}, timeout=10)
    assert page.status_code == 200 and "<html" in page.text
    assert requests.get(stack.url("/"), timeout=10).status_code == 404


@pytest.mark.parametrize("host", [None, "app.localhost"])
def test_the_api_reference_is_public_and_loads_from_our_own_origin(stack, host):
    import re

    import requests

    headers = {"Host": host} if host else {}
    page = requests.get(stack.url("/api/docs"), headers=headers, timeout=10)
    assert page.status_code == 200, page.text
    assert page.headers["Content-Type"].startswith("text/html")
    assert 'id="swagger-ui"' in page.text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assets = re.findall(r'<(?:script|link)[^>]* (?:src|href)="([^"]+)"', page.text)
    assert sorted(assets) == [
        "/api/docs/docs.js",
        "/api/docs/favicon-32x32.png",
        "/api/docs/swagger-ui-bundle.js",
        "/api/docs/swagger-ui.css",
    ]
    for asset in assets:
        loaded = requests.get(stack.url(asset), headers=headers, timeout=10)
        assert loaded.status_code == 200, asset
        assert loaded.content, asset
    script = requests.get(stack.url("/api/docs/docs.js"), headers=headers, timeout=10)
    assert '"/api/openapi.json"' in script.text
    # The rest of /api is still the API's, behind ForwardAuth.
    assert requests.get(stack.url("/api/docsx"), timeout=10).status_code == 401


class TestTamperedTokens:
    """Each forgery is refused by Traefik's ForwardAuth and by the gateway itself."""

    @pytest.fixture(scope="class")
    def victim(self, stack, anonymous):
        email = f"victim-{uuid.uuid4().hex[:8]}@example.com"
        anonymous.post(
            "/api/auth/register",
            {"email": email, "password": "password-1", "name": "V"},
        )
        client = anonymous.login(email, "password-1")
        claims = jwt.decode(client.token, options={"verify_signature": False})
        return client, claims

    @pytest.fixture(scope="class")
    def forgeries(self, stack, victim):
        from harness.tokens import tampered_tokens

        client, claims = victim
        private_key = stack.resources.private_key.read_text()
        public_key = stack.resources.public_key.read_text()
        now = int(time.time())

        def signed(**changes):
            return jwt.encode(dict(claims, **changes), private_key, algorithm="EdDSA")

        forged = tampered_tokens(client.token, public_key, claims)
        forged.update(
            {
                "expired": signed(exp=now - 5, iat=now - 60),
                "wrong_audience": signed(aud="another-platform"),
                "wrong_issuer": signed(iss="someone-else"),
            }
        )
        return forged

    @pytest.mark.parametrize(
        "forgery",
        [
            "alg_none",
            "hs256_with_public_key",
            "edited_payload",
            "other_key",
            "truncated_signature",
            "garbage",
            "expired_other_key",
            "expired",
            "wrong_audience",
            "wrong_issuer",
        ],
    )
    def test_refused_everywhere(self, stack, anonymous, forgeries, forgery):
        token = forgeries[forgery]
        through_traefik = anonymous.get("/api/devices", token=token)
        assert through_traefik.status_code == 401
        assert through_traefik.json()["error"] == "UNAUTHORIZED"
        direct = anonymous.__class__(f"http://127.0.0.1:{stack.ports['gateway']}")
        assert direct.get("/api/devices", token=token).status_code == 401

    def test_a_token_after_logout(self, stack, anonymous, victim):
        client, _ = victim
        assert client.get("/api/devices").status_code == 200
        assert client.post("/api/auth/logout").status_code == 204
        assert client.get("/api/devices").status_code == 401
        direct = anonymous.__class__(
            f"http://127.0.0.1:{stack.ports['gateway']}", client.token
        )
        assert direct.get("/api/devices").status_code == 401


def test_a_stopped_service_answers_503_not_a_hang(stack, admin, new_user):
    _, ada = new_user()
    stack.kill("devices")
    try:
        started = time.monotonic()
        response = ada.get("/api/devices")
        assert response.status_code == 503
        assert response.json()["error"] == "UNAVAILABLE"
        assert time.monotonic() - started < 15
        health = admin.get("/api/health")
        assert health.status_code == 503
        assert health.json()["services"]["devices"] == "unavailable"
        # The expired request is not acted on when the service returns.
        ada.post("/api/devices", {"name": "Late", "kind": "meter"})
    finally:
        stack.start_process("devices")
    deadline = time.monotonic() + 30
    while admin.get("/api/health").status_code != 200:
        assert time.monotonic() < deadline, stack.report()
        time.sleep(0.5)
    assert ada.get("/api/devices").json() == []
