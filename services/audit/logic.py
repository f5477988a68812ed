"""The audit log's rules that need no database: which actions a filter matches,
and the cursor of the next page."""

import base64
import binascii
import re
from datetime import datetime

from services.common.schemas import EARLIEST, LATEST, is_id

#: ``users.role_changed``: an area and what happened there, lower-case words
#: joined by dots.
ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
#: A filter: an action, or the start of some ending with a dot (``devices.``).
ACTION_FILTER = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\.?$")


def is_prefix(action_filter: str) -> bool:
    """Whether the filter names every action under it (``devices.``) rather than
    one action."""
    return action_filter.endswith(".") or "." not in action_filter


def prefix(action_filter: str) -> str:
    """``devices`` and ``devices.`` both mean every action of devices."""
    return action_filter if action_filter.endswith(".") else f"{action_filter}."


def cursor(at: datetime, record_id: str) -> str:
    """The next page's cursor: the last record's time and id, opaque to callers."""
    text = f"{at.isoformat()}|{record_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def parse_cursor(value: str) -> tuple[datetime, str]:
    """``(at, id)`` of a cursor ``cursor`` made; ``ValueError`` if it is none."""
    try:
        padded = value + "=" * (-len(value) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
    except (binascii.Error, UnicodeError) as exc:
        raise ValueError("not a cursor") from exc
    at, _, record_id = text.partition("|")
    moment = datetime.fromisoformat(at)
    if moment.tzinfo is None or not is_id(record_id):
        raise ValueError("not a cursor")
    try:
        in_range = EARLIEST <= moment < LATEST
    except OverflowError:
        in_range = False
    if not in_range:
        raise ValueError("not a cursor")
    return moment, record_id
