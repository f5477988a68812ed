"""The user directory: staff find people by name or e-mail address (to invite them
to a demand-response event, to answer them)."""

from gateway.route import Route, only
from gateway.schemas import ErrorSchema
from services.common.policy import READERS
from services.users.schemas import UserDirectoryQuerySchema, UserSchema

ROUTES = (
    Route(
        "GET",
        "/api/users/directory",
        only(*READERS),
        "users.find_users",
        tag="users",
        summary="Find users",
        description=(
            "Users whose name or e-mail address contains ``q`` (any case), or "
            "everyone without it; by name, at most ``limit`` (50 unless asked, "
            "1 to 1000: 400 outside). OPERATOR, ADMIN and VIEWER. The web app asks as "
            "staff type a name, for 20 at a time."
        ),
        errors={
            400: {
                "description": (
                    "``limit`` not an integer from 1 to 1000, ``q`` longer than "
                    "254 characters, or another parameter"
                ),
                "content": {
                    "application/json": {
                        "schema": ErrorSchema,
                        "example": {
                            "error": "VALIDATION_ERROR",
                            "message": "invalid input",
                            "details": {
                                "limit": [
                                    "Must be greater than or equal to 1 and "
                                    "less than or equal to 1000."
                                ]
                            },
                        },
                    }
                },
            }
        },
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
