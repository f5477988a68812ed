"""auth's rules: token claims, the login rate limit, when a session may go on."""

from datetime import UTC, datetime, timedelta

from services.auth import logic
from services.common.tokens import Identity

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_access_claims_carry_every_contract_claim():
    claims = logic.access_claims("u-1", "USER", NOW, 3600, "iss", "aud")
    assert set(claims) == {"sub", "role", "iat", "exp", "iss", "aud", "jti"}
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["iat"] == int(NOW.timestamp())


def test_every_token_gets_its_own_id():
    first = logic.access_claims("u-1", "USER", NOW, 60, "i", "a")["jti"]
    second = logic.access_claims("u-1", "USER", NOW, 60, "i", "a")["jti"]
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


def identity(role="USER"):
    return Identity("u-1", role, "j-1", 0, 0)


def test_a_session_goes_on_while_the_user_exists_with_the_same_role():
    assert logic.session_problem(identity(), "USER", revoked=False) is None


def test_a_session_ends_when_the_user_is_gone_revoked_or_changed_role():
    assert logic.session_problem(identity(), None, revoked=False)
    assert logic.session_problem(identity(), "USER", revoked=True)
    assert logic.session_problem(identity("ADMIN"), "USER", revoked=False)


def test_emails_compare_without_case_or_spaces():
    assert logic.normalize_email("  Ada@Example.COM ") == "ada@example.com"
