"""auth's rules, as plain functions of their inputs."""

import uuid
from datetime import datetime, timedelta

from services.common.tokens import Identity


def access_claims(
    user_id: str, role: str, now: datetime, ttl_seconds: int, issuer: str, audience: str
) -> dict:
    """The claims of a new access token."""
    issued_at = int(now.timestamp())
    return {
        "sub": user_id,
        "role": role,
        "iat": issued_at,
        "exp": issued_at + ttl_seconds,
        "iss": issuer,
        "aud": audience,
        "jti": uuid.uuid4().hex,
    }


def normalize_email(email: str) -> str:
    return email.strip().lower()


def retry_after(
    failures: list[datetime], max_failures: int, window_seconds: int, now: datetime
) -> int | None:
    """Seconds until the client may try again, or None when it may try now.

    ``failures`` are the client's failed attempts within the window, oldest first.
    A client is blocked once it has ``max_failures`` of them, until the oldest one
    that keeps it at the limit leaves the window.
    """
    if len(failures) < max_failures:
        return None
    oldest_counted = failures[-max_failures]
    free_at = oldest_counted + timedelta(seconds=window_seconds)
    return max(1, int((free_at - now).total_seconds()) + 1)


def session_problem(identity: Identity, role: str | None, revoked: bool) -> str | None:
    """Why a cryptographically valid token may not be used, or None if it may.

    ``role`` is the user's current role, None when the user no longer exists.
    """
    if role is None:
        return "user no longer exists"
    if revoked:
        return "access token revoked"
    if role != identity.role:
        return "role changed; log in again"
    return None
