"""What a policy allows, whose objects a listing shows, and what the web app is told."""

import sys

from services.common.policy import (
    Policy,
    declared,
    granted,
    listing_owner,
    permissions,
)

OWNER = {"user_id": "u-1", "role": "USER"}
OPERATOR = {"user_id": "o-1", "role": "OPERATOR"}
ADMIN = {"user_id": "a-1", "role": "ADMIN"}
READ = Policy("read", roles=("OPERATOR", "ADMIN"), owner=True)
UPDATE = Policy("update", roles=("ADMIN",), owner=True)


def test_a_user_lists_only_their_own_objects_whatever_they_ask():
    assert listing_owner(OWNER, READ, None) == "u-1"
    assert listing_owner(OWNER, READ, "u-2") == "u-1"


def test_staff_list_everyone_s_or_one_owner_s():
    assert listing_owner(ADMIN, READ, None) is None
    assert listing_owner(OPERATOR, READ, "u-2") == "u-2"


def test_an_owner_without_an_object_is_no_owner():
    assert not UPDATE.allows(OWNER, None)


def test_permissions_name_each_action():
    assert permissions(OPERATOR, "u-1", READ, UPDATE) == {"read": True, "update": False}
    assert permissions(OWNER, "u-1", READ, UPDATE) == {"read": True, "update": True}


SETTLE = Policy("settle", roles=("ADMIN",))
CREATE = Policy("create", roles=("USER", "OPERATOR", "ADMIN"))


def test_an_account_is_granted_what_its_role_may_do_on_anyone_s_objects():
    every = (READ, UPDATE, SETTLE, CREATE)
    assert granted(OWNER, every) == ["create"]
    assert granted(OPERATOR, every) == ["create", "read"]
    assert granted(ADMIN, every) == ["create", "read", "settle", "update"]


def test_a_module_declares_its_policies_and_nothing_else():
    assert declared(sys.modules[__name__]) == {READ, UPDATE, SETTLE, CREATE, RUN}


RUN = Policy("run", roles=("ADMIN",), owner=True, site_roles=("owner", "operator"))


def test_a_site_role_allows_what_it_is_named_for():
    other = {"user_id": "u-2", "role": "USER"}
    assert RUN.allows(other, "u-1", "operator")
    assert not RUN.allows(other, "u-1", "viewer")
    assert not RUN.allows(other, "u-1")
    assert permissions(other, "u-1", RUN, UPDATE, site_role="owner") == {
        "run": True,
        "update": False,
    }
