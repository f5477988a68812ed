"""Where a message of ``ems.ws`` goes, read from its routing key and body.

A routing key is ``user.<user_id>.<type>`` or ``role.<ROLE>.<type>``; the type may
hold dots itself (``session.ended``, ``chat.message``). A type of the catalogue
(``services.common.pushes``) goes only to the audience it declares there: a user
when it concerns one, and the roles it names. The body is a client message
``{"type": ..., "data": ..., "ts": ...}``, forwarded to browsers as it is, with
``request_id`` added when it was published for a request (its header
``nameko.correlation_id``): the id the request's response carried.
"""

import json
from typing import NamedTuple

from services.common import tracing
from services.common.policy import ROLES
from services.common.pushes import CATALOGUE

USER = "user"
ROLE = "role"


class Undeliverable(Exception):
    """A message no socket can be given; the text says why."""


class Destination(NamedTuple):
    """Whom a message is for: one user (``USER``) or every user of a role."""

    audience: str
    name: str
    message_type: str


def destination(routing_key: str) -> Destination:
    """The destination a routing key names, or ``Undeliverable``."""
    audience, _, rest = routing_key.partition(".")
    name, _, message_type = rest.partition(".")
    if audience not in (USER, ROLE) or not name or not message_type:
        raise Undeliverable(
            f"not user.<id>.<type> or role.<ROLE>.<type>: {routing_key!r}"
        )
    if audience == ROLE and name not in ROLES:
        raise Undeliverable(f"unknown role {name!r} in {routing_key!r}")
    push = CATALOGUE.get(message_type)
    if push is not None:
        if audience == USER and not push.to_user:
            raise Undeliverable(f"{message_type} is for roles, not users")
        if audience == ROLE and name not in push.roles:
            raise Undeliverable(f"{message_type} is not for role {name}")
    return Destination(audience, name, message_type)


def decode(body: bytes) -> tuple[str, dict]:
    """The body as the text to send and as a dict, or ``Undeliverable``."""
    try:
        text = body.decode("utf-8")
        message = json.loads(text)
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError alike
        raise Undeliverable(f"body is not UTF-8 JSON: {exc}") from exc
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise Undeliverable("body is not a client message {type, data, ts}")
    return text, message


def session_jti(message: dict) -> str | None:
    """The token a ``session.ended`` message is about, if it names one (a logout
    ends that session only)."""
    data = message.get("data")
    jti = data.get("jti") if isinstance(data, dict) else None
    return str(jti) if jti else None


def traced(text: str, message: dict, headers: dict | None) -> tuple[str, dict]:
    """The message with the ``request_id`` it was published for, if any: the
    header ``nameko.correlation_id``, if sane. Clients that do not know the field
    ignore it."""
    correlation_id = tracing.sane((headers or {}).get(tracing.AMQP_HEADER))
    if correlation_id is None or "request_id" in message:
        return text, message
    message = {**message, "request_id": correlation_id}
    return json.dumps(message), message
