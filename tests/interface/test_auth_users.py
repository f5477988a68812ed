"""auth and users in their containers, on a real broker and real databases."""

import json
import time

import jwt
import pytest
import requests
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import text

from services.auth.exceptions import (
    BadCredentials,
    EmailNotVerified,
    LinkInvalid,
    LinkUsed,
    TooManyFailures,
    TooManyRegistrations,
    TooManyVerificationRequests,
)
from services.auth.identities import IdentityCache
from services.auth.service import AuthService
from services.common.errors import Forbidden, ValidationFailed
from services.common.tokens import InvalidToken
from services.common.topology import MAIL_SEND, SYNC, WS
from services.users.exceptions import EmailTaken, UserNotFound
from services.users.service import UsersService

pytestmark = pytest.mark.usefixtures("clean_databases")

RATE_LIMIT = {"max_failures": 3, "max_failures_per_client": 5, "window_seconds": 300}
REGISTRATION_LIMIT = {"max_per_client": 2, "window_seconds": 300}
HASHING = {"threads": 2, "max_waiting": 4, "niceness": 10}


@pytest.fixture
def auth_address():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


@pytest.fixture
def signup_verification():
    """Whether sign-ups must be confirmed; a test turns it on by parametrizing it."""
    return False


@pytest.fixture
def services(container_factory, service_config, auth_address, signup_verification):
    auth = container_factory(
        AuthService,
        service_config(
            "auth",
            LOGIN_RATE_LIMIT=RATE_LIMIT,
            REGISTRATION_RATE_LIMIT=REGISTRATION_LIMIT,
            PASSWORD_HASHING=HASHING,
            WEB_SERVER_ADDRESS=auth_address,
            SIGNUP_VERIFICATION=signup_verification,
        ),
    )
    users = container_factory(UsersService, service_config("users"))
    auth.start()
    users.start()
    # Every test checks tokens as a running auth does: remembering them.
    [cache] = [e for e in auth.extensions if isinstance(e, IdentityCache)]
    deadline = time.monotonic() + 10
    while not cache.identities.listening:
        assert time.monotonic() < deadline, "auth does not listen on authdb"
        time.sleep(0.01)
    return service_config()


@pytest.fixture
def users_rpc(services):
    with ServiceRpcProxy("users", services) as proxy:
        yield proxy


@pytest.fixture
def auth_rpc(services):
    with ServiceRpcProxy("auth", services) as proxy:
        yield proxy


#: The caller of the RPCs that manage users.
ADMIN = {"user_id": "a-1", "role": "ADMIN"}


def register(users_rpc, email="ada@example.com", password="password1"):
    # Each from its own address: registrations are counted per client.
    body = {"email": email, "password": password, "name": "Ada"}
    return users_rpc.register(body, f"client-of-{email}")


def test_a_registered_user_logs_in_and_is_identified(users_rpc, auth_rpc):
    user = register(users_rpc)
    token = auth_rpc.login(
        {"email": "ADA@example.com", "password": "password1"}, "10.0.0.1"
    )
    assert token["token_type"] == "Bearer"
    identity = auth_rpc.check(token["access_token"])
    assert identity["user_id"] == user["id"]
    assert identity["role"] == "USER"


def test_a_check_reads_what_it_remembers_until_authdb_says_it_changed(
    services, users_rpc, auth_rpc, engines
):
    """Every auth process remembers the users and tokens it checked, and forgets
    them when authdb announces a change (another process's commit, here made in
    SQL): a token check asks the database nothing, and a change takes effect at
    once."""
    user = register(users_rpc)
    token = auth_rpc.login({"email": "ada@example.com", "password": "password1"}, "c")[
        "access_token"
    ]
    assert auth_rpc.check(token)["role"] == "USER"
    with engines["authdb"].begin() as connection:
        # Unannounced, a change is not seen: the check answers from memory.
        connection.execute(text("ALTER TABLE credentials DISABLE TRIGGER USER"))
        connection.execute(
            text("UPDATE credentials SET role = 'OPERATOR' WHERE user_id = :id"),
            {"id": user["id"]},
        )
        connection.execute(text("ALTER TABLE credentials ENABLE TRIGGER USER"))
    assert auth_rpc.check(token)["role"] == "USER"
    with engines["authdb"].begin() as connection:
        connection.execute(
            text("SELECT pg_notify('auth_identity', :payload)"),
            {"payload": f"user:{user['id']}"},
        )
    refused_soon(auth_rpc, token, "role changed")

    fresh = auth_rpc.login({"email": "ada@example.com", "password": "password1"}, "c")
    token = fresh["access_token"]
    assert auth_rpc.check(token)["role"] == "OPERATOR"
    # A revocation committed by another process: its trigger announces it.
    claims = jwt.decode(token, options={"verify_signature": False})
    with engines["authdb"].begin() as connection:
        connection.execute(
            text(
                "INSERT INTO revoked_tokens (jti, user_id, expires_at) "
                "VALUES (:jti, :user_id, now() + interval '1 hour')"
            ),
            {"jti": claims["jti"], "user_id": user["id"]},
        )
    refused_soon(auth_rpc, token, "revoked")


def refused_soon(auth_rpc, token, reason, within=1.0):
    """The token is refused for ``reason`` within ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        try:
            auth_rpc.check(token)
        except InvalidToken as exc:
            assert reason in str(exc)
            return
        assert time.monotonic() < deadline, "still accepted"
        time.sleep(0.02)


def test_register_always_makes_a_user(users_rpc):
    with pytest.raises(Exception):  # noqa: B017 - the schema refuses the field
        users_rpc.register(
            {"email": "a@b.cd", "password": "password1", "name": "A", "role": "ADMIN"},
            "10.0.0.13",
        )
    assert register(users_rpc)["role"] == "USER"


def test_an_email_registers_once(users_rpc):
    register(users_rpc)
    with pytest.raises(EmailTaken):
        register(users_rpc, email="Ada@Example.com")


def test_wrong_passwords_are_refused_then_rate_limited(users_rpc, auth_rpc):
    register(users_rpc)
    for _ in range(RATE_LIMIT["max_failures"]):
        with pytest.raises(BadCredentials):
            auth_rpc.login(
                {"email": "ada@example.com", "password": "wrong-password"}, "10.0.0.2"
            )
    with pytest.raises(TooManyFailures) as caught:
        auth_rpc.login(
            {"email": "ada@example.com", "password": "password1"}, "10.0.0.2"
        )
    assert int(caught.value.details["retry_after"]) > 0
    # Another client is not held back by this one's failures.
    assert auth_rpc.login(
        {"email": "ada@example.com", "password": "password1"}, "10.0.0.3"
    )


def test_one_client_failing_on_many_e_mails_is_rate_limited(users_rpc, auth_rpc):
    register(users_rpc)
    # One wrong guess each on many accounts: under the per-address-and-e-mail limit
    # every time, over the per-address one in total.
    for number in range(RATE_LIMIT["max_failures_per_client"]):
        with pytest.raises(BadCredentials):
            auth_rpc.login(
                {"email": f"victim-{number}@example.com", "password": "guess"},
                "10.0.0.9",
            )
    with pytest.raises(TooManyFailures) as caught:
        auth_rpc.login(
            {"email": "ada@example.com", "password": "password1"}, "10.0.0.9"
        )
    assert int(caught.value.details["retry_after"]) > 0
    assert auth_rpc.login(
        {"email": "ada@example.com", "password": "password1"}, "10.0.0.10"
    )


def test_registrations_are_rate_limited_per_client(auth_rpc):
    for _ in range(REGISTRATION_LIMIT["max_per_client"]):
        auth_rpc.admit_registration("10.0.0.11")
    with pytest.raises(TooManyRegistrations) as caught:
        auth_rpc.admit_registration("10.0.0.11")
    assert int(caught.value.details["retry_after"]) > 0
    auth_rpc.admit_registration("10.0.0.12")


def test_unknown_emails_are_refused_like_wrong_passwords(auth_rpc):
    with pytest.raises(BadCredentials):
        auth_rpc.login(
            {"email": "nobody@example.com", "password": "password1"}, "10.0.0.4"
        )


def test_logout_revokes_the_token_and_ends_the_session(users_rpc, auth_rpc, listen):
    sockets = listen(WS, "user.*.session.ended")
    user = register(users_rpc)
    token = auth_rpc.login({"email": "ada@example.com", "password": "password1"}, "c")[
        "access_token"
    ]
    auth_rpc.logout({"user_id": user["id"], "role": "USER"}, token)
    with pytest.raises(InvalidToken):
        auth_rpc.check(token)
    key, message = sockets.messages(until=1)[0]
    assert key == f"user.{user['id']}.session.ended"
    assert message["data"]["reason"] == "logout"


def test_a_demoted_user_s_token_stops_working_at_once(users_rpc, auth_rpc):
    user = users_rpc.create_user(
        ADMIN,
        {
            "email": "op@example.com",
            "password": "password1",
            "name": "Op",
            "role": "OPERATOR",
        },
    )
    token = auth_rpc.login({"email": "op@example.com", "password": "password1"}, "c")[
        "access_token"
    ]
    users_rpc.update_user(ADMIN, user["id"], {"role": "USER"})
    with pytest.raises(InvalidToken):
        auth_rpc.check(token)
    fresh = auth_rpc.login({"email": "op@example.com", "password": "password1"}, "c")[
        "access_token"
    ]
    assert auth_rpc.check(fresh)["role"] == "USER"


def test_a_role_changed_back_does_not_revive_old_tokens(users_rpc, auth_rpc):
    user = register(users_rpc)
    token = auth_rpc.login({"email": "ada@example.com", "password": "password1"}, "c")[
        "access_token"
    ]
    users_rpc.update_user(ADMIN, user["id"], {"role": "OPERATOR"})
    users_rpc.update_user(ADMIN, user["id"], {"role": "USER"})
    with pytest.raises(InvalidToken, match="credentials changed"):
        auth_rpc.check(token)
    fresh = auth_rpc.login({"email": "ada@example.com", "password": "password1"}, "c")[
        "access_token"
    ]
    claims = jwt.decode(fresh, options={"verify_signature": False})
    assert claims["cv"] == 3
    assert auth_rpc.check(fresh)["credential_version"] == 3


def test_a_password_set_by_an_admin_ends_the_sessions(users_rpc, auth_rpc, listen):
    sockets = listen(WS, "user.*.session.ended")
    user = register(users_rpc)
    token = auth_rpc.login({"email": "ada@example.com", "password": "password1"}, "c")[
        "access_token"
    ]
    users_rpc.update_user(ADMIN, user["id"], {"password": "password2"})
    with pytest.raises(InvalidToken):
        auth_rpc.check(token)
    key, message = sockets.messages(until=1)[0]
    assert key == f"user.{user['id']}.session.ended"
    assert message["data"] == {"reason": "password_changed"}
    assert auth_rpc.check(
        auth_rpc.login({"email": "ada@example.com", "password": "password2"}, "c")[
            "access_token"
        ]
    )


def test_other_changes_keep_the_sessions(users_rpc, auth_rpc):
    user = register(users_rpc)
    token = auth_rpc.login({"email": "ada@example.com", "password": "password1"}, "c")[
        "access_token"
    ]
    users_rpc.update_user(
        ADMIN, user["id"], {"name": "Ada L.", "email": "ada@example.org"}
    )
    # The same password again (how bootstrap keeps the ADMIN as configured).
    users_rpc.update_user(ADMIN, user["id"], {"password": "password1"})
    assert auth_rpc.check(token)["user_id"] == user["id"]


def test_many_sessions_are_checked_in_one_call(users_rpc, auth_rpc, auth_address):
    ada = register(users_rpc)
    bob = register(users_rpc, email="bob@example.com")
    tokens = {
        name: auth_rpc.login({"email": email, "password": "password1"}, "c")[
            "access_token"
        ]
        for name, email in [
            ("ada", "ada@example.com"),
            ("ada_logged_out", "ada@example.com"),
            ("bob", "bob@example.com"),
        ]
    }
    identities = {name: auth_rpc.check(token) for name, token in tokens.items()}
    auth_rpc.logout({"user_id": ada["id"], "role": "USER"}, tokens["ada_logged_out"])
    users_rpc.update_user(ADMIN, bob["id"], {"role": "OPERATOR"})
    gone = dict(identities["ada"], user_id="no-such-user", jti="j-gone")
    sessions = [*identities.values(), gone]
    response = requests.post(
        f"http://{auth_address}/internal/sessions",
        data=json.dumps({"sessions": sessions}),
        timeout=5,
    )
    assert response.status_code == 200
    ended = {item["jti"]: item["reason"] for item in response.json()["ended"]}
    assert ended == {
        identities["ada_logged_out"]["jti"]: "access token revoked",
        identities["bob"]["jti"]: "role changed; log in again",
        "j-gone": "user no longer exists",
    }
    assert ada["id"] == identities["ada"]["user_id"]
    bad = requests.post(
        f"http://{auth_address}/internal/sessions", data=b"[1]", timeout=5
    )
    assert bad.status_code == 400


def test_a_deleted_user_s_token_stops_working_at_once(users_rpc, auth_rpc, listen):
    events = listen(SYNC, "user.*")
    user = register(users_rpc)
    token = auth_rpc.login({"email": "ada@example.com", "password": "password1"}, "c")[
        "access_token"
    ]
    users_rpc.delete_user(ADMIN, user["id"])
    with pytest.raises(InvalidToken):
        auth_rpc.check(token)
    with pytest.raises(BadCredentials):
        auth_rpc.login({"email": "ada@example.com", "password": "password1"}, "c")
    with pytest.raises(UserNotFound):
        users_rpc.get_user(ADMIN, user["id"])
    assert [key for key, _ in events.messages(until=2)] == [
        "user.created",
        "user.deleted",
    ]


def test_every_change_is_published_on_ems_sync(users_rpc, listen):
    events = listen(SYNC, "user.*")
    user = register(users_rpc)
    users_rpc.update_user(ADMIN, user["id"], {"name": "Ada L."})
    users_rpc.delete_user(ADMIN, user["id"])
    received = events.messages(until=3)
    assert [key for key, _ in received] == [
        "user.created",
        "user.updated",
        "user.deleted",
    ]
    assert received[1][1]["user"]["name"] == "Ada L."
    assert "password" not in str(received)


def test_ensure_account_creates_then_resets_the_account(users_rpc, auth_rpc):
    first = users_rpc.ensure_account("root@example.com", "password1", "Root", "USER")
    again = users_rpc.ensure_account("root@example.com", "password2", "Root", "ADMIN")
    assert first["id"] == again["id"] and again["role"] == "ADMIN"
    with pytest.raises(BadCredentials):
        auth_rpc.login({"email": "root@example.com", "password": "password1"}, "c")
    assert auth_rpc.login({"email": "root@example.com", "password": "password2"}, "c")


def test_staff_find_people_by_name_or_e_mail(users_rpc):
    def add(email, name):
        return users_rpc.create_user(
            ADMIN, {"email": email, "password": "password1", "name": name}
        )

    ada = add("ada@example.com", "Ada Lovelace")
    grace = add("grace@navy.example", "Grace Hopper")
    percent = add("p100@example.com", "100% Ada")
    operator = {"user_id": grace["id"], "role": "OPERATOR"}
    admin = {"user_id": ada["id"], "role": "ADMIN"}

    def names(caller, query):
        return [user["name"] for user in users_rpc.find_users(caller, query)]

    assert names(operator, {"q": " ADA "}) == ["100% Ada", "Ada Lovelace"]
    assert names(admin, {"q": "navy"}) == ["Grace Hopper"]
    assert names(operator, {"q": "%"}) == ["100% Ada"]  # a plain character
    assert names(operator, {"q": "_"}) == []
    assert names(admin, {}) == ["100% Ada", "Ada Lovelace", "Grace Hopper"]
    assert names(admin, {"limit": "2"}) == ["100% Ada", "Ada Lovelace"]
    [found] = users_rpc.find_users(operator, {"q": "p100"})
    assert found == percent and "password" not in found
    with pytest.raises(Forbidden):
        users_rpc.find_users({"user_id": ada["id"], "role": "USER"}, {"q": "a"})
    for bad in ({"limit": "0"}, {"limit": "1001"}, {"q": "x" * 255}, {"who": "a"}):
        with pytest.raises(ValidationFailed) as caught:
            users_rpc.find_users(admin, bad)
        assert set(caught.value.details) == set(bad)


def test_other_services_are_told_who_a_user_is(users_rpc):
    user = register(users_rpc)
    assert user.pop("email_verified") is True
    assert users_rpc.describe_user(user["id"]) == user
    missing = "6f1c9d2e-0000-4000-8000-0000000000ff"
    assert users_rpc.describe_users([missing, user["id"], "not-an-id"]) == [user]
    assert users_rpc.describe_users([]) == []
    for missing in ("6f1c9d2e-0000-4000-8000-0000000000ff", "not-an-id"):
        with pytest.raises(UserNotFound):
            users_rpc.describe_user(missing)
    # By the address they are known by, in any case (a site's owner adds them).
    assert users_rpc.describe_user_by_email(" ADA@example.com ") == user
    with pytest.raises(UserNotFound):
        users_rpc.describe_user_by_email("nobody@example.com")


def link_token(mail: dict) -> str:
    return mail["text"].split("#token=")[1].split()[0]


@pytest.mark.parametrize("signup_verification", [True])
def test_a_sign_up_logs_in_once_its_e_mailed_link_is_followed(
    users_rpc, auth_rpc, listen
):
    outbox = listen(SYNC, MAIL_SEND)
    user = register(users_rpc)
    assert user["email_verified"] is False
    [(_, mail)] = outbox.messages(until=1)
    assert mail["to"] == "ada@example.com"
    assert mail["subject"] == "Confirm your EMS account"
    credentials = {"email": "ada@example.com", "password": "password1"}
    with pytest.raises(EmailNotVerified) as refused:
        auth_rpc.login(credentials, "10.0.1.1")
    assert refused.value.code == "EMAIL_NOT_VERIFIED"
    assert refused.value.status == 403
    # A wrong password is refused as for any account: the state is not told.
    with pytest.raises(BadCredentials):
        auth_rpc.login(dict(credentials, password="wrong-one"), "10.0.1.1")

    confirmed = users_rpc.confirm_email_change({"token": link_token(mail)})
    assert confirmed["id"] == user["id"]
    assert confirmed["email"] == "ada@example.com"
    assert auth_rpc.login(credentials, "10.0.1.1")["token_type"] == "Bearer"
    with pytest.raises(LinkUsed):
        users_rpc.confirm_email_change({"token": link_token(mail)})


@pytest.mark.parametrize("signup_verification", [True])
def test_the_confirmation_is_sent_again_only_to_an_unconfirmed_account(
    users_rpc, auth_rpc, listen
):
    outbox = listen(SYNC, MAIL_SEND)
    register(users_rpc)
    users_rpc.create_user(
        ADMIN,
        {"email": "op@example.com", "password": "password1", "name": "Op"},
    )
    [(_, first)] = outbox.messages(until=1)
    answers = {
        json.dumps(auth_rpc.resend_verification({"email": email}, "10.0.1.2"))
        for email in ("ADA@example.com", "op@example.com", "nobody@example.com")
    }
    assert len(answers) == 1
    [(_, second)] = outbox.messages(until=1)
    assert second["to"] == "ada@example.com"
    # The newest link is the one that works.
    with pytest.raises(LinkInvalid) as stale:
        users_rpc.confirm_email_change({"token": link_token(first)})
    assert stale.value.details == {"token": ["invalid"]}
    users_rpc.confirm_email_change({"token": link_token(second)})
    auth_rpc.login({"email": "ada@example.com", "password": "password1"}, "10.0.1.2")
    # Asking is limited as password resets are, per client and address.
    for _ in range(RATE_LIMIT["max_failures"] - 1):
        auth_rpc.resend_verification({"email": "ada@example.com"}, "10.0.1.2")
    with pytest.raises(TooManyVerificationRequests):
        auth_rpc.resend_verification({"email": "ada@example.com"}, "10.0.1.2")
    assert outbox.messages(wait=0.5) == []


def test_without_sign_up_verification_a_new_account_logs_in_at_once(
    users_rpc, auth_rpc, listen
):
    outbox = listen(SYNC, MAIL_SEND)
    assert register(users_rpc)["email_verified"] is True
    assert auth_rpc.login({"email": "ada@example.com", "password": "password1"}, "c")
    assert outbox.messages(wait=0.5) == []
