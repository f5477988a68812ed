"""authdb through auth's store, each test in a transaction that is rolled back."""

from datetime import UTC, datetime, timedelta

import pytest

from services.auth.storage import AuthStore

pytestmark = pytest.mark.parametrize("db_session", ["authdb"], indirect=True)

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=5)


@pytest.fixture
def store(db_session):
    return AuthStore(db_session)


def test_credentials_are_created_then_updated_in_place(store):
    store.put_credential("3d0f…-1", "ada@example.com", "USER", "hash-1")
    store.put_credential("3d0f…-1", "ada@example.com", "ADMIN", None)
    credential = store.find_credential("ada@example.com")
    assert (credential.role, credential.password_hash) == ("ADMIN", "hash-1")
    assert store.remove_credential("3d0f…-1") is True
    assert store.remove_credential("3d0f…-1") is False


def test_a_token_revoked_twice_stays_revoked_once(store):
    store.revoke("jti-1", "u-1", NOW + WINDOW)
    store.revoke("jti-1", "u-1", NOW + WINDOW)
    assert store.is_revoked("jti-1") and not store.is_revoked("jti-2")
    store.purge_expired_revocations(NOW + 2 * WINDOW)
    assert not store.is_revoked("jti-1")


def test_failures_are_counted_per_client_and_email_within_the_window(store):
    for minutes in (10, 3, 2, 1):
        store.record_failure(
            "10.0.0.1", "a@b.cd", NOW - timedelta(minutes=minutes), WINDOW
        )
    store.record_failure("10.0.0.2", "a@b.cd", NOW, WINDOW)
    recent = store.recent_failures("10.0.0.1", "a@b.cd", NOW - WINDOW)
    assert recent == [NOW - timedelta(minutes=m) for m in (3, 2, 1)]
    store.clear_failures("10.0.0.1", "a@b.cd")
    assert store.recent_failures("10.0.0.1", "a@b.cd", NOW - WINDOW) == []
    assert len(store.recent_failures("10.0.0.2", "a@b.cd", NOW - WINDOW)) == 1
