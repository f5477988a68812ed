"""auth's rules: token claims, the login rate limit, when a session may go on."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from services.auth import logic
from services.common.tokens import Identity

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_access_claims_carry_every_contract_claim():
    claims = logic.access_claims("u-1", "USER", 4, NOW, 3600, "iss", "aud")
    assert set(claims) == {"sub", "role", "iat", "exp", "iss", "aud", "jti", "cv"}
    assert claims["cv"] == 4
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["iat"] == int(NOW.timestamp())


def test_every_token_gets_its_own_id():
    first = logic.access_claims("u-1", "USER", 1, NOW, 60, "i", "a")["jti"]
    second = logic.access_claims("u-1", "USER", 1, NOW, 60, "i", "a")["jti"]
    assert first != second


def test_below_the_limit_a_client_may_try():
    failures = [NOW - timedelta(seconds=s) for s in (40, 30, 20, 10)]
    assert logic.retry_after(failures, 5, 300, NOW) is None


def test_at_the_limit_a_client_waits_until_the_oldest_counted_failure_expires():
    failures = [NOW - timedelta(seconds=s) for s in (50, 40, 30, 20, 10)]
    assert logic.retry_after(failures, 5, 300, NOW) == 251


def test_the_wait_is_at_least_a_second():
    failures = [NOW - timedelta(seconds=300)] * 5
    assert logic.retry_after(failures, 5, 300, NOW) == 1


def identity(role="USER", version=2):
    return Identity("u-1", role, "j-1", 0, 0, credential_version=version)


def test_a_session_goes_on_while_the_user_exists_with_the_same_credentials():
    assert logic.session_problem(identity(), "USER", 2, revoked=False) is None


def test_a_session_ends_when_the_user_is_gone_revoked_or_changed_role():
    assert logic.session_problem(identity(), None, None, revoked=False)
    assert logic.session_problem(identity(), "USER", 2, revoked=True)
    assert logic.session_problem(identity("ADMIN"), "USER", 2, revoked=False)


def test_a_session_ends_when_the_credential_version_moved_on():
    # The role went USER -> OPERATOR -> USER: the role matches again, the version
    # does not.
    problem = logic.session_problem(identity("USER", 2), "USER", 4, revoked=False)
    assert problem == "credentials changed; log in again"


def session(**changes):
    item = {"user_id": "u-1", "role": "USER", "jti": "j-1", "credential_version": 2}
    item.update(changes)
    return item


def test_a_sessions_body_gives_identities():
    body = json.dumps({"sessions": [session(), session(jti="j-2", role="ADMIN")]})
    first, second = logic.read_sessions(body.encode())
    assert (first.user_id, first.role, first.jti, first.credential_version) == (
        "u-1",
        "USER",
        "j-1",
        2,
    )
    assert (second.jti, second.role) == ("j-2", "ADMIN")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"sessions": {}}',
        json.dumps({"sessions": [1]}).encode(),
        json.dumps({"sessions": [session(role="ROOT")]}).encode(),
        json.dumps({"sessions": [session(credential_version="2")]}).encode(),
        json.dumps({"sessions": [session(credential_version=True)]}).encode(),
        json.dumps({"sessions": [session(user_id=None)]}).encode(),
        json.dumps({"sessions": [session()] * 1001}).encode(),
    ],
)
def test_a_bad_sessions_body_is_refused(body):
    assert logic.read_sessions(body) is None


def test_emails_compare_without_case_or_spaces():
    assert logic.normalize_email("  Ada@Example.COM ") == "ada@example.com"


# -- e-mailed links ---------------------------------------------------------------

LINK_NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def test_a_link_s_token_is_stored_as_its_sha256_only():
    token = logic.new_link_token()
    assert len(token) >= 43
    stored = logic.token_hash(token)
    assert stored == logic.token_hash(token)
    assert len(stored) == 64 and token not in stored
    assert logic.token_hash(logic.new_link_token()) != stored


@pytest.mark.parametrize(
    ("purpose", "used_at", "expires_at", "problem"),
    [
        ("password_reset", None, LINK_NOW + timedelta(minutes=1), None),
        (None, None, None, "invalid"),
        ("email_change", None, LINK_NOW + timedelta(minutes=1), "invalid"),
        ("password_reset", LINK_NOW, LINK_NOW + timedelta(minutes=1), "used"),
        ("password_reset", None, LINK_NOW, "expired"),
        ("password_reset", LINK_NOW, LINK_NOW - timedelta(minutes=1), "used"),
    ],
)
def test_a_link_works_once_for_its_purpose_until_it_expires(
    purpose, used_at, expires_at, problem
):
    assert (
        logic.link_problem(purpose, ("password_reset",), used_at, expires_at, LINK_NOW)
        == problem
    )


def test_a_confirmation_link_is_used_for_either_of_its_purposes():
    expected = ("email_change", "email_verify")
    later = LINK_NOW + timedelta(minutes=1)
    for purpose in expected:
        assert logic.link_problem(purpose, expected, None, later, LINK_NOW) is None
    assert (
        logic.link_problem("password_reset", expected, None, later, LINK_NOW)
        == "invalid"
    )


def test_the_sign_up_e_mail_links_to_the_confirmation_page():
    mail = logic.verification_mail("http://app.localhost:8080", "abc_-1", 30)
    assert mail["subject"] == "Confirm your EMS account"
    assert "http://app.localhost:8080/confirm-email#token=abc_-1" in mail["text"]
    assert "30 minutes" in mail["text"]


def test_the_reset_e_mail_carries_the_link_in_its_fragment():
    mail = logic.password_reset_mail("http://app.localhost:8080", "abc_-1", 30)
    assert "http://app.localhost:8080/reset-password#token=abc_-1" in mail["text"]
    assert "30 minutes" in mail["text"]


@pytest.mark.parametrize(
    ("agent", "named"),
    [
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Firefox on Linux",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, "
            "like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605."
            "1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
            "Safari on iOS",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/131.0.0.0 Safari/537.36",
            "Chrome (headless) on Linux",
        ),
        ("curl/8.5.0", "curl"),
        ("", "Unknown browser"),
        (None, "Unknown browser"),
    ],
)
def test_a_session_s_browser_is_named_from_its_user_agent(agent, named):
    assert logic.browser(agent) == named


def test_a_session_s_use_is_written_down_at_most_once_a_minute():
    assert logic.touch_due(None, 100.0, 60)
    assert not logic.touch_due(100.0, 159.9, 60)
    assert logic.touch_due(100.0, 160.0, 60)
