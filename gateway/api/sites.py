"""Sites: where a household's devices are, with the time zone, tariff and grid
intensity their energy is priced and weighed by; their rooms; and their members,
each an owner, operator or viewer of the site."""

from gateway.route import SIGNED_IN, Route
from gateway.schemas import ErrorSchema
from services.devices.schemas import (
    MemberAddSchema,
    MemberRoleSchema,
    RoomCreateSchema,
    RoomSchema,
    RoomUpdateSchema,
    SiteCreateSchema,
    SiteListQuerySchema,
    SiteMemberViewSchema,
    SiteSchema,
    SiteUpdateSchema,
)

WHO = (
    "Members of the site read it (owner, operator, viewer), as do ADMIN, OPERATOR "
    "and VIEWER; a site out of the caller's reach is 404, as a missing one."
)
SITE_EXAMPLE = {
    "id": "5c0e…",
    "name": "Home",
    "address": "1 Main St",
    "latitude": 52.52,
    "longitude": 13.4,
    "timezone": "Europe/Berlin",
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
    "co2_kg_per_kwh": 0.38,
    "members": [{"user_id": "9b2f…", "role": "owner"}],
    "created_at": "2026-12-02T08:00:00Z",
    "updated_at": "2026-12-02T08:00:00Z",
    "permissions": {
        "update_site": True,
        "manage_rooms": True,
        "manage_members": True,
        "delete_site": True,
    },
}
ROOM_EXAMPLE = {
    "id": "e81a…",
    "site_id": "5c0e…",
    "name": "Kitchen",
    "created_at": "2026-12-02T08:00:00Z",
    "updated_at": "2026-12-02T08:00:00Z",
}
MEMBER_EXAMPLE = {
    "user_id": "3d4c…",
    "role": "viewer",
    "name": "Grace",
    "email": "grace@example.com",
}
LAST_OWNER = {
    "description": "the site would be left without an owner",
    "content": {
        "application/json": {
            "schema": ErrorSchema,
            "example": {
                "error": "CONFLICT",
                "message": "A site keeps at least one owner: make another member "
                "owner first.",
                "details": {},
            },
        }
    },
}

ROUTES = (
    Route(
        "GET",
        "/api/sites",
        SIGNED_IN,
        "devices.list_sites",
        tag="sites",
        summary="List sites",
        description=(
            "The sites the caller is a member of; every site for ADMIN, OPERATOR "
            "and VIEWER (one user's with ``user_id``). Every account has a default "
            "site, ``Home``, made with it."
        ),
        query=SiteListQuerySchema,
        returns=[SiteSchema],
        returns_description="the sites, oldest first",
        example=[SITE_EXAMPLE],
    ),
    Route(
        "POST",
        "/api/sites",
        SIGNED_IN,
        "devices.create_site",
        tag="sites",
        summary="Add a site",
        description=(
            "A new site, of which the caller is the owner (every role but "
            "VIEWER). The time zone, tariff and grid intensity not given are the "
            "platform's defaults (`EMS_TIMEZONE`, EUR 0.30 / 0.08 per kWh, "
            "0.4 kg CO₂ per kWh). A tariff's periods are local hours "
            "``[start_hour, end_hour)`` that do not overlap; latitude and "
            "longitude come together or not at all."
        ),
        body=SiteCreateSchema,
        status=201,
        returns=SiteSchema,
        returns_description="the site",
        example_body={
            "name": "Holiday flat",
            "timezone": "Europe/Lisbon",
            "tariff": {
                "currency": "EUR",
                "import_per_kwh": 0.25,
                "export_per_kwh": 0.05,
                "periods": [],
            },
        },
        example=SITE_EXAMPLE,
    ),
    Route(
        "GET",
        "/api/sites/<string:site_id>",
        SIGNED_IN,
        "devices.get_site",
        tag="sites",
        summary="Get a site",
        description=f"One site, with its members and what the caller may do. {WHO}",
        returns=SiteSchema,
        returns_description="the site",
        example=SITE_EXAMPLE,
    ),
    Route(
        "PATCH",
        "/api/sites/<string:site_id>",
        SIGNED_IN,
        "devices.update_site",
        tag="sites",
        summary="Update a site",
        description=(
            "Change a site's name, address, place, time zone, tariff (a tariff "
            "given replaces the whole tariff) or grid intensity: its owners and "
            "operators, and ADMIN."
        ),
        body=SiteUpdateSchema,
        returns=SiteSchema,
        returns_description="the site",
        example_body={"timezone": "Europe/Berlin", "co2_kg_per_kwh": 0.38},
        example=SITE_EXAMPLE,
    ),
    Route(
        "DELETE",
        "/api/sites/<string:site_id>",
        SIGNED_IN,
        "devices.delete_site",
        tag="sites",
        summary="Delete a site",
        description=(
            "Delete a site with its rooms and its devices (their readings and "
            "broker logins go with them): its owners, and ADMIN."
        ),
        status=204,
        returns_description="deleted",
        passes=("client",),
    ),
    Route(
        "GET",
        "/api/sites/<string:site_id>/rooms",
        SIGNED_IN,
        "devices.list_rooms",
        tag="sites",
        summary="List a site's rooms",
        description=f"A site's rooms, oldest first. {WHO}",
        returns=[RoomSchema],
        returns_description="the rooms",
        example=[ROOM_EXAMPLE],
    ),
    Route(
        "POST",
        "/api/sites/<string:site_id>/rooms",
        SIGNED_IN,
        "devices.create_room",
        tag="sites",
        summary="Add a room",
        description="A new room of a site: its owners and operators, and ADMIN.",
        body=RoomCreateSchema,
        status=201,
        returns=RoomSchema,
        returns_description="the room",
        example_body={"name": "Kitchen"},
        example=ROOM_EXAMPLE,
    ),
    Route(
        "PATCH",
        "/api/rooms/<string:room_id>",
        SIGNED_IN,
        "devices.update_room",
        tag="sites",
        summary="Rename a room",
        description="Rename a room: its site's owners and operators, and ADMIN.",
        body=RoomUpdateSchema,
        returns=RoomSchema,
        returns_description="the room",
        example_body={"name": "Utility room"},
        example=ROOM_EXAMPLE,
    ),
    Route(
        "DELETE",
        "/api/rooms/<string:room_id>",
        SIGNED_IN,
        "devices.delete_room",
        tag="sites",
        summary="Delete a room",
        description=(
            "Delete a room: its site's owners and operators, and ADMIN. Its "
            "devices stay in the site, in no room."
        ),
        status=204,
        returns_description="deleted",
    ),
    Route(
        "GET",
        "/api/sites/<string:site_id>/members",
        SIGNED_IN,
        "devices.list_members",
        tag="sites",
        summary="List a site's members",
        description=f"A site's members, each with their name and e-mail. {WHO}",
        returns=[SiteMemberViewSchema],
        returns_description="the members",
        example=[MEMBER_EXAMPLE],
    ),
    Route(
        "POST",
        "/api/sites/<string:site_id>/members",
        SIGNED_IN,
        "devices.add_member",
        tag="sites",
        summary="Add a member by e-mail",
        description=(
            "Make the user of an e-mail address a member of the site with a role "
            "(``owner``: everything, its members and deleting it; ``operator``: "
            "the site, its rooms and devices, commanding them; ``viewer``: reads), "
            "or give a member another role: the site's owners, and ADMIN. An "
            "address that is no user's is 404."
        ),
        body=MemberAddSchema,
        status=201,
        returns=SiteMemberViewSchema,
        returns_description="the member",
        example_body={"email": "grace@example.com", "role": "viewer"},
        example=MEMBER_EXAMPLE,
        errors={409: LAST_OWNER},
        passes=("client",),
    ),
    Route(
        "PUT",
        "/api/sites/<string:site_id>/members/<string:user_id>",
        SIGNED_IN,
        "devices.set_member",
        tag="sites",
        summary="Set a member's role",
        description=(
            "Give a member (or a new one, by id) a role on the site: the site's "
            "owners, and ADMIN. The last owner keeps that role (409)."
        ),
        body=MemberRoleSchema,
        returns=SiteMemberViewSchema,
        returns_description="the member",
        example_body={"role": "operator"},
        example=MEMBER_EXAMPLE | {"role": "operator"},
        errors={409: LAST_OWNER},
        passes=("client",),
    ),
    Route(
        "DELETE",
        "/api/sites/<string:site_id>/members/<string:user_id>",
        SIGNED_IN,
        "devices.remove_member",
        tag="sites",
        summary="Remove a member",
        description=(
            "Remove a member from the site: the site's owners, and ADMIN; any "
            "member may leave. The last owner stays (409)."
        ),
        status=204,
        returns_description="removed",
        errors={409: LAST_OWNER},
        passes=("client",),
    ),
)
