"""The table each service's policies are tested as: every policy against every kind
of caller, on an object ``OWNER_ID`` owns."""

import pytest

from services.common.policy import SITE_ROLES, declared

__all__ = ["CALLERS", "OWNER_ID", "SITE_MEMBER", "cases", "declared", "site_cases"]

OWNER_ID = "6f1c9d2e-0000-4000-8000-0000000000a1"
#: The columns of every table, in this order.
CALLERS = {
    "USER owner": {"user_id": OWNER_ID, "role": "USER"},
    "USER other": {"user_id": "6f1c9d2e-0000-4000-8000-0000000000b2", "role": "USER"},
    "OPERATOR": {"user_id": "6f1c9d2e-0000-4000-8000-0000000000c3", "role": "OPERATOR"},
    "ADMIN": {"user_id": "6f1c9d2e-0000-4000-8000-0000000000d4", "role": "ADMIN"},
    "VIEWER": {"user_id": "6f1c9d2e-0000-4000-8000-0000000000e5", "role": "VIEWER"},
}


def cases(table: dict) -> list:
    """``(policy, caller, allowed)`` parameters of ``{policy: (USER owner, USER
    other, OPERATOR, ADMIN, VIEWER)}``, one per cell."""
    return [
        pytest.param(policy, CALLERS[name], allowed, id=f"{policy.action}-{name}")
        for policy, row in table.items()
        for name, allowed in zip(CALLERS, row, strict=True)
    ]


#: A USER who owns nothing of the site, by their role on it: the columns of every
#: site table are ``SITE_ROLES`` (owner, operator, viewer), in this order.
SITE_MEMBER = {"user_id": "6f1c9d2e-0000-4000-8000-0000000000f6", "role": "USER"}


def site_cases(table: dict) -> list:
    """``(policy, site_role, allowed)`` parameters of ``{policy: (site owner, site
    operator, site viewer[, no member])}``, one per cell; a fourth column, when
    given, is asked with no site role."""
    return [
        pytest.param(policy, role, allowed, id=f"{policy.action}-{role}")
        for policy, row in table.items()
        for role, allowed in zip((*SITE_ROLES, None)[: len(row)], row, strict=True)
    ]
