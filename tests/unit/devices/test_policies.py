"""Who may do what with devices and sites, as tables of callers × actions: by
global role and device ownership, and by role on the object's site."""

import pytest

from harness.policies import (
    CALLERS,
    OWNER_ID,
    SITE_MEMBER,
    cases,
    declared,
    site_cases,
)
from services.common.policy import SITE_ROLES
from services.devices import policies

#: policy: (USER owner, USER other, OPERATOR, ADMIN, VIEWER), none of them a member
#: of the object's site.
TABLE = {
    policies.CREATE: (True, True, True, True, False),
    policies.READ: (True, False, True, True, True),
    policies.READ_ALL: (False, False, True, True, True),
    policies.UPDATE: (True, False, False, True, False),
    policies.DELETE: (True, False, False, True, False),
    policies.ISSUE_CREDENTIALS: (True, False, False, True, False),
    policies.COMMAND: (True, False, True, True, False),
    policies.ADD_FOR_OTHERS: (False, False, False, True, False),
    policies.CREATE_SITE: (True, True, True, True, False),
    policies.READ_SITE: (False, False, True, True, True),
    policies.READ_ALL_SITES: (False, False, True, True, True),
    policies.UPDATE_SITE: (False, False, False, True, False),
    policies.MANAGE_ROOMS: (False, False, False, True, False),
    policies.MANAGE_MEMBERS: (False, False, False, True, False),
    policies.DELETE_SITE: (False, False, False, True, False),
}
#: policy: (site owner, site operator, site viewer, no member) for a USER whose
#: global role gives nothing on others' objects.
SITE_TABLE = {
    policies.CREATE: (True, True, True, True),
    policies.READ: (True, True, True, False),
    policies.READ_ALL: (False, False, False, False),
    policies.UPDATE: (True, True, False, False),
    policies.DELETE: (True, False, False, False),
    policies.ISSUE_CREDENTIALS: (True, False, False, False),
    policies.COMMAND: (True, True, False, False),
    policies.ADD_FOR_OTHERS: (False, False, False, False),
    policies.CREATE_SITE: (True, True, True, True),
    policies.READ_SITE: (True, True, True, False),
    policies.READ_ALL_SITES: (False, False, False, False),
    policies.UPDATE_SITE: (True, True, False, False),
    policies.MANAGE_ROOMS: (True, True, False, False),
    policies.MANAGE_MEMBERS: (True, False, False, False),
    policies.DELETE_SITE: (True, False, False, False),
}


@pytest.mark.parametrize(("policy", "caller", "allowed"), cases(TABLE))
def test_who_may(policy, caller, allowed):
    assert policy.allows(caller, OWNER_ID) is allowed


@pytest.mark.parametrize(("policy", "site_role", "allowed"), site_cases(SITE_TABLE))
def test_who_may_by_their_role_on_the_site(policy, site_role, allowed):
    assert policy.allows(SITE_MEMBER, OWNER_ID, site_role) is allowed


@pytest.mark.parametrize("caller", CALLERS.values(), ids=list(CALLERS))
def test_a_site_role_adds_to_what_the_global_role_gives(caller):
    """A role on a site only ever gives more: what a caller may do without one,
    they may still do as a member, whatever their role there."""
    for policy in TABLE:
        if policy.allows(caller, OWNER_ID):
            for role in SITE_ROLES:
                assert policy.allows(caller, OWNER_ID, role), (policy.action, role)


def test_every_policy_is_in_the_tables():
    assert declared(policies) == set(TABLE) == set(SITE_TABLE)


def test_the_web_app_is_told_the_actions_on_each_object():
    assert [policy.action for policy in policies.ON_A_DEVICE] == [
        "update",
        "delete",
        "issue_credentials",
        "command",
    ]
    assert [policy.action for policy in policies.ON_A_SITE] == [
        "update_site",
        "manage_rooms",
        "manage_members",
        "delete_site",
    ]
