"""Who may read a support conversation, see the inbox and answer as staff: a table
of callers, each on a conversation of their own or another user's."""

import pytest

from services.common.policy import permissions
from services.support.policies import READ_CONVERSATION, READ_INBOX, REPLY

WRITER = "6f1c9d2e-0000-4000-8000-0000000000aa"


@pytest.mark.parametrize(
    ("role", "writer", "read", "read_inbox", "reply"),
    [
        ("USER", True, True, False, False),
        ("USER", False, False, False, False),
        ("OPERATOR", False, False, False, False),
        ("ADMIN", False, True, True, True),
    ],
)
def test_who_may(role, writer, read, read_inbox, reply):
    caller = {"user_id": WRITER if writer else "someone-else", "role": role}
    assert permissions(caller, WRITER, READ_CONVERSATION, READ_INBOX, REPLY) == {
        "read": read,
        "read_inbox": read_inbox,
        "reply": reply,
    }
