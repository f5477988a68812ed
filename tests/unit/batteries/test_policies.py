"""Who may do what with batteries, as a table of callers × actions."""

import pytest

from harness.policies import OWNER_ID, cases, declared
from services.batteries import policies

#: policy: (USER owner, USER other, OPERATOR, ADMIN, VIEWER)
TABLE = {
    policies.READ: (True, False, True, True, True),
    policies.READ_ALL: (False, False, True, True, True),
    policies.COMMAND: (True, False, False, True, False),
    policies.DELETE: (True, False, False, True, False),
    policies.CREATE: (True, True, True, True, False),
    policies.ADD: (True, False, False, True, False),
}


@pytest.mark.parametrize(("policy", "caller", "allowed"), cases(TABLE))
def test_who_may(policy, caller, allowed):
    assert policy.allows(caller, OWNER_ID) is allowed


def test_every_policy_is_in_the_table():
    assert declared(policies) == set(TABLE)


def test_the_web_app_is_told_the_actions_on_each_object():
    assert [policy.action for policy in policies.ON_A_BATTERY] == ["command", "delete"]
