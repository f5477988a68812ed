"""Who may do what with demand-response events, as a table of callers × actions."""

import pytest

from harness.policies import OWNER_ID, cases, declared
from services.dr import policies

#: policy: (USER owner, USER other, OPERATOR, ADMIN, VIEWER)
#: Events have no owner: the owner's column is that of any USER.
TABLE = {
    policies.CREATE: (False, False, True, True, False),
    policies.CANCEL: (False, False, True, True, False),
    policies.INVITE: (False, False, True, True, False),
    policies.SEE_FLEXIBILITY: (False, False, True, True, True),
    policies.READ_ALL: (False, False, True, True, True),
}


@pytest.mark.parametrize(("policy", "caller", "allowed"), cases(TABLE))
def test_who_may(policy, caller, allowed):
    assert policy.allows(caller, OWNER_ID) is allowed


def test_every_policy_is_in_the_table():
    assert declared(policies) == set(TABLE)
