"""auth's domain errors."""

from services.common.errors import Conflict, RateLimited, Unauthorized, Unavailable


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
