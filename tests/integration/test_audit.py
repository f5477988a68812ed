"""The audit log through Traefik: what ADMIN, users and the platform did is listed
to ADMIN alone, with who, when and from which address."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from harness.clients import ws_connect, ws_receive
from harness.mail import link_token, wait_for_mail
from harness.polling import eventually

pytestmark = pytest.mark.integration

#: Every request of the tests comes through Traefik from here.
CLIENT = "127.0.0.1"


def audit(client, **query):
    response = client.get("/api/audit", params=query)
    assert response.status_code == 200, response.text
    return response.json()


def recorded(client, **query):
    """The records the filters keep, once there is at least one."""
    return eventually(lambda: audit(client, **query)["records"])


def me(client) -> dict:
    return client.get("/api/auth/me").json()


def test_what_admin_does_to_users_is_recorded(admin, new_user):
    admin_id = me(admin)["id"]
    user, _ = new_user("Rolf")
    assert admin.patch(f"/api/users/{user['id']}", {"role": "OPERATOR"}).ok
    (changed,) = recorded(
        admin, object_type="user", object_id=user["id"], action="users.role_changed"
    )
    assert changed["actor"] == {"id": admin_id, "role": "ADMIN"}
    assert changed["object"] == {"type": "user", "id": user["id"]}
    assert changed["details"] == {"from": "USER", "to": "OPERATOR"}
    assert changed["client"] == CLIENT
    assert datetime.fromisoformat(changed["at"]) > datetime.now(UTC) - timedelta(
        minutes=5
    )

    assert admin.delete(f"/api/users/{user['id']}").status_code == 204
    deleted = recorded(admin, object_id=user["id"], action="users.deleted")
    assert deleted[0]["details"] == {"email": user["email"], "role": "OPERATOR"}
    # A deleted user's records stay, newest first.
    assert [r["action"] for r in audit(admin, object_id=user["id"])["records"]] == [
        "users.deleted",
        "users.role_changed",
    ]


def test_device_commands_and_credentials_are_recorded(admin, device):
    meter, owner, client = device
    command = client.post(f"/api/devices/{meter['id']}/commands", {"type": "ping"})
    assert command.status_code == 202, command.text
    assert client.post(f"/api/devices/{meter['id']}/credentials").status_code == 201

    records = eventually(
        lambda: (
            len(
                r := audit(admin, object_type="device", object_id=meter["id"])[
                    "records"
                ]
            )
            == 2
            and r
        )
    )
    rotated, issued = records
    assert issued["action"] == "devices.command_issued"
    assert issued["actor"] == {"id": owner["id"], "role": "USER"}
    assert issued["details"]["command_id"] == command.json()["id"]
    assert issued["details"]["type"] == "ping"
    assert rotated["action"] == "devices.credentials_rotated"
    assert "password" not in rotated["details"]
    assert {issued["client"], rotated["client"]} == {CLIENT}
    # A prefix lists every action under it; the owner's own are there.
    mine = audit(admin, actor_id=owner["id"], action="devices.")["records"]
    assert [r["id"] for r in mine] == [rotated["id"], issued["id"]]

    assert client.delete(f"/api/devices/{meter['id']}").status_code == 204
    (gone,) = recorded(admin, object_id=meter["id"], action="devices.deleted")
    assert gone["details"]["name"] == meter["name"]


def test_a_command_over_the_socket_is_recorded_with_its_address(stack, admin, device):
    meter, owner, client = device
    socket = ws_connect(stack, client.token)
    try:
        socket.send(
            json.dumps(
                {
                    "type": "command.send",
                    "ref": "r1",
                    "data": {"device_id": meter["id"], "type": "ping"},
                }
            )
        )
        answer = ws_receive(socket, "command.accepted")
    finally:
        socket.close()
    assert answer is not None
    (issued,) = recorded(admin, object_id=meter["id"], action="devices.command_issued")
    assert issued["details"]["command_id"] == answer["data"]["id"]
    assert issued["actor"] == {"id": owner["id"], "role": "USER"}
    assert issued["client"] == CLIENT


def test_own_account_changes_are_recorded(admin, new_user):
    user, client = new_user("Pia")
    changed = client.patch(
        "/api/auth/me", {"current_password": "password-1", "password": "password-2"}
    )
    assert changed.status_code == 200, changed.text
    (password,) = recorded(admin, actor_id=user["id"], action="auth.password_changed")
    assert password["object"] == {"type": "user", "id": user["id"]}
    assert password["client"] == CLIENT

    gone = client.request("DELETE", "/api/auth/me", json={"password": "password-2"})
    assert gone.status_code == 204, gone.text
    (deleted,) = recorded(admin, actor_id=user["id"], action="auth.account_deleted")
    assert deleted["actor"] == {"id": user["id"], "role": "USER"}


def test_a_password_reset_is_recorded_as_the_account_s_own(
    stack, admin, anonymous, new_user
):
    user, _ = new_user("Reset")
    asked = anonymous.post("/api/auth/password-reset", {"email": user["email"]})
    assert asked.status_code == 202, asked.text
    token = link_token(wait_for_mail(stack, user["email"]))
    done = anonymous.post(
        "/api/auth/password-reset/confirm",
        {"token": token, "password": "a-new-passphrase"},
    )
    assert done.status_code == 204, done.text
    (reset,) = recorded(admin, object_id=user["id"], action="auth.password_reset")
    assert reset["actor"] == {"id": user["id"], "role": "USER"}
    assert reset["client"] == CLIENT


def test_dr_events_are_recorded(admin):
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start += timedelta(days=2)
    created = admin.post(
        "/api/dr/events",
        {
            "name": "Audited peak",
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
            "target_reduction_kw": 10,
            "incentive_per_kwh": 0.2,
        },
    )
    assert created.status_code == 201, created.text
    event = created.json()
    assert admin.delete(f"/api/dr/events/{event['id']}").status_code == 200
    records = eventually(
        lambda: len(r := recorded(admin, object_id=event["id"])) == 2 and r
    )
    assert [r["action"] for r in records] == ["dr.event_cancelled", "dr.event_created"]
    assert records[1]["details"]["name"] == "Audited peak"


def test_only_admin_reads_the_log(new_user, anonymous, admin):
    _, client = new_user("Nosy")
    refused = client.get("/api/audit")
    assert refused.status_code == 403
    assert anonymous.get("/api/audit").status_code == 401


def test_bad_filters_answer_400_with_their_fields(admin):
    refused = admin.get(
        "/api/audit",
        params={"limit": 0, "actor_id": "me", "cursor": "x", "from": "soon"},
    )
    assert refused.status_code == 400
    assert set(refused.json()["details"]) == {"limit", "actor_id", "cursor", "from"}


def test_pages_follow_each_other(admin, new_user):
    users = [new_user("Page")[0] for _ in range(3)]
    for user in users:
        assert admin.patch(f"/api/users/{user['id']}", {"role": "VIEWER"}).ok
    admin_id = me(admin)["id"]
    eventually(
        lambda: (
            {u["id"] for u in users}
            <= {
                r["object"]["id"]
                for r in audit(admin, actor_id=admin_id, limit=500)["records"]
            }
        )
    )
    first = audit(admin, actor_id=admin_id, action="users.role_changed", limit=2)
    assert len(first["records"]) == 2 and first["next"]
    second = audit(
        admin,
        actor_id=admin_id,
        action="users.role_changed",
        limit=2,
        cursor=first["next"],
    )
    assert not {r["id"] for r in first["records"]} & {
        r["id"] for r in second["records"]
    }
    assert first["records"][-1]["at"] >= second["records"][0]["at"]
    assert str(uuid.UUID(second["records"][0]["id"]))
