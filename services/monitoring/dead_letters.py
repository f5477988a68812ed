"""Dead letters as monitoring keeps them: what of a message rejected to ``ems.dead``
is stored, how it is shown, and where a replay sends it.

``ems.dead`` is a queue, and a queue has no random access, so monitoring moves its
messages into a table, where an ADMIN can list, inspect, replay or purge them by id.
Most dead letters are readings, refused by the balancer or the ingest workers; those
of other consumers are kept alike.
"""

import json

from services.common.messaging import RawMessage
from services.common.topology import (
    DATA,
    EXCHANGE_HEADER,
    REASON_HEADER,
    ROUTING_KEY_HEADER,
    SERVICE_HEADER,
    SYNC,
    device_of_reading_key,
    original_routing_key,
)

#: The bytes of a body shown in a list.
PREVIEW_BYTES = 200
#: Headers the platform adds when it rejects a message; a replay leaves them off.
REJECTION_HEADERS = (REASON_HEADER, SERVICE_HEADER, EXCHANGE_HEADER)
#: Where a replay may publish. A dead letter's headers are whatever its publisher
#: wrote, so one naming another exchange (``nameko-rpc``, say) is not replayed:
#: monitoring would publish there on that publisher's behalf.
REPLAYABLE_EXCHANGES = (DATA.name, SYNC.name)


def storable(value, longest: int) -> str:
    """``value`` as text PostgreSQL stores: no NUL, no lone surrogate, cut short."""
    text = value if isinstance(value, str) else str(value)
    text = text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")
    return text[:longest]


def origin_exchange(headers: dict, routing_key: str) -> str | None:
    """The exchange a dead letter was first published to, if it can be told and
    is one a replay may publish to."""
    exchange = headers.get(EXCHANGE_HEADER)
    if exchange:
        return exchange if exchange in REPLAYABLE_EXCHANGES else None
    if device_of_reading_key(routing_key) is not None:
        return DATA.name
    return None


def record(message: RawMessage, kept_bytes: int) -> dict:
    """The columns of a dead letter: the body up to ``kept_bytes`` (a longer one,
    refused as oversized, is kept for inspection and cannot be replayed)."""
    headers = message.headers
    routing_key = original_routing_key(headers, message.routing_key)
    return {
        "reason": storable(headers.get(REASON_HEADER, "unknown"), 500),
        "service": storable(headers.get(SERVICE_HEADER, "unknown"), 100),
        "exchange": origin_exchange(headers, routing_key),
        "routing_key": storable(routing_key, 255),
        # ASCII JSON: header values may be bytes, dates or text PostgreSQL refuses.
        "headers": json.dumps(headers, ensure_ascii=True, default=str),
        "content_type": storable(message.content_type or "", 100) or None,
        "content_encoding": storable(message.content_encoding or "", 100) or None,
        "size": len(message.body),
        "body": message.body[:kept_bytes],
        "truncated": len(message.body) > kept_bytes,
    }


def preview(body: bytes, length: int = PREVIEW_BYTES) -> str:
    return body[:length].decode("utf-8", "replace")


def replay_headers(headers: dict) -> dict:
    """The headers a dead letter was first published with."""
    return {
        key: value
        for key, value in headers.items()
        if key not in REJECTION_HEADERS and key != ROUTING_KEY_HEADER
    }


def why_not_replayable(exchange: str | None, truncated: bool) -> str | None:
    if truncated:
        return "only the start of its body was kept (it was oversized)"
    if not exchange:
        return "it was not published to ems.data or ems.sync"
    return None
