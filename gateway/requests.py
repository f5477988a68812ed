"""What the edge reads from a request: its JSON body, within limits on its shape,
and the client's address. The route rows are in ``gateway/api/``."""

import json
import math

from services.common.errors import ValidationFailed

#: The most values (objects, arrays, strings, numbers …) a body may hold, and how
#: deep it may nest. The largest body a route takes, a DR invitation of 500 users,
#: holds about 500 values and nests 2 deep. The limits keep the time spent parsing
#: and validating any body to a few milliseconds, during which the gateway's other
#: requests wait.
MAX_VALUES = 2_000
MAX_DEPTH = 32
#: What a body's text may hold before it is parsed at all: commas and brackets are
#: a cheap upper bound on its number of values (text inside strings counts too).
MAX_SEPARATORS = 5 * MAX_VALUES
#: JSON integers must fit in 64 bits, as every integer the platform stores does.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


class _Refused(ValueError):
    """A body that is JSON but not one the gateway will take."""


def _integer(text: str) -> int:
    # Checking the length first keeps a 4,000-digit number from costing a
    # quadratic conversion.
    if len(text) > 20 or not INT_MIN <= int(text) <= INT_MAX:
        raise _Refused("integers must fit in 64 bits")
    return int(text)


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused("numbers must be finite")
    return value


def _constant(text: str):
    raise _Refused(f"{text} is not a JSON number")


def _check_shape(body) -> None:
    """Refuse a body with more than ``MAX_VALUES`` values or ``MAX_DEPTH`` levels."""
    pending, seen = [(body, 1)], 0
    while pending:
        value, depth = pending.pop()
        seen += 1
        if seen > MAX_VALUES:
            raise _Refused(f"a body may hold at most {MAX_VALUES} values")
        if depth > MAX_DEPTH:
            raise _Refused(f"a body may nest at most {MAX_DEPTH} levels deep")
        if isinstance(value, dict):
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)


def parse_json(raw: bytes):
    """``raw`` parsed as JSON; 400 if it is not JSON or not a shape any route takes."""
    try:
        if sum(raw.count(char) for char in (b",", b"[", b"{")) > MAX_SEPARATORS:
            raise _Refused(f"a body may hold at most {MAX_VALUES} values")
        body = json.loads(
            raw or b"null",
            parse_int=_integer,
            parse_float=_number,
            parse_constant=_constant,
        )
        _check_shape(body)
    except _Refused as exc:
        raise ValidationFailed(str(exc), {"_schema": [str(exc)]}) from exc
    except RecursionError as exc:
        message = f"a body may nest at most {MAX_DEPTH} levels deep"
        raise ValidationFailed(message, {"_schema": [message]}) from exc
    except ValueError as exc:
        raise ValidationFailed(
            "the body is not valid JSON", {"_schema": ["invalid JSON"]}
        ) from exc
    return body


def client_address(request) -> str:
    """The client's address as Traefik saw it (it overwrites X-Real-Ip)."""
    return request.headers.get("X-Real-Ip") or request.remote_addr or "unknown"
