"""Who may manage accounts and find people, as a table of callers × actions."""

import pytest

from harness.policies import OWNER_ID, cases, declared
from services.users import policies

#: policy: (USER owner, USER other, OPERATOR, ADMIN, VIEWER)
TABLE = {
    policies.READ_USERS: (False, False, False, True, True),
    policies.MANAGE_USERS: (False, False, False, True, False),
    policies.FIND_USERS: (False, False, True, True, True),
}


@pytest.mark.parametrize(("policy", "caller", "allowed"), cases(TABLE))
def test_who_may(policy, caller, allowed):
    assert policy.allows(caller, OWNER_ID) is allowed


def test_every_policy_is_in_the_table():
    assert declared(policies) == set(TABLE)
