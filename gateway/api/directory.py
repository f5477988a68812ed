"""The user directory: staff find people by name or e-mail address (to invite them
to a demand-response event, to answer them)."""

from gateway.route import Route, only
from services.common.policy import STAFF
from services.users.schemas import UserDirectoryQuerySchema, UserSchema

ROUTES = (
    Route(
        "GET",
        "/api/users/directory",
        only(*STAFF),
        "users.find_users",
        tag="users",
        summary="Find users",
        description=(
            "Users whose name or e-mail address contains ``q`` (any case), or "
            "everyone without it; by name, at most ``limit`` (50 unless asked, "
            "up to 1000). OPERATOR and ADMIN."
        ),
        query=UserDirectoryQuerySchema,
        returns=[UserSchema],
        returns_description="the users found, by name",
        example=[
            {
                "id": "9b2f…",
                "email": "ada@example.com",
                "name": "Ada",
                "role": "USER",
                "created_at": "2026-11-02T09:12:00Z",
                "updated_at": "2026-11-02T09:12:00Z",
            }
        ],
    ),
)
