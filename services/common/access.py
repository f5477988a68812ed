"""Who may see and change what a user owns (devices, batteries): the owner, and
staff by role."""

#: Roles that read everyone's objects; ADMIN alone changes other people's.
READ_ALL_ROLES = ("ADMIN", "OPERATOR")
WRITE_ALL_ROLES = ("ADMIN",)


def can_read(viewer: dict, owner_id: str) -> bool:
    return viewer["role"] in READ_ALL_ROLES or viewer["user_id"] == owner_id


def can_write(viewer: dict, owner_id: str) -> bool:
    return viewer["role"] in WRITE_ALL_ROLES or viewer["user_id"] == owner_id


def listing_owner(viewer: dict, requested_owner: str | None) -> str | None:
    """Whose objects a listing shows: None for everyone's.

    A USER always sees their own; ADMIN and OPERATOR see everyone's, or one
    owner's when they ask for it.
    """
    if viewer["role"] in READ_ALL_ROLES:
        return requested_owner
    return viewer["user_id"]
