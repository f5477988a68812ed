"""auth's rules, as plain functions of their inputs."""

import hashlib
import json
import re
import secrets
import uuid
from datetime import datetime, timedelta

from services.common.tokens import ROLES, Identity

#: Sessions one ``/internal/sessions`` call may ask about.
MAX_SESSIONS_PER_CHECK = 1000


def access_claims(
    user_id: str,
    role: str,
    credential_version: int,
    now: datetime,
    ttl_seconds: int,
    issuer: str,
    audience: str,
) -> dict:
    """The claims of a new access token.

    ``cv`` is the user's credential version: auth bumps it whenever the user's
    password is set by someone else or their role changes, which ends every token
    issued before, even if the role later changes back.
    """
    issued_at = int(now.timestamp())
    return {
        "sub": user_id,
        "role": role,
        "cv": credential_version,
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


def session_problem(
    identity: Identity, role: str | None, credential_version: int | None, revoked: bool
) -> str | None:
    """Why a cryptographically valid token may not be used, or None if it may.

    ``role`` and ``credential_version`` are the user's current ones, None when the
    user no longer exists.
    """
    if role is None:
        return "user no longer exists"
    if revoked:
        return "access token revoked"
    if role != identity.role:
        return "role changed; log in again"
    if credential_version != identity.credential_version:
        return "credentials changed; log in again"
    return None


def read_sessions(body: bytes) -> list[Identity] | None:
    """The identities of a ``/internal/sessions`` body, or None if it is not one."""
    try:
        data = json.loads(body or b"null")
    except ValueError:
        return None
    sessions = data.get("sessions") if isinstance(data, dict) else None
    if not isinstance(sessions, list) or len(sessions) > MAX_SESSIONS_PER_CHECK:
        return None
    identities = []
    for item in sessions:
        if not isinstance(item, dict):
            return None
        user_id, role, jti = item.get("user_id"), item.get("role"), item.get("jti")
        version = item.get("credential_version")
        if not (
            isinstance(user_id, str)
            and isinstance(jti, str)
            and role in ROLES
            and isinstance(version, int)
            and not isinstance(version, bool)
        ):
            return None
        identities.append(
            Identity(user_id, role, jti, 0, 0, credential_version=version)
        )
    return identities


#: The answer to a password reset request, whether the address is an account's.
RESET_REQUESTED = (
    "If this address belongs to an account, a link to choose a new password is on "
    "its way."
)

#: The answer to a request for the sign-up confirmation again, whether the
#: address is an unconfirmed account's.
VERIFICATION_REQUESTED = (
    "If this address belongs to an account still to be confirmed, a link to "
    "confirm it is on its way."
)

#: What an e-mailed link is for.
PASSWORD_RESET = "password_reset"
EMAIL_CHANGE = "email_change"
EMAIL_VERIFY = "email_verify"


def new_link_token() -> str:
    """A link's secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored of a link's token: its SHA-256, hex. The token is random
    and long, so no salt or slow hash is needed; a copy of the database opens no
    link."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def link_problem(
    purpose: str | None,
    expected: tuple[str, ...],
    used_at: datetime | None,
    expires_at: datetime | None,
    now: datetime,
) -> str | None:
    """Why a link may not be used: ``invalid`` (no such link, or one for
    something other than the ``expected`` purposes), ``used``, ``expired``; or
    None."""
    if purpose not in expected or expires_at is None:
        return "invalid"
    if used_at is not None:
        return "used"
    if now >= expires_at:
        return "expired"
    return None


def password_reset_mail(public_url: str, token: str, ttl_minutes: int) -> dict:
    """The subject and text of a password reset e-mail."""
    link = f"{public_url}/reset-password#token={token}"
    return {
        "subject": "Reset your EMS password",
        "text": (
            "Someone (we hope you) asked to reset the password of your EMS "
            "account.\n\n"
            f"Choose a new password here, within {ttl_minutes} minutes:\n\n"
            f"{link}\n\n"
            "The link works once. If you did not ask for it, ignore this e-mail: "
            "your password stays as it is.\n"
        ),
    }


def email_change_mail(public_url: str, token: str, ttl_minutes: int) -> dict:
    """The subject and text of the e-mail that confirms a new address."""
    link = f"{public_url}/confirm-email#token={token}"
    return {
        "subject": "Confirm your new EMS e-mail address",
        "text": (
            "Your EMS account is to use this e-mail address from now on.\n\n"
            f"Confirm it here, within {ttl_minutes} minutes:\n\n"
            f"{link}\n\n"
            "Until then the account keeps its old address. If you did not ask for "
            "this, ignore this e-mail.\n"
        ),
    }


def verification_mail(public_url: str, token: str, ttl_minutes: int) -> dict:
    """The subject and text of the e-mail that confirms a new account's address."""
    link = f"{public_url}/confirm-email#token={token}"
    return {
        "subject": "Confirm your EMS account",
        "text": (
            "Welcome to EMS. To start using your account, confirm that this "
            "e-mail address is yours.\n\n"
            f"Confirm it here, within {ttl_minutes} minutes:\n\n"
            f"{link}\n\n"
            "The link works once; the login page sends a new one if this one has "
            "expired. If you did not sign up, ignore this e-mail.\n"
        ),
    }


#: Browsers and other clients, by a token of their User-Agent, the first that
#: matches: Edge and Opera also say Chrome, Chrome also says Safari.
BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
    ("python-requests/", "python-requests"),
)
SYSTEMS = (
    ("Windows", "Windows"),
    ("iPhone", "iOS"),
    ("iPad", "iOS"),
    ("Mac OS X", "macOS"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)
HEADLESS = re.compile(r"Headless", re.IGNORECASE)


def browser(user_agent: str | None) -> str:
    """``Firefox on Linux``: what a person recognises of a session's User-Agent."""
    agent = user_agent or ""
    name = next((name for token, name in BROWSERS if token in agent), None)
    system = next((name for token, name in SYSTEMS if token in agent), None)
    if name is None:
        return "Unknown browser" + (f" on {system}" if system else "")
    if HEADLESS.search(agent):
        name = f"{name} (headless)"
    return f"{name} on {system}" if system else name


def touch_due(last: float | None, now: float, every: float) -> bool:
    """Whether a session's use should be written down: not within ``every``
    seconds of the last time this process did."""
    return last is None or now - last >= every
