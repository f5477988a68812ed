"""Who may read a device's consumption and status (its owner and staff) and handle
the dead letters (ADMIN), as a table of callers × actions."""

import pytest

from harness.policies import OWNER_ID, cases, declared
from services.monitoring import policies

#: policy: (USER owner, USER other, OPERATOR, ADMIN, VIEWER)
TABLE = {
    policies.READ_CONSUMPTION: (True, False, True, True, True),
    policies.READ_STATUS: (True, False, True, True, True),
    policies.MANAGE_DEAD_LETTERS: (False, False, False, True, False),
}


@pytest.mark.parametrize(("policy", "caller", "allowed"), cases(TABLE))
def test_who_may(policy, caller, allowed):
    assert policy.allows(caller, OWNER_ID) is allowed


def test_every_policy_is_in_the_table():
    assert declared(policies) == set(TABLE)
