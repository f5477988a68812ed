"""What ``ems prepare`` sets on the broker beyond declarations: the bound of
``ems.dead``, as a RabbitMQ policy through the management API.

A policy rather than queue arguments: ``ems.dead`` exists on every installation
already, and declaring it again with other arguments fails (PRECONDITION_FAILED)
for every process that declares it; a policy applies to the existing queue and can
be changed later without touching a single declaration.
"""

from urllib.parse import quote, unquote, urlsplit

import requests

from services.common.topology import DEAD

POLICY = "ems-dead-letters"


def vhost_of(amqp_uri: str) -> str:
    """The virtual host an AMQP URI names (``/`` when it names none)."""
    path = urlsplit(amqp_uri).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def dead_letter_policy(max_length: int, max_bytes: int) -> dict:
    """At most ``max_length`` messages and ``max_bytes`` bytes in ``ems.dead``;
    beyond that the oldest are dropped (drop-head), so the newest rejections, those
    an operator is looking for, are kept and publishers are never refused."""
    return {
        "pattern": f"^{DEAD.name.replace('.', '[.]')}$",
        "apply-to": "queues",
        "priority": 10,
        "definition": {
            "max-length": max_length,
            "max-length-bytes": max_bytes,
            "overflow": "drop-head",
        },
    }


def apply_dead_letter_policy(
    management_uri: str, amqp_uri: str, max_length: int, max_bytes: int
) -> None:
    parts = urlsplit(management_uri)
    api = f"{parts.scheme}://{parts.hostname}:{parts.port}/api"
    vhost = quote(vhost_of(amqp_uri), safe="")
    requests.put(
        f"{api}/policies/{vhost}/{POLICY}",
        json=dead_letter_policy(max_length, max_bytes),
        auth=(unquote(parts.username or "guest"), unquote(parts.password or "guest")),
        timeout=10,
    ).raise_for_status()
