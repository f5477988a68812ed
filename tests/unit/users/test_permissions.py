"""What ``GET /api/auth/me`` says an account may do, as a table of roles ×
actions, derived from every service's policies."""

import re
from pathlib import Path

import pytest

from gateway.api.accounts import ROUTES
from services.common.policy import ROLES, declared
from services.users.permissions import SERVICES, account_permissions

WEB_SRC = Path(__file__).resolve().parents[3] / "web" / "src"

#: role: the account's permissions, every one.
TABLE = {
    "USER": [
        "alarms.create_rules",
        "batteries.create",
        "devices.create",
        "devices.create_site",
        "trading.place",
    ],
    "VIEWER": [
        "alarms.read",
        "alarms.read_all",
        "batteries.read",
        "batteries.read_all",
        "devices.read",
        "devices.read_all",
        "devices.read_all_sites",
        "devices.read_site",
        "dr.read_all",
        "dr.see_flexibility",
        "monitoring.read_consumption",
        "monitoring.read_status",
        "support.read",
        "support.read_inbox",
        "users.find_users",
        "users.read_users",
    ],
    "OPERATOR": [
        "alarms.acknowledge",
        "alarms.clear",
        "alarms.create_rules",
        "alarms.manage_global_rules",
        "alarms.read",
        "alarms.read_all",
        "batteries.create",
        "batteries.read",
        "batteries.read_all",
        "devices.command",
        "devices.create",
        "devices.create_site",
        "devices.read",
        "devices.read_all",
        "devices.read_all_sites",
        "devices.read_site",
        "dr.cancel",
        "dr.create",
        "dr.invite",
        "dr.read_all",
        "dr.see_flexibility",
        "monitoring.read_consumption",
        "monitoring.read_status",
        "trading.place",
        "users.find_users",
    ],
    "ADMIN": [
        "alarms.acknowledge",
        "alarms.clear",
        "alarms.create_rules",
        "alarms.manage_global_rules",
        "alarms.manage_rules",
        "alarms.read",
        "alarms.read_all",
        "audit.read",
        "batteries.add",
        "batteries.command",
        "batteries.create",
        "batteries.delete",
        "batteries.read",
        "batteries.read_all",
        "devices.add_for_others",
        "devices.command",
        "devices.create",
        "devices.create_site",
        "devices.delete",
        "devices.delete_site",
        "devices.issue_credentials",
        "devices.manage_members",
        "devices.manage_rooms",
        "devices.read",
        "devices.read_all",
        "devices.read_all_sites",
        "devices.read_site",
        "devices.update",
        "devices.update_site",
        "dr.cancel",
        "dr.create",
        "dr.invite",
        "dr.read_all",
        "dr.see_flexibility",
        "monitoring.manage_dead_letters",
        "monitoring.read_consumption",
        "monitoring.read_status",
        "support.read",
        "support.read_inbox",
        "support.reply",
        "trading.place",
        "trading.settle",
        "users.find_users",
        "users.manage_users",
        "users.read_users",
    ],
}


def every_action() -> set[str]:
    return {
        f"{service}.{policy.action}"
        for service, module in SERVICES.items()
        for policy in declared(module)
    }


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_told_what_it_may_do(role):
    caller = {"user_id": "6f1c9d2e-0000-4000-8000-0000000000a1", "role": role}
    assert account_permissions(caller) == TABLE[role]


def test_the_table_covers_every_role():
    assert set(TABLE) == set(ROLES)


def test_an_action_names_one_policy():
    for service, module in SERVICES.items():
        actions = [policy.action for policy in declared(module)]
        assert len(actions) == len(set(actions)), service


def test_every_service_with_policies_is_asked():
    services = Path(__file__).resolve().parents[3] / "services"
    with_policies = {path.parent.name for path in services.glob("*/policies.py")}
    assert with_policies == set(SERVICES)


def test_the_documented_example_is_an_operator_s_answer():
    [me] = [
        route
        for route in ROUTES
        if route.path == "/api/auth/me" and route.method == "GET"
    ]
    assert me.example["role"] == "OPERATOR"
    assert me.example["permissions"] == TABLE["OPERATOR"]


def test_the_web_app_asks_only_for_actions_that_exist():
    """A misspelt action would hide a feature from everyone, silently."""
    asked = {
        match.group(1)
        for path in WEB_SRC.rglob("*.js*")
        if ".test." not in path.name
        for match in re.finditer(
            r"""\bcan\(\s*\w+\s*,\s*["']([\w.]+)["']""", path.read_text()
        )
    }
    assert asked, "the web app asks can(user, action)"
    assert asked <= every_action()
