"""Who may read a support conversation, see the inbox and answer as staff."""

import pytest

from services.support import policies

USER_ID = "6f1c9d2e-0000-4000-8000-0000000000aa"
OTHER_ID = "6f1c9d2e-0000-4000-8000-0000000000bb"

OWNER = {"user_id": USER_ID, "role": "USER"}
OTHER_USER = {"user_id": OTHER_ID, "role": "USER"}
OPERATOR = {"user_id": OTHER_ID, "role": "OPERATOR"}
ADMIN = {"user_id": OTHER_ID, "role": "ADMIN"}


@pytest.mark.parametrize(
    ("policy", "caller", "allowed"),
    [
        (policies.READ_CONVERSATION, OWNER, True),
        (policies.READ_CONVERSATION, OTHER_USER, False),
        (policies.READ_CONVERSATION, OPERATOR, False),
        (policies.READ_CONVERSATION, ADMIN, True),
        (policies.READ_INBOX, OWNER, False),
        (policies.READ_INBOX, OTHER_USER, False),
        (policies.READ_INBOX, OPERATOR, False),
        (policies.READ_INBOX, ADMIN, True),
        (policies.REPLY, OWNER, False),
        (policies.REPLY, OTHER_USER, False),
        (policies.REPLY, OPERATOR, False),
        (policies.REPLY, ADMIN, True),
    ],
)
def test_who_may(policy, caller, allowed):
    """``USER_ID`` owns the conversation."""
    assert policy.allows(caller, USER_ID) is allowed
