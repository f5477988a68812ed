"""Who may read a support conversation, see the inbox and answer as staff, as a
table of callers × actions on a conversation the owner wrote."""

import pytest

from harness.policies import OWNER_ID, cases, declared
from services.support import policies

#: policy: (USER owner, USER other, OPERATOR, ADMIN, VIEWER)
TABLE = {
    policies.READ_CONVERSATION: (True, False, False, True, True),
    policies.READ_INBOX: (False, False, False, True, True),
    policies.REPLY: (False, False, False, True, False),
}


@pytest.mark.parametrize(("policy", "caller", "allowed"), cases(TABLE))
def test_who_may(policy, caller, allowed):
    assert policy.allows(caller, OWNER_ID) is allowed


def test_every_policy_is_in_the_table():
    assert declared(policies) == set(TABLE)
