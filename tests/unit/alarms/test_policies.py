"""Who may do what with alarms and their rules, as a table of callers × actions."""

import pytest

from harness.policies import (
    CALLERS,
    OWNER_ID,
    SITE_MEMBER,
    cases,
    declared,
    site_cases,
)
from services.alarms import policies
from services.common.policy import SITE_ROLES

#: policy: (USER owner, USER other, OPERATOR, ADMIN, VIEWER)
TABLE = {
    policies.READ: (True, False, True, True, True),
    policies.READ_ALL: (False, False, True, True, True),
    policies.ACKNOWLEDGE: (True, False, True, True, False),
    policies.CLEAR: (True, False, True, True, False),
    policies.CREATE_RULES: (True, True, True, True, False),
    policies.MANAGE_RULES: (True, False, False, True, False),
    policies.MANAGE_GLOBAL_RULES: (False, False, True, True, False),
}

#: policy: (site owner, site operator, site viewer)
SITE_TABLE = {
    policies.READ: (True, True, True),
    policies.READ_ALL: (False, False, False),
    policies.ACKNOWLEDGE: (True, True, False),
    policies.CLEAR: (True, True, False),
    policies.CREATE_RULES: (True, True, True),
    policies.MANAGE_RULES: (True, True, False),
    policies.MANAGE_GLOBAL_RULES: (False, False, False),
}


@pytest.mark.parametrize(("policy", "caller", "allowed"), cases(TABLE))
def test_who_may(policy, caller, allowed):
    assert policy.allows(caller, OWNER_ID) is allowed


@pytest.mark.parametrize(("policy", "site_role", "allowed"), site_cases(SITE_TABLE))
def test_who_may_by_their_role_on_the_site(policy, site_role, allowed):
    assert policy.allows(SITE_MEMBER, OWNER_ID, site_role) is allowed


@pytest.mark.parametrize("caller", CALLERS.values(), ids=list(CALLERS))
def test_a_site_role_only_adds(caller):
    for policy in TABLE:
        for role in SITE_ROLES:
            if policy.allows(caller, OWNER_ID):
                assert policy.allows(caller, OWNER_ID, role)


def test_every_policy_is_in_the_tables():
    assert declared(policies) == set(TABLE) == set(SITE_TABLE)
