"""The error types shared by every service and mapped by the gateway.

Each type carries the contract's error ``code`` and HTTP ``status``. Subclasses (a
service's own exceptions) are registered for Nameko's RPC deserialisation, so a caller
receives the same exception class that the service raised, not a ``RemoteError``.
"""

from nameko.exceptions import registry


class EmsError(Exception):
    code = "ERROR"
    status = 500

    def __init__(self, message: str = "", details: dict | None = None):
        super().__init__(message, details or {})
        self.message = message or self.__class__.__doc__.strip().splitlines()[0]
        self.details = details or {}

    def __str__(self) -> str:
        return self.message

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        registry[f"{cls.__module__}.{cls.__name__}"] = cls


class ValidationFailed(EmsError):
    """The request is not valid."""

    code = "VALIDATION_ERROR"
    status = 400


class Unauthorized(EmsError):
    """Authentication is required."""

    code = "UNAUTHORIZED"
    status = 401


class Forbidden(EmsError):
    """You may not do this."""

    code = "FORBIDDEN"
    status = 403


class NotFound(EmsError):
    """Not found."""

    code = "NOT_FOUND"
    status = 404


class Conflict(EmsError):
    """The request conflicts with the current state."""

    code = "CONFLICT"
    status = 409


class PayloadTooLarge(EmsError):
    """The request body is too large."""

    code = "PAYLOAD_TOO_LARGE"
    status = 413


class RateLimited(EmsError):
    """Too many requests."""

    code = "RATE_LIMITED"
    status = 429


class Unavailable(EmsError):
    """A service this request needs is not available; try again."""

    code = "UNAVAILABLE"
    status = 503


EXPECTED = (EmsError,)
"""What services list in ``expected_exceptions``: domain errors, not bugs."""
