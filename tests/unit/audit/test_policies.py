"""Who may read the audit log, as a table of callers × actions."""

import pytest

from harness.policies import OWNER_ID, cases, declared
from services.audit import policies

#: policy: (USER owner, USER other, OPERATOR, ADMIN, VIEWER)
TABLE = {
    policies.READ: (False, False, False, True, False),
}


@pytest.mark.parametrize(("policy", "caller", "allowed"), cases(TABLE))
def test_who_may(policy, caller, allowed):
    assert policy.allows(caller, OWNER_ID) is allowed


def test_every_policy_is_in_the_table():
    assert declared(policies) == set(TABLE)
