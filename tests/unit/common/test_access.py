"""Who sees and changes what a user owns."""

import pytest

from services.common import access as logic

OWNER = {"user_id": "u-1", "role": "USER"}
OTHER = {"user_id": "u-2", "role": "USER"}
OPERATOR = {"user_id": "o-1", "role": "OPERATOR"}
ADMIN = {"user_id": "a-1", "role": "ADMIN"}


@pytest.mark.parametrize(
    "viewer, readable, writable",
    [
        (OWNER, True, True),
        (OTHER, False, False),
        (OPERATOR, True, False),
        (ADMIN, True, True),
    ],
)
def test_access(viewer, readable, writable):
    assert logic.can_read(viewer, "u-1") is readable
    assert logic.can_write(viewer, "u-1") is writable


def test_a_user_lists_only_their_own_devices_whatever_they_ask():
    assert logic.listing_owner(OWNER, None) == "u-1"
    assert logic.listing_owner(OWNER, "u-2") == "u-1"


def test_admin_and_operator_list_everyone_or_one_owner():
    assert logic.listing_owner(ADMIN, None) is None
    assert logic.listing_owner(OPERATOR, "u-2") == "u-2"
