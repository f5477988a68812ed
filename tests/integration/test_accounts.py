"""Accounts people manage themselves, on every real process: password resets by
e-mail, read from the real SMTP server's inbox (maildev)."""

import uuid

import pytest
import requests
import sqlalchemy as sa

from harness.mail import link_token, mails_to, wait_for_mail
from harness.polling import eventually

pytestmark = pytest.mark.integration


def test_a_forgotten_password_is_reset_through_the_e_mailed_link(
    stack, anonymous, new_user
):
    user, ada = new_user()
    assert ada.get("/api/auth/me").ok
    asked = anonymous.post("/api/auth/password-reset", {"email": user["email"]})
    assert asked.status_code == 202, asked.text

    mail = wait_for_mail(stack, user["email"])
    assert mail["subject"] == "Reset your EMS password"
    assert "/reset-password#token=" in mail["text"]
    token = link_token(mail)

    too_short = anonymous.post(
        "/api/auth/password-reset/confirm", {"token": token, "password": "short"}
    )
    assert too_short.status_code == 400
    assert "password" in too_short.json()["details"]

    done = anonymous.post(
        "/api/auth/password-reset/confirm",
        {"token": token, "password": "a-new-passphrase"},
    )
    assert done.status_code == 204, done.text
    # Every session of the account ended; the old password no longer works.
    assert ada.get("/api/auth/me").status_code == 401
    assert anonymous.post(
        "/api/auth/login", {"email": user["email"], "password": "password-1"}
    ).status_code in (401, 429)
    assert anonymous.login(user["email"], "a-new-passphrase").get("/api/auth/me").ok

    again = anonymous.post(
        "/api/auth/password-reset/confirm",
        {"token": token, "password": "another-passphrase"},
    )
    assert again.status_code == 410
    assert again.json()["error"] == "GONE"
    assert again.json()["details"] == {"token": ["used"]}
    assert anonymous.login(user["email"], "a-new-passphrase").get("/api/auth/me").ok


def test_an_unknown_address_is_answered_alike_and_mailed_nothing(
    stack, anonymous, new_user
):
    address = "nobody-here@example.com"
    user, _ = new_user()
    unknown = anonymous.post("/api/auth/password-reset", {"email": address})
    known = anonymous.post("/api/auth/password-reset", {"email": user["email"]})
    assert (unknown.status_code, unknown.content) == (known.status_code, known.content)
    assert unknown.status_code == 202
    # Queued after the unknown one's would have been: once it is in, nothing
    # came for the unknown address.
    wait_for_mail(stack, user["email"])
    assert mails_to(stack, address) == []


def test_only_the_newest_link_works_and_an_unknown_one_is_refused(
    stack, anonymous, new_user
):
    user, _ = new_user()
    for count in (1, 2):
        asked = anonymous.post("/api/auth/password-reset", {"email": user["email"]})
        assert asked.status_code == 202
        wait_for_mail(stack, user["email"], count)
    first, second = (link_token(mail) for mail in mails_to(stack, user["email"]))
    assert first != second
    stale = anonymous.post(
        "/api/auth/password-reset/confirm", {"token": first, "password": "passphrase-2"}
    )
    assert stale.status_code == 400
    assert stale.json()["details"] == {"token": ["invalid"]}
    assert anonymous.post(
        "/api/auth/password-reset/confirm",
        {"token": second, "password": "passphrase-2"},
    ).ok


def test_an_expired_link_is_refused(stack, anonymous, new_user):
    user, _ = new_user()
    anonymous.post("/api/auth/password-reset", {"email": user["email"]})
    token = link_token(wait_for_mail(stack, user["email"]))
    engine = sa.create_engine(stack.resources.databases["authdb"])
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE account_links SET expires_at = now() - interval '1 second' "
                "WHERE user_id = :user_id"
            ),
            {"user_id": user["id"]},
        )
    engine.dispose()
    expired = anonymous.post(
        "/api/auth/password-reset/confirm", {"token": token, "password": "passphrase-3"}
    )
    assert expired.status_code == 410
    assert expired.json()["details"] == {"token": ["expired"]}
    assert anonymous.login(user["email"], "password-1").get("/api/auth/me").ok


def test_reset_requests_are_rate_limited_like_logins(anonymous):
    address = "limited-reset@example.com"
    answers = [
        anonymous.post("/api/auth/password-reset", {"email": address}).status_code
        for _ in range(6)
    ]
    assert answers[:5] == [202] * 5
    assert answers[5] == 429


# -- sign-up verification -----------------------------------------------------------


def auth_answers(anonymous) -> bool:
    """Whether auth (just started) takes logins: a wrong password is refused."""
    answer = anonymous.post(
        "/api/auth/login", {"email": "nobody@example.com", "password": "x"}
    )
    return answer.status_code == 401


@pytest.fixture
def signup_verification(stack, anonymous):
    """The platform with ``EMS_SIGNUP_VERIFICATION=true`` for one test: auth, which
    decides, restarted with it (and without it afterwards)."""
    with stack.reconfigured("auth", {"EMS_SIGNUP_VERIFICATION": "true"}):
        eventually(lambda: auth_answers(anonymous), timeout=60)
        yield stack
    eventually(lambda: auth_answers(anonymous), timeout=60)


def test_a_sign_up_confirmed_from_its_inbox_logs_in(signup_verification, anonymous):
    stack = signup_verification
    email = f"confirm-{uuid.uuid4().hex[:8]}@example.com"
    credentials = {"email": email, "password": "password-1"}
    registered = anonymous.post("/api/auth/register", dict(credentials, name="Ada"))
    assert registered.status_code == 201, registered.text
    assert registered.json()["email_verified"] is False

    refused = anonymous.post("/api/auth/login", credentials)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "EMAIL_NOT_VERIFIED"
    assert refused.json()["details"] == {"email": ["not verified"]}

    first = wait_for_mail(stack, email)
    assert first["subject"] == "Confirm your EMS account"
    assert "/confirm-email#token=" in first["text"]
    resent = anonymous.post("/api/auth/verification/resend", {"email": email})
    unknown = anonymous.post("/api/auth/verification/resend", {"email": f"x-{email}"})
    assert (resent.status_code, resent.content) == (202, unknown.content)
    second = wait_for_mail(stack, email, 2)
    # Only the newest link works.
    stale = anonymous.post("/api/auth/email/confirm", {"token": link_token(first)})
    assert stale.status_code == 400
    assert mails_to(stack, f"x-{email}") == []

    confirmed = anonymous.post("/api/auth/email/confirm", {"token": link_token(second)})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["email"] == email
    me = anonymous.login(email, "password-1").get("/api/auth/me")
    assert me.ok and me.json()["email"] == email
    again = anonymous.post("/api/auth/email/confirm", {"token": link_token(second)})
    assert again.status_code == 410
    # The bootstrapped ADMIN needs no confirmation.
    assert (
        anonymous.login(stack.admin_email, stack.admin_password).get("/api/auth/me").ok
    )


# -- sessions ---------------------------------------------------------------------

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def test_a_user_sees_their_sessions_and_ends_one_at_once(stack, anonymous, new_user):
    user, here = new_user()
    there = anonymous.login(user["email"], "password-1")
    signed_in = anonymous.post(
        "/api/auth/login",
        {"email": user["email"], "password": "password-1"},
        headers={"User-Agent": FIREFOX},
    )
    assert signed_in.ok
    firefox_token = signed_in.json()["access_token"]

    listed = here.get("/api/auth/sessions")
    assert listed.status_code == 200, listed.text
    sessions = listed.json()
    assert len(sessions) == 3
    assert [s["current"] for s in sessions].count(True) == 1
    firefox = next(s for s in sessions if s["user_agent"] == FIREFOX)
    assert firefox["browser"] == "Firefox on Linux"
    assert firefox["created_at"] and firefox["last_used_at"]
    assert not firefox["current"]

    # Someone else's session is not found, and stays.
    _, stranger = new_user("Bob")
    assert stranger.delete(f"/api/auth/sessions/{firefox['id']}").status_code == 404
    assert here.get("/api/auth/me", token=firefox_token).ok

    ended = here.delete(f"/api/auth/sessions/{firefox['id']}")
    assert ended.status_code == 204, ended.text
    # Refused at Traefik's ForwardAuth at once, and gone from the list.
    assert here.get("/api/auth/me", token=firefox_token).status_code == 401
    verify = f"http://127.0.0.1:{stack.ports['auth']}/internal/verify"
    assert (
        requests.get(
            verify, headers={"Authorization": f"Bearer {firefox_token}"}, timeout=5
        ).status_code
        == 401
    )
    remaining = {s["id"] for s in here.get("/api/auth/sessions").json()}
    assert firefox["id"] not in remaining and len(remaining) == 2
    assert here.get("/api/auth/me").ok and there.get("/api/auth/me").ok
    assert here.delete(f"/api/auth/sessions/{firefox['id']}").status_code == 404


def test_logging_out_ends_the_listed_session(anonymous, new_user):
    user, here = new_user()
    there = anonymous.login(user["email"], "password-1")
    assert there.post("/api/auth/logout").status_code == 204
    sessions = here.get("/api/auth/sessions").json()
    assert len(sessions) == 1 and sessions[0]["current"]


# -- the caller's own account -----------------------------------------------------


def test_a_user_sets_their_name_and_preferences(new_user):
    _, ada = new_user()
    me = ada.get("/api/auth/me").json()
    assert (me["time_zone"], me["units"], me["theme"]) == ("UTC", "kWh", "system")
    changed = ada.patch(
        "/api/auth/me",
        {
            "name": "Ada L.",
            "time_zone": "Europe/Berlin",
            "units": "Wh",
            "theme": "dark",
        },
    )
    assert changed.status_code == 200, changed.text
    me = ada.get("/api/auth/me").json()
    assert (me["name"], me["time_zone"], me["units"], me["theme"]) == (
        "Ada L.",
        "Europe/Berlin",
        "Wh",
        "dark",
    )
    assert me["permissions"]

    bad = ada.patch(
        "/api/auth/me", {"time_zone": "Mars/Olympus", "units": "BTU", "theme": "pink"}
    )
    assert bad.status_code == 400
    assert set(bad.json()["details"]) == {"time_zone", "units", "theme"}
    assert ada.patch("/api/auth/me", {"role": "ADMIN"}).status_code == 400
    assert ada.get("/api/auth/me").json()["role"] == "USER"


def test_a_new_password_needs_the_current_one_and_ends_the_other_sessions(
    anonymous, new_user
):
    user, here = new_user()
    there = anonymous.login(user["email"], "password-1")
    missing = here.patch("/api/auth/me", {"password": "passphrase-9"})
    assert missing.status_code == 400
    assert "current_password" in missing.json()["details"]
    wrong = here.patch(
        "/api/auth/me", {"password": "passphrase-9", "current_password": "nope-nope"}
    )
    assert wrong.status_code == 400
    assert wrong.json()["details"] == {"current_password": ["wrong password"]}
    assert there.get("/api/auth/me").ok

    changed = here.patch(
        "/api/auth/me", {"password": "passphrase-9", "current_password": "password-1"}
    )
    assert changed.status_code == 200, changed.text
    assert here.get("/api/auth/me").ok
    assert there.get("/api/auth/me").status_code == 401
    assert len(here.get("/api/auth/sessions").json()) == 1
    assert anonymous.login(user["email"], "passphrase-9").get("/api/auth/me").ok


def test_a_new_e_mail_address_is_confirmed_from_its_inbox(stack, anonymous, new_user):
    user, ada = new_user()
    new_address = f"renamed-{user['id'][:8]}@example.org"
    wrong = ada.patch(
        "/api/auth/me", {"email": new_address, "current_password": "wrong-one"}
    )
    assert wrong.status_code == 400
    asked = ada.patch(
        "/api/auth/me", {"email": new_address, "current_password": "password-1"}
    )
    assert asked.status_code == 200, asked.text
    assert asked.json()["pending_email"] == new_address
    # Nothing changes until the link is followed.
    assert ada.get("/api/auth/me").json()["email"] == user["email"]
    mail = wait_for_mail(stack, new_address)
    assert mail["subject"] == "Confirm your new EMS e-mail address"
    assert mails_to(stack, user["email"]) == []
    token = link_token(mail)

    confirmed = anonymous.post("/api/auth/email/confirm", {"token": token})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["email"] == new_address
    assert ada.get("/api/auth/me").json()["email"] == new_address
    assert anonymous.login(new_address, "password-1").get("/api/auth/me").ok
    assert anonymous.post(
        "/api/auth/login", {"email": user["email"], "password": "password-1"}
    ).status_code in (401, 429)
    again = anonymous.post("/api/auth/email/confirm", {"token": token})
    assert again.status_code == 410


def test_an_address_of_another_account_is_refused(new_user):
    other, _ = new_user("Bob")
    _, ada = new_user()
    taken = ada.patch(
        "/api/auth/me", {"email": other["email"], "current_password": "password-1"}
    )
    assert taken.status_code == 409


def test_a_user_deletes_their_account_as_an_admin_would(admin, anonymous, new_user):
    user, ada = new_user()
    device = ada.post("/api/devices", {"name": "Meter", "kind": "meter"})
    assert device.status_code == 201, device.text
    wrong = ada.delete("/api/auth/me", json={"password": "not-it"})
    assert wrong.status_code == 400
    assert wrong.json()["details"] == {"password": ["wrong password"]}
    assert ada.get("/api/auth/me").ok

    deleted = ada.delete("/api/auth/me", json={"password": "password-1"})
    assert deleted.status_code == 204, deleted.text
    assert ada.get("/api/auth/me").status_code == 401
    assert anonymous.post(
        "/api/auth/login", {"email": user["email"], "password": "password-1"}
    ).status_code in (401, 429)
    assert admin.get(f"/api/users/{user['id']}").status_code == 404
    # Their devices go with them, through user.deleted, as after an ADMIN's delete.
    eventually(
        lambda: admin.get(f"/api/devices/{device.json()['id']}").status_code == 404
    )
    # The address is free again.
    again = anonymous.post(
        "/api/auth/register",
        {"email": user["email"], "password": "password-1", "name": "Ada"},
    )
    assert again.status_code == 201


def test_guessing_one_s_own_password_is_limited_like_logins(new_user):
    _, ada = new_user()
    answers = [
        ada.delete("/api/auth/me", json={"password": f"guess-{n}"}).status_code
        for n in range(6)
    ]
    assert answers == [400] * 5 + [429]
    right = ada.delete("/api/auth/me", json={"password": "password-1"})
    assert right.status_code == 429
    assert ada.get("/api/auth/me").ok
