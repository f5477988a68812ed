"""Who may read a device's consumption (its owner and staff) and handle the dead
letters (ADMIN)."""

import pytest

from services.monitoring.policies import MANAGE_DEAD_LETTERS, READ_CONSUMPTION

OWNER_ID = "6f1c9d2e-0000-4000-8000-0000000000aa"
STRANGER_ID = "6f1c9d2e-0000-4000-8000-0000000000bb"

CASES = {
    "the owner, a USER": ({"user_id": OWNER_ID, "role": "USER"}, True, False),
    "another USER": ({"user_id": STRANGER_ID, "role": "USER"}, False, False),
    "an OPERATOR": ({"user_id": STRANGER_ID, "role": "OPERATOR"}, True, False),
    "an ADMIN": ({"user_id": STRANGER_ID, "role": "ADMIN"}, True, True),
}


@pytest.mark.parametrize("who", CASES)
def test_who_may(who):
    caller, read_consumption, manage_dead_letters = CASES[who]
    assert READ_CONSUMPTION.allows(caller, OWNER_ID) is read_consumption
    assert MANAGE_DEAD_LETTERS.allows(caller, OWNER_ID) is manage_dead_letters
