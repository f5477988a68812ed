"""The WebSocket frame of a text message, built once for every socket it goes to.

A server's frames are not masked (RFC 6455, section 5.1) and the gateway does not
compress, so the bytes of one message are the same on every socket: a fan-out
encodes them once and hands the same ``bytes`` to each socket's stream.
"""

import struct

#: FIN set, opcode 0x1: a whole text message in one frame.
FINAL_TEXT = 0x81
#: Payload lengths past 125 bytes take a 16-bit, then a 64-bit, extended length.
LENGTH_16 = 126
LENGTH_64 = 127


def text_frame(text: str) -> bytes:
    """``text`` as one final, unmasked, uncompressed text frame."""
    payload = text.encode("utf-8")
    length = len(payload)
    if length < LENGTH_16:
        header = struct.pack("!BB", FINAL_TEXT, length)
    elif length <= 0xFFFF:
        header = struct.pack("!BBH", FINAL_TEXT, LENGTH_16, length)
    else:
        header = struct.pack("!BBQ", FINAL_TEXT, LENGTH_64, length)
    return header + payload
