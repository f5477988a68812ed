"""Who may do what in the market, as a table of callers × actions."""

import pytest

from services.trading import policies

OWNER = "6f1c9d2e-0000-4000-8000-0000000000a1"
OTHER = "6f1c9d2e-0000-4000-8000-0000000000b2"
CALLERS = {
    "USER owner": {"user_id": OWNER, "role": "USER"},
    "USER other": {"user_id": OTHER, "role": "USER"},
    "OPERATOR": {"user_id": OTHER, "role": "OPERATOR"},
    "ADMIN": {"user_id": OTHER, "role": "ADMIN"},
}
#: Whether each caller may take each action on an object ``OWNER`` owns.
TABLE = {
    policies.READ_ORDER: (True, False, False, False),
    policies.CANCEL_ORDER: (True, False, False, False),
    policies.SELL_FROM_DEVICE: (True, False, False, False),
    policies.SETTLE: (False, False, False, True),
}


@pytest.mark.parametrize(
    "policy, caller, allowed",
    [
        (policy, caller, allowed)
        for policy, row in TABLE.items()
        for caller, allowed in zip(CALLERS, row, strict=True)
    ],
    ids=[f"{policy.action}-{caller}" for policy in TABLE for caller in CALLERS],
)
def test_who_may_do_what(policy, caller, allowed):
    assert policy.allows(CALLERS[caller], OWNER) is allowed
