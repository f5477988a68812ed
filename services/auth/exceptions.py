"""auth's domain errors."""

from services.common.errors import Conflict, RateLimited, Unauthorized


class BadCredentials(Unauthorized):
    """Wrong e-mail address or password."""


class TooManyFailures(RateLimited):
    """Too many failed logins from this client; try again later."""


class EmailInUse(Conflict):
    """This e-mail address belongs to another account."""
