"""Who may do what with batteries: each policy against each kind of caller."""

import pytest

from services.batteries import policies

OWNER_ID = "6f1c9d2e-0000-4000-8000-000000000001"
CALLERS = {
    "owner": {"user_id": OWNER_ID, "role": "USER"},
    "other user": {"user_id": "6f1c9d2e-0000-4000-8000-000000000002", "role": "USER"},
    "operator": {"user_id": "6f1c9d2e-0000-4000-8000-00000000000f", "role": "OPERATOR"},
    "admin": {"user_id": "6f1c9d2e-0000-4000-8000-00000000000a", "role": "ADMIN"},
}
#: policy: (owner, other user, operator, admin)
ALLOWED = {
    policies.READ: (True, False, True, True),
    policies.READ_ALL: (False, False, True, True),
    policies.COMMAND: (True, False, False, True),
    policies.DELETE: (True, False, False, True),
    policies.ADD: (True, False, False, True),
}


@pytest.mark.parametrize(
    ("policy", "caller", "allowed"),
    [
        (policy, caller, allowed)
        for policy, row in ALLOWED.items()
        for caller, allowed in zip(CALLERS, row, strict=True)
    ],
    ids=lambda value: getattr(value, "action", value),
)
def test_policy(policy, caller, allowed):
    assert policy.allows(CALLERS[caller], OWNER_ID) is allowed


def test_a_battery_tells_the_web_app_its_actions():
    assert [policy.action for policy in policies.ON_A_BATTERY] == ["command", "delete"]
