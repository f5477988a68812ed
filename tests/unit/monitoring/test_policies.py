"""Who may read a device's consumption and handle the dead letters."""

import pytest

from services.monitoring import policies

OWNER_ID = "6f1c9d2e-0000-4000-8000-0000000000aa"
OTHER_ID = "6f1c9d2e-0000-4000-8000-0000000000bb"

OWNER = {"user_id": OWNER_ID, "role": "USER"}
OTHER_USER = {"user_id": OTHER_ID, "role": "USER"}
OPERATOR = {"user_id": OTHER_ID, "role": "OPERATOR"}
ADMIN = {"user_id": OTHER_ID, "role": "ADMIN"}


@pytest.mark.parametrize(
    ("policy", "caller", "allowed"),
    [
        (policies.READ_CONSUMPTION, OWNER, True),
        (policies.READ_CONSUMPTION, OTHER_USER, False),
        (policies.READ_CONSUMPTION, OPERATOR, True),
        (policies.READ_CONSUMPTION, ADMIN, True),
        (policies.MANAGE_DEAD_LETTERS, OWNER, False),
        (policies.MANAGE_DEAD_LETTERS, OTHER_USER, False),
        (policies.MANAGE_DEAD_LETTERS, OPERATOR, False),
        (policies.MANAGE_DEAD_LETTERS, ADMIN, True),
    ],
)
def test_who_may(policy, caller, allowed):
    assert policy.allows(caller, OWNER_ID) is allowed
