"""What a message must look like before anyone decodes it.

A consumer that meets a compressed body would inflate it without limit, and one that
meets a huge body would parse all of it; no publisher of the platform sends either, so
both are refused unread, by the first consumer that sees them.
"""

#: The header kombu sets on a compressed body (and inflates on receipt).
COMPRESSION_HEADER = "compression"
#: The largest body a consumer reads, unless configured otherwise: a reading or an
#: entity event is well under 1 KiB.
MAX_BODY_BYTES = 64 * 1024


def refusal(headers: dict | None, size: int, max_bytes: int) -> str | None:
    """Why a message of ``size`` bytes with ``headers`` is refused unread, or None."""
    compression = (headers or {}).get(COMPRESSION_HEADER)
    if compression:
        return f"compressed body ({str(compression)[:40]}): refused unread"
    if size > max_bytes:
        return f"body of {size} bytes is over the limit of {max_bytes}: refused unread"
    return None


def as_bytes(body, encoding: str | None) -> bytes:
    """A body as it travelled: py-amqp hands over text when the message names a
    content encoding it could decode."""
    if isinstance(body, str):
        return body.encode(encoding or "utf-8", "surrogateescape")
    return body or b""
