"""Sites, rooms and members in the devices service, on a real broker and a real
database: who may do what by their role on a site, what is announced on
``ems.sync``, and what goes with a site, a room and a user."""

import time

import pytest
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy

from services.common.errors import ValidationFailed
from services.common.topology import SYNC
from services.devices.exceptions import (
    DeviceNotFound,
    LastOwner,
    MemberNotFound,
    RoomNotFound,
    SiteNotFound,
)
from services.devices.service import DevicesService
from services.devices.sites import default_site_id
from services.users.exceptions import UserNotFound

pytestmark = pytest.mark.usefixtures("clean_databases")

ANN = {"user_id": "6f1c9d2e-0000-4000-8000-000000000011", "role": "USER"}
BOB = {"user_id": "6f1c9d2e-0000-4000-8000-000000000012", "role": "USER"}
CY = {"user_id": "6f1c9d2e-0000-4000-8000-000000000013", "role": "USER"}
STAFF = {"user_id": "6f1c9d2e-0000-4000-8000-000000000014", "role": "OPERATOR"}
ADMIN = {"user_id": "6f1c9d2e-0000-4000-8000-000000000015", "role": "ADMIN"}
PEOPLE = {
    ANN["user_id"]: ("Ann", "ann@example.com"),
    BOB["user_id"]: ("Bob", "bob@example.com"),
    CY["user_id"]: ("Cy", "cy@example.com"),
}
TARIFF = {
    "currency": "EUR",
    "import_per_kwh": 0.3,
    "export_per_kwh": 0.08,
    "periods": [],
}

SWITCH_ON = {"type": "switch", "params": {"on": True}}


def _user(user_id):
    name, email = PEOPLE[user_id]
    return {"id": user_id, "name": name, "email": email, "role": "USER"}


class FakeUsers:
    """users' ``describe_user``, ``describe_users`` and ``describe_user_by_email``,
    knowing ANN, BOB and CY."""

    name = "users"

    @rpc(expected_exceptions=UserNotFound)
    def describe_user(self, user_id):
        if user_id not in PEOPLE:
            raise UserNotFound()
        return _user(user_id)

    @rpc
    def describe_users(self, user_ids):
        return [_user(user_id) for user_id in user_ids if user_id in PEOPLE]

    @rpc(expected_exceptions=UserNotFound)
    def describe_user_by_email(self, email):
        for user_id, (_, known) in PEOPLE.items():
            if known == email:
                return _user(user_id)
        raise UserNotFound()


class FakeTrading:
    name = "trading"

    @rpc
    def device_commitments(self, device_id):
        return {"open_orders": 0, "unsettled_trades": 0}


@pytest.fixture
def config(container_factory, service_config):
    settings = service_config(
        "devices", DEVICES={"default_max_hourly_kwh": 0.5}, RPC_TIMEOUT=5
    )
    container_factory(DevicesService, settings).start()
    container_factory(FakeTrading, settings).start()
    container_factory(FakeUsers, settings).start()
    return settings


@pytest.fixture
def devices_rpc(config):
    with ServiceRpcProxy("devices", config) as proxy:
        yield proxy


def publish(config, routing_key, payload):
    from kombu import Connection

    with Connection(config["AMQP_URI"]) as connection:
        connection.Producer().publish(
            payload,
            exchange=SYNC,
            routing_key=routing_key,
            declare=[SYNC],
            serializer="json",
        )


def eventually(check, attempts=100):
    """``check()``'s first true answer, asked every 0.1 s (a consumer's effect)."""
    for _ in range(attempts):
        if answer := check():
            return answer
        time.sleep(0.1)
    return check()


def keys(received):
    return [key for key, _ in received]


def test_a_new_account_gets_its_default_site_once(config, devices_rpc, listen):
    events = listen(SYNC, "site.*")
    for _ in range(2):
        publish(config, "user.created", {"user": {"id": ANN["user_id"]}})
    mine = eventually(lambda: devices_rpc.sites_of(ANN["user_id"]))
    assert [site["id"] for site in mine] == [default_site_id(ANN["user_id"])]
    (site,) = mine
    assert site["name"] == "Home" and site["timezone"] == "UTC"
    assert site["tariff"] == TARIFF and site["co2_kg_per_kwh"] == 0.4
    assert site["members"] == [{"user_id": ANN["user_id"], "role": "owner"}]
    received = events.messages(wait=2)
    assert keys(received) == ["site.created"]
    assert received[0][1]["site"] == site
    assert devices_rpc.describe_site(site["id"]) == site


def test_a_device_without_a_site_goes_to_its_owner_s_default_site(devices_rpc, listen):
    events = listen(SYNC, "#")
    device = devices_rpc.create_device(ANN, {"name": "Meter", "kind": "meter"})
    assert device["site_id"] == default_site_id(ANN["user_id"])
    assert device["room_id"] is None
    other = devices_rpc.create_device(
        ADMIN, {"name": "Roof", "kind": "pv", "user_id": BOB["user_id"]}
    )
    assert other["site_id"] == default_site_id(BOB["user_id"])
    devices_rpc.create_device(ANN, {"name": "Heat pump", "kind": "heat_pump"})
    received = events.messages(until=5)
    assert keys(received) == [
        "site.created",
        "device.created",
        "site.created",
        "device.created",
        "device.created",
    ]
    assert received[1][1]["device"]["site_id"] == device["site_id"]
    assert received[1][1]["device"]["room_id"] is None
    # Bob's site is his, not the ADMIN's who added his device.
    assert received[2][1]["site"]["members"] == [
        {"user_id": BOB["user_id"], "role": "owner"}
    ]


def test_a_site_and_its_rooms(devices_rpc, listen):
    events = listen(SYNC, "#")
    site = devices_rpc.create_site(
        ANN,
        {
            "name": "Flat",
            "timezone": "Europe/Berlin",
            "latitude": 52.52,
            "longitude": 13.4,
            "tariff": TARIFF
            | {
                "periods": [
                    {
                        "start_hour": 17,
                        "end_hour": 21,
                        "import_per_kwh": 0.45,
                        "export_per_kwh": 0.08,
                    }
                ]
            },
        },
    )
    assert site["members"] == [{"user_id": ANN["user_id"], "role": "owner"}]
    assert site["co2_kg_per_kwh"] == 0.4
    assert site["permissions"] == {
        "update_site": True,
        "manage_rooms": True,
        "manage_members": True,
        "delete_site": True,
    }
    kitchen = devices_rpc.create_room(ANN, site["id"], {"name": "Kitchen"})
    hall = devices_rpc.create_room(ANN, site["id"], {"name": "Hall"})
    renamed = devices_rpc.update_room(ANN, hall["id"], {"name": "Hallway"})
    assert renamed["name"] == "Hallway"
    changed = devices_rpc.update_site(ANN, site["id"], {"co2_kg_per_kwh": 0.38})
    assert changed["co2_kg_per_kwh"] == 0.38 and changed["timezone"] == "Europe/Berlin"
    assert [room["name"] for room in devices_rpc.list_rooms(ANN, site["id"])] == [
        "Kitchen",
        "Hallway",
    ]
    device = devices_rpc.create_device(
        ANN,
        {
            "name": "Oven",
            "kind": "appliance",
            "site_id": site["id"],
            "room_id": kitchen["id"],
        },
    )
    assert (device["site_id"], device["room_id"]) == (site["id"], kitchen["id"])
    devices_rpc.delete_room(ANN, kitchen["id"])
    assert devices_rpc.get_device(ANN, device["id"])["room_id"] is None
    received = events.messages(until=8)
    assert keys(received) == [
        "site.created",
        "room.created",
        "room.created",
        "room.updated",
        "site.updated",
        "device.created",
        "device.updated",
        "room.deleted",
    ]
    assert received[4][1]["site"]["co2_kg_per_kwh"] == 0.38
    assert received[6][1]["device"]["room_id"] is None
    assert received[7][1]["room"]["id"] == kitchen["id"]
    with pytest.raises(RoomNotFound):
        devices_rpc.update_room(ANN, kitchen["id"], {"name": "Gone"})


def test_a_site_s_input_is_checked(devices_rpc):
    with pytest.raises(ValidationFailed) as caught:
        devices_rpc.create_site(
            ANN,
            {
                "name": "Flat",
                "timezone": "Mars/Base",
                "tariff": TARIFF
                | {
                    "periods": [
                        {
                            "start_hour": 17,
                            "end_hour": 21,
                            "import_per_kwh": 0.4,
                            "export_per_kwh": 0,
                        },
                        {
                            "start_hour": 20,
                            "end_hour": 22,
                            "import_per_kwh": 0.4,
                            "export_per_kwh": 0,
                        },
                    ]
                },
            },
        )
    assert set(caught.value.details) == {"timezone", "tariff"}
    with pytest.raises(ValidationFailed) as caught:
        devices_rpc.create_site(ANN, {"name": "Flat", "latitude": 52.5})
    assert "longitude" in caught.value.details


def test_a_device_moves_between_sites_and_rooms(devices_rpc, listen):
    device = devices_rpc.create_device(ANN, {"name": "Meter", "kind": "meter"})
    flat = devices_rpc.create_site(ANN, {"name": "Flat"})
    room = devices_rpc.create_room(ANN, flat["id"], {"name": "Hall"})
    home_room = devices_rpc.create_room(ANN, device["site_id"], {"name": "Attic"})
    events = listen(SYNC, "device.*")
    moved = devices_rpc.update_device(
        ANN, device["id"], {"site_id": flat["id"], "room_id": room["id"]}
    )
    assert (moved["site_id"], moved["room_id"]) == (flat["id"], room["id"])
    # A room of another site is refused; so is a room that is not.
    with pytest.raises(ValidationFailed) as caught:
        devices_rpc.update_device(ANN, device["id"], {"room_id": home_room["id"]})
    assert "room_id" in caught.value.details
    with pytest.raises(RoomNotFound):
        devices_rpc.update_device(
            ANN, device["id"], {"room_id": "6f1c9d2e-0000-4000-8000-0000000000ff"}
        )
    # Moved back, it leaves its room.
    back = devices_rpc.update_device(ANN, device["id"], {"site_id": device["site_id"]})
    assert (back["site_id"], back["room_id"]) == (device["site_id"], None)
    received = events.messages(until=2)
    assert [body["device"]["site_id"] for _, body in received] == [
        flat["id"],
        device["site_id"],
    ]
    # Nobody puts a device in a site they may not change.
    with pytest.raises(SiteNotFound):
        devices_rpc.update_device(ANN, device["id"], {"site_id": _home(devices_rpc)})
    with pytest.raises(SiteNotFound):
        devices_rpc.create_device(
            BOB, {"name": "Mine", "kind": "meter", "site_id": flat["id"]}
        )
    assert [
        d["id"] for d in devices_rpc.list_devices(ANN, {"site_id": flat["id"]})
    ] == []
    assert [
        d["id"] for d in devices_rpc.list_devices(ANN, {"site_id": device["site_id"]})
    ] == [device["id"]]


def _home(devices_rpc):
    """Bob's default site."""
    devices_rpc.create_device(BOB, {"name": "Bob's", "kind": "meter"})
    return default_site_id(BOB["user_id"])


def test_members_act_by_their_role_on_the_site(devices_rpc, listen):
    site = devices_rpc.create_site(ANN, {"name": "Shop"})
    device = devices_rpc.create_device(
        ANN, {"name": "Fridge", "kind": "appliance", "site_id": site["id"]}
    )
    # A stranger, even one with devices of their own, sees none of it.
    devices_rpc.create_device(CY, {"name": "Cy's", "kind": "meter"})
    with pytest.raises(SiteNotFound):
        devices_rpc.get_site(CY, site["id"])
    with pytest.raises(DeviceNotFound):
        devices_rpc.get_device(CY, device["id"])
    assert [d["name"] for d in devices_rpc.list_devices(CY)] == ["Cy's"]
    assert [s["name"] for s in devices_rpc.list_sites(CY)] == ["Home"]

    events = listen(SYNC, "site.updated")
    added = devices_rpc.add_member(
        ANN, site["id"], {"email": "Bob@Example.com", "role": "viewer"}
    )
    assert added == {
        "user_id": BOB["user_id"],
        "role": "viewer",
        "name": "Bob",
        "email": "bob@example.com",
    }
    ((_, body),) = events.messages(until=1)
    assert body["site"]["members"] == [
        {"user_id": ANN["user_id"], "role": "owner"},
        {"user_id": BOB["user_id"], "role": "viewer"},
    ]
    with pytest.raises(UserNotFound):
        devices_rpc.add_member(
            ANN, site["id"], {"email": "nobody@example.com", "role": "viewer"}
        )

    # A viewer reads the site, its members and its devices, and changes nothing.
    assert devices_rpc.get_site(BOB, site["id"])["permissions"] == {
        "update_site": False,
        "manage_rooms": False,
        "manage_members": False,
        "delete_site": False,
    }
    assert [m["name"] for m in devices_rpc.list_members(BOB, site["id"])] == [
        "Ann",
        "Bob",
    ]
    seen = devices_rpc.get_device(BOB, device["id"])
    assert not any(seen["permissions"].values())
    assert [d["id"] for d in devices_rpc.list_devices(BOB)] == [device["id"]]
    assert {s["name"] for s in devices_rpc.list_sites(BOB)} == {"Shop"}
    with pytest.raises(DeviceNotFound):
        devices_rpc.update_device(BOB, device["id"], {"name": "Mine"})
    with pytest.raises(DeviceNotFound):
        devices_rpc.send_command(BOB, device["id"], SWITCH_ON)
    with pytest.raises(SiteNotFound):
        devices_rpc.update_site(BOB, site["id"], {"name": "Mine"})
    with pytest.raises(SiteNotFound):
        devices_rpc.create_room(BOB, site["id"], {"name": "Mine"})
    with pytest.raises(SiteNotFound):
        devices_rpc.set_member(BOB, site["id"], BOB["user_id"], {"role": "owner"})

    # An operator changes the site and its devices, and commands them; not its
    # members, nor deleting it or its devices.
    devices_rpc.set_member(ANN, site["id"], BOB["user_id"], {"role": "operator"})
    seen = devices_rpc.get_device(BOB, device["id"])
    assert seen["permissions"] == {
        "update": True,
        "delete": False,
        "issue_credentials": False,
        "command": True,
    }
    assert devices_rpc.update_device(BOB, device["id"], {"name": "Cold"})["name"] == (
        "Cold"
    )
    command = devices_rpc.send_command(BOB, device["id"], SWITCH_ON)
    assert command["device_id"] == device["id"]
    assert (
        devices_rpc.list_commands(BOB, device["id"])[0]["created_by"]
        == (BOB["user_id"])
    )
    devices_rpc.update_site(BOB, site["id"], {"address": "2 High St"})
    devices_rpc.create_room(BOB, site["id"], {"name": "Store"})
    with pytest.raises(DeviceNotFound):
        devices_rpc.delete_device(BOB, device["id"])
    with pytest.raises(SiteNotFound):
        devices_rpc.delete_site(BOB, site["id"])
    with pytest.raises(SiteNotFound):
        devices_rpc.add_member(
            BOB, site["id"], {"email": "cy@example.com", "role": "viewer"}
        )

    # Staff read every site; only ADMIN changes one it is no member of.
    assert devices_rpc.get_site(STAFF, site["id"])["id"] == site["id"]
    assert site["id"] in {s["id"] for s in devices_rpc.list_sites(STAFF)}
    assert [
        s["name"] for s in devices_rpc.list_sites(STAFF, {"user_id": BOB["user_id"]})
    ] == ["Shop"]
    with pytest.raises(SiteNotFound):
        devices_rpc.update_site(STAFF, site["id"], {"name": "Staff's"})
    devices_rpc.update_site(ADMIN, site["id"], {"name": "Corner shop"})


def test_a_site_keeps_an_owner(devices_rpc):
    site = devices_rpc.create_site(ANN, {"name": "Shop"})
    with pytest.raises(LastOwner):
        devices_rpc.set_member(ANN, site["id"], ANN["user_id"], {"role": "viewer"})
    with pytest.raises(LastOwner):
        devices_rpc.remove_member(ANN, site["id"], ANN["user_id"])
    with pytest.raises(MemberNotFound):
        devices_rpc.remove_member(ANN, site["id"], BOB["user_id"])
    with pytest.raises(UserNotFound):
        devices_rpc.set_member(
            ANN, site["id"], "6f1c9d2e-0000-4000-8000-0000000000ff", {"role": "viewer"}
        )
    devices_rpc.set_member(ANN, site["id"], BOB["user_id"], {"role": "owner"})
    devices_rpc.set_member(ANN, site["id"], CY["user_id"], {"role": "viewer"})
    # A member may leave; with another owner, so may an owner.
    devices_rpc.remove_member(CY, site["id"], CY["user_id"])
    devices_rpc.remove_member(ANN, site["id"], ANN["user_id"])
    assert devices_rpc.describe_site(site["id"])["members"] == [
        {"user_id": BOB["user_id"], "role": "owner"}
    ]
    with pytest.raises(SiteNotFound):
        devices_rpc.get_site(ANN, site["id"])


def test_deleting_a_site_deletes_its_rooms_and_devices(devices_rpc, listen):
    site = devices_rpc.create_site(ANN, {"name": "Shop"})
    devices_rpc.set_member(ANN, site["id"], BOB["user_id"], {"role": "operator"})
    room = devices_rpc.create_room(ANN, site["id"], {"name": "Back"})
    mine = devices_rpc.create_device(
        ANN, {"name": "Till", "kind": "meter", "site_id": site["id"]}
    )
    bobs = devices_rpc.create_device(
        BOB,
        {
            "name": "Fan",
            "kind": "appliance",
            "site_id": site["id"],
            "room_id": room["id"],
        },
    )
    elsewhere = devices_rpc.create_device(ANN, {"name": "Home", "kind": "meter"})
    events = listen(SYNC, "#")
    devices_rpc.delete_site(ANN, site["id"])
    received = events.messages(until=3)
    assert keys(received) == ["device.deleted", "device.deleted", "site.deleted"]
    assert {body["device"]["id"] for _, body in received[:2]} == {
        mine["id"],
        bobs["id"],
    }
    assert received[2][1]["site"]["id"] == site["id"]
    with pytest.raises(SiteNotFound):
        devices_rpc.describe_site(site["id"])
    with pytest.raises(RoomNotFound):
        devices_rpc.update_room(ADMIN, room["id"], {"name": "Gone"})
    with pytest.raises(DeviceNotFound):
        devices_rpc.get_device(BOB, bobs["id"])
    assert devices_rpc.get_device(ANN, elsewhere["id"])["name"] == "Home"


def test_a_deleted_user_s_memberships_go_and_sites_left_unowned_with_them(
    config, devices_rpc, listen
):
    shared = devices_rpc.create_site(ANN, {"name": "Shared"})
    devices_rpc.set_member(ANN, shared["id"], BOB["user_id"], {"role": "owner"})
    alone = devices_rpc.create_site(ANN, {"name": "Alone"})
    devices_rpc.set_member(ANN, alone["id"], CY["user_id"], {"role": "operator"})
    cys = devices_rpc.create_device(
        CY, {"name": "Cy's", "kind": "meter", "site_id": alone["id"]}
    )
    bobs = devices_rpc.create_device(
        BOB, {"name": "Bob's", "kind": "meter", "site_id": shared["id"]}
    )
    events = listen(SYNC, "#")
    publish(config, "user.deleted", {"user": {"id": ANN["user_id"]}})
    # The first is the test's own user.deleted.
    received = events.messages(wait=5, until=4)[1:]
    assert sorted(keys(received)) == ["device.deleted", "site.deleted", "site.updated"]
    by_key = {}
    for key, body in received:
        by_key.setdefault(key, []).append(body)
    assert by_key["device.deleted"][0]["device"]["id"] == cys["id"]
    assert by_key["site.deleted"][0]["site"]["id"] == alone["id"]
    assert by_key["site.updated"][0]["site"]["members"] == [
        {"user_id": BOB["user_id"], "role": "owner"}
    ]
    assert devices_rpc.get_device(BOB, bobs["id"])["site_id"] == shared["id"]
    assert devices_rpc.sites_of(ANN["user_id"]) == []


def test_the_migration_puts_each_owner_s_devices_in_their_default_site(
    resources, engines
):
    from alembic import command
    from sqlalchemy import text

    from ems.database import alembic_config

    url, devicedb = resources.databases["devicedb"], engines["devicedb"]
    before = "7b1e4c2d9a63"  # devices without sites
    command.downgrade(alembic_config("devicedb", url), before)
    try:
        with devicedb.begin() as connection:
            for number, owner in enumerate((ANN, ANN, BOB)):
                connection.execute(
                    text(
                        "INSERT INTO devices (id, user_id, name, kind, "
                        "max_hourly_kwh, reading_interval_s, created_at, updated_at) "
                        "VALUES (:id, :user_id, 'D', 'meter', 1, 60, now(), now())"
                    ),
                    {
                        "id": f"6f1c9d2e-0000-4000-8000-00000000010{number}",
                        "user_id": owner["user_id"],
                    },
                )
    finally:
        command.upgrade(alembic_config("devicedb", url), "head")
    with devicedb.connect() as connection:
        placed = connection.execute(
            text("SELECT user_id, site_id, room_id FROM devices ORDER BY id")
        ).all()
        made = connection.execute(
            text(
                "SELECT s.id, s.name, s.timezone, s.tariff, s.co2_kg_per_kwh, "
                "m.user_id, m.role FROM sites s JOIN site_members m "
                "ON m.site_id = s.id ORDER BY m.user_id"
            )
        ).all()
    assert [tuple(row) for row in placed] == [
        (owner["user_id"], default_site_id(owner["user_id"]), None)
        for owner in (ANN, ANN, BOB)
    ]
    assert [tuple(row) for row in made] == [
        (default_site_id(owner["user_id"]), "Home", "UTC", TARIFF, 0.4)
        + (owner["user_id"], "owner")
        for owner in (ANN, BOB)
    ]


def test_the_inventory_lists_every_site_with_its_rooms_and_devices(devices_rpc):
    flat = devices_rpc.create_site(ANN, {"name": "Flat", "tariff": TARIFF})
    kitchen = devices_rpc.create_room(ANN, flat["id"], {"name": "Kitchen"})
    oven = devices_rpc.create_device(
        ANN,
        {"name": "Oven", "kind": "appliance", "site_id": flat["id"]},
    )
    devices_rpc.create_device(BOB, {"name": "Meter", "kind": "meter"})
    pages, after = [], None
    while page := devices_rpc.site_inventory(after, 1):
        pages.append(page)
        after = page[-1]["site"]["id"]
    entries = [entry for page in pages for entry in page]
    assert [len(page) for page in pages] == [1] * len(entries)
    assert [e["site"]["id"] for e in entries] == sorted(
        e["site"]["id"] for e in entries
    )
    of_flat = next(e for e in entries if e["site"]["id"] == flat["id"])
    assert [room["id"] for room in of_flat["rooms"]] == [kitchen["id"]]
    assert [device["id"] for device in of_flat["devices"]] == [oven["id"]]
    assert "permissions" not in of_flat["site"]
    bob_home = default_site_id(BOB["user_id"])
    assert [
        e["devices"][0]["name"] for e in entries if e["site"]["id"] == bob_home
    ] == ["Meter"]
