"""auth's domain errors."""

from services.common.errors import (
    Conflict,
    EmsError,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
    ValidationFailed,
)


class BadCredentials(Unauthorized):
    """Wrong e-mail address or password."""


class TooManyFailures(RateLimited):
    """Too many failed logins from this client; try again later."""


class TooManyRegistrations(RateLimited):
    """Too many accounts registered from this client; try again later."""


class HashingBusy(Unavailable):
    """Too many passwords are being checked right now; try again shortly."""


class EmailInUse(Conflict):
    """This e-mail address belongs to another account."""


class TooManyResetRequests(RateLimited):
    """Too many password resets asked for from this client; try again later."""


class TooManyVerificationRequests(RateLimited):
    """Too many confirmation e-mails asked for from this client; try again later."""


class EmailNotVerified(Forbidden):
    """Confirm your e-mail address first: follow the link we e-mailed you, or ask
    for a new one."""

    code = "EMAIL_NOT_VERIFIED"


class LinkInvalid(ValidationFailed):
    """This link is not valid; ask for a new one."""


class LinkGone(EmsError):
    """This link can no longer be used; ask for a new one."""

    code = "GONE"
    status = 410


class LinkUsed(LinkGone):
    """This link was used already; ask for a new one."""


class LinkExpired(LinkGone):
    """This link has expired; ask for a new one."""


class SessionNotFound(NotFound):
    """Session not found."""


class WrongPassword(ValidationFailed):
    """The password is not right."""
