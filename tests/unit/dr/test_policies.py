"""Who may do what with demand-response events: each policy for each kind of
caller."""

import pytest

from services.dr import policies

OWNER = {"user_id": "u-1", "role": "USER"}
OTHER = {"user_id": "u-2", "role": "USER"}
OPERATOR = {"user_id": "o-1", "role": "OPERATOR"}
ADMIN = {"user_id": "a-1", "role": "ADMIN"}
CALLERS = {"owner": OWNER, "other": OTHER, "operator": OPERATOR, "admin": ADMIN}

#: Policy -> (USER owner, USER other, OPERATOR, ADMIN). Events have no owner; the
#: columns are kept for the same table in every service.
TABLE = {
    policies.CREATE: (False, False, True, True),
    policies.CANCEL: (False, False, True, True),
    policies.INVITE: (False, False, True, True),
    policies.SEE_FLEXIBILITY: (False, False, True, True),
    policies.READ_ALL: (False, False, True, True),
}


@pytest.mark.parametrize(
    "policy, caller, allowed",
    [
        (policy, name, allowed)
        for policy, row in TABLE.items()
        for name, allowed in zip(CALLERS, row, strict=True)
    ],
    ids=lambda value: value.action if isinstance(value, policies.Policy) else None,
)
def test_who_may(policy, caller, allowed):
    assert policy.allows(CALLERS[caller], OWNER["user_id"]) is allowed


def test_who_sees_every_event():
    assert policies.READ_ALL.allows({"user_id": "o", "role": "OPERATOR"})
    assert policies.READ_ALL.allows({"user_id": "a", "role": "ADMIN"})
    assert not policies.READ_ALL.allows({"user_id": "u", "role": "USER"})


def test_every_policy_is_in_the_table():
    declared = {
        value for value in vars(policies).values() if isinstance(value, policies.Policy)
    }
    assert declared == set(TABLE)
