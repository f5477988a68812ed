"""Sites through Traefik, against every real process: a new account's default
site, rooms, a device moved between them, members added by e-mail, what a site's
viewer and a stranger may do, and what goes with a deleted site."""

import time

import pytest

from services.common.topology import SYNC
from services.devices.sites import default_site_id
from tests.integration.test_platform import drain, listen

pytestmark = pytest.mark.integration


def eventually(check, attempts=100):
    for _ in range(attempts):
        if answer := check():
            return answer
        time.sleep(0.1)
    return check()


def test_a_new_account_has_its_default_site(new_user):
    user, ada = new_user("Ada")
    # Made from user.created, before any device asks for it.
    sites = eventually(lambda: ada.get("/api/sites").json())
    assert [site["id"] for site in sites] == [default_site_id(user["id"])]
    assert sites[0]["name"] == "Home" and sites[0]["timezone"] == "UTC"
    assert sites[0]["tariff"]["currency"] == "EUR"
    assert sites[0]["members"] == [{"user_id": user["id"], "role": "owner"}]
    device = ada.post("/api/devices", {"name": "Meter", "kind": "meter"}).json()
    assert device["site_id"] == sites[0]["id"] and device["room_id"] is None


def test_a_household_s_site_rooms_and_members(stack, admin, new_user):
    ann_user, ann = new_user("Ann")
    bob_user, bob = new_user("Bob")
    _, cy = new_user("Cy")

    created = ann.post(
        "/api/sites",
        {
            "name": "Flat",
            "timezone": "Europe/Berlin",
            "latitude": 52.52,
            "longitude": 13.4,
            "tariff": {
                "currency": "EUR",
                "import_per_kwh": 0.3,
                "export_per_kwh": 0.08,
                "periods": [
                    {
                        "start_hour": 17,
                        "end_hour": 21,
                        "import_per_kwh": 0.45,
                        "export_per_kwh": 0.08,
                    }
                ],
            },
        },
    )
    assert created.status_code == 201, created.text
    site = created.json()
    overlapping = ann.patch(
        f"/api/sites/{site['id']}",
        {
            "tariff": site["tariff"]
            | {
                "periods": site["tariff"]["periods"]
                + [
                    {
                        "start_hour": 20,
                        "end_hour": 22,
                        "import_per_kwh": 0.5,
                        "export_per_kwh": 0.0,
                    }
                ]
            }
        },
    )
    assert overlapping.status_code == 400
    assert "periods" in overlapping.json()["details"]["tariff"]

    kitchen = ann.post(f"/api/sites/{site['id']}/rooms", {"name": "Kitchen"})
    assert kitchen.status_code == 201, kitchen.text
    kitchen = kitchen.json()
    device = ann.post("/api/devices", {"name": "Oven", "kind": "appliance"}).json()
    moved = ann.patch(
        f"/api/devices/{device['id']}",
        {"site_id": site["id"], "room_id": kitchen["id"]},
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["site_id"], moved.json()["room_id"]) == (
        site["id"],
        kitchen["id"],
    )
    in_kitchen = ann.get("/api/devices", params={"room_id": kitchen["id"]}).json()
    assert [d["id"] for d in in_kitchen] == [device["id"]]

    # Bob is made a viewer by his address; the members are shown by name.
    added = ann.post(
        f"/api/sites/{site['id']}/members",
        {"email": bob_user["email"].upper(), "role": "viewer"},
    )
    assert added.status_code == 201, added.text
    assert added.json()["user_id"] == bob_user["id"]
    members = ann.get(f"/api/sites/{site['id']}/members").json()
    assert [(m["name"], m["email"], m["role"]) for m in members] == sorted(
        [
            ("Ann", ann_user["email"], "owner"),
            ("Bob", bob_user["email"], "viewer"),
        ],
        key=lambda m: {"Ann": ann_user["id"], "Bob": bob_user["id"]}[m[0]],
    )
    unknown = ann.post(
        f"/api/sites/{site['id']}/members",
        {"email": "nobody-at-all@example.com", "role": "viewer"},
    )
    assert unknown.status_code == 404

    # The viewer reads the site, its rooms and devices, and changes none of them.
    assert bob.get(f"/api/sites/{site['id']}").status_code == 200
    assert bob.get(f"/api/sites/{site['id']}/rooms").json() == [kitchen]
    assert bob.get(f"/api/devices/{device['id']}").status_code == 200
    assert device["id"] in [d["id"] for d in bob.get("/api/devices").json()]
    for response in (
        bob.patch(f"/api/sites/{site['id']}", {"name": "Mine"}),
        bob.patch(f"/api/devices/{device['id']}", {"name": "Mine"}),
        bob.post(f"/api/sites/{site['id']}/rooms", {"name": "Mine"}),
        bob.patch(f"/api/rooms/{kitchen['id']}", {"name": "Mine"}),
        bob.delete(f"/api/sites/{site['id']}"),
        bob.put(f"/api/sites/{site['id']}/members/{bob_user['id']}", {"role": "owner"}),
    ):
        assert response.status_code == 404, response.text
    # The last owner stays one.
    demoted = ann.put(
        f"/api/sites/{site['id']}/members/{ann_user['id']}", {"role": "viewer"}
    )
    assert demoted.status_code == 409

    # A stranger sees nothing of it.
    assert cy.get(f"/api/sites/{site['id']}").status_code == 404
    assert cy.get(f"/api/sites/{site['id']}/members").status_code == 404
    assert cy.get(f"/api/devices/{device['id']}").status_code == 404
    assert site["id"] not in [s["id"] for s in cy.get("/api/sites").json()]

    # Staff read it all.
    assert admin.get(f"/api/sites/{site['id']}").status_code == 200

    # Deleting the site deletes its devices, each announced.
    connection, events = listen(stack, SYNC, "device.deleted")
    try:
        assert ann.delete(f"/api/sites/{site['id']}").status_code == 204
        deleted = drain(events, 1)
    finally:
        connection.release()
    assert [body["device"]["id"] for body in deleted] == [device["id"]]
    assert ann.get(f"/api/devices/{device['id']}").status_code == 404
    assert ann.get(f"/api/sites/{site['id']}").status_code == 404
    assert bob.get("/api/sites").json()[0]["id"] == default_site_id(bob_user["id"])
