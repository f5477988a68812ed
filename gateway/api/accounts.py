"""Accounts: registering, logging in and out, and ADMIN's management of users."""

from gateway.route import PUBLIC, SIGNED_IN, Route, only
from gateway.schemas import ErrorSchema
from services.auth.schemas import (
    LoginSchema,
    PasswordResetConfirmSchema,
    PasswordResetSchema,
    SessionSchema,
    TokenSchema,
    VerificationResendSchema,
)
from services.common.policy import ADMIN
from services.users.policies import READ_USERS
from services.users.schemas import (
    AccountDeleteSchema,
    CurrentUserSchema,
    EmailConfirmSchema,
    ProfileUpdateSchema,
    RegisteredSchema,
    RegisterSchema,
    UserCreateSchema,
    UserSchema,
    UserUpdateSchema,
)

#: What a used or expired e-mailed link answers.
LINK_GONE = {
    "description": (
        "the link was used already (`details.token`: `used`) or has expired "
        "(`expired`); ask for a new one"
    ),
    "content": {
        "application/json": {
            "schema": ErrorSchema,
            "example": {
                "error": "GONE",
                "message": "This link has expired; ask for a new one.",
                "details": {"token": ["expired"]},
            },
        }
    },
}

#: What logging in to an account whose address is still to be confirmed answers.
EMAIL_NOT_VERIFIED = {
    "description": (
        "the password is right, but the account's e-mail address is still to be "
        "confirmed (sign-up verification, ``EMS_SIGNUP_VERIFICATION``): follow "
        "the e-mailed link, or ask for a new one "
        "(``POST /api/auth/verification/resend``)"
    ),
    "content": {
        "application/json": {
            "schema": ErrorSchema,
            "example": {
                "error": "EMAIL_NOT_VERIFIED",
                "message": "Confirm your e-mail address first: follow the link we "
                "e-mailed you, or ask for a new one.",
                "details": {"email": ["not verified"]},
            },
        }
    },
}

ROUTES = (
    Route(
        "POST",
        "/api/auth/login",
        PUBLIC,
        "auth.login",
        tag="auth",
        summary="Log in",
        description=(
            "Exchange an e-mail address and password for an access token. An "
            "account whose address is still to be confirmed answers 403 "
            "``EMAIL_NOT_VERIFIED``, once the password is right."
        ),
        body=LoginSchema,
        returns=TokenSchema,
        returns_description="an access token",
        example={"access_token": "eyJ…", "token_type": "Bearer", "expires_in": 3600},
        example_body={"email": "ada@example.com", "password": "correct-horse"},
        passes=("client", "user_agent"),
        errors={403: EMAIL_NOT_VERIFIED, 429: "TooManyRequests"},
    ),
    Route(
        "POST",
        "/api/auth/verification/resend",
        PUBLIC,
        "auth.resend_verification",
        tag="auth",
        summary="Send the sign-up confirmation again",
        description=(
            "E-mail a new link confirming this address, if it is an account's "
            "still to be confirmed; the link sent before stops working. The "
            "answer is 202 either way. The link works once, for "
            "``EMS_PASSWORD_RESET_TTL_MINUTES`` (30). Requests are rate-limited "
            "as password resets are, and counted with them."
        ),
        body=VerificationResendSchema,
        status=202,
        returns_description=(
            "a link is on its way if the address is an account's still to be confirmed"
        ),
        example={
            "message": "If this address belongs to an account still to be "
            "confirmed, a link to confirm it is on its way."
        },
        example_body={"email": "ada@example.com"},
        passes=("client",),
        errors={429: "TooManyRequests"},
    ),
    Route(
        "POST",
        "/api/auth/password-reset",
        PUBLIC,
        "auth.request_password_reset",
        tag="auth",
        summary="Ask for a password reset link",
        description=(
            "E-mail a link to choose a new password to this address, if it is an "
            "account's. The answer is 202 either way, so it tells no one whether "
            "the address has an account. The link works once, for "
            "``EMS_PASSWORD_RESET_TTL_MINUTES`` (30). Requests are rate-limited "
            "like failed logins, per client and address and per client."
        ),
        body=PasswordResetSchema,
        status=202,
        returns_description="a link is on its way if the address is an account's",
        example={
            "message": "If this address belongs to an account, a link to choose a "
            "new password is on its way."
        },
        example_body={"email": "ada@example.com"},
        passes=("client",),
        errors={429: "TooManyRequests"},
    ),
    Route(
        "POST",
        "/api/auth/password-reset/confirm",
        PUBLIC,
        "auth.confirm_password_reset",
        tag="auth",
        summary="Choose a new password with a reset link",
        description=(
            "Set the password of the account the link was sent to. Every session "
            "of that account ends: its tokens stop working and its sockets close. "
            "An unknown token answers 400; a used or expired one 410."
        ),
        body=PasswordResetConfirmSchema,
        status=204,
        returns_description="the password is set; log in with it",
        example_body={"token": "q8v…", "password": "a-new-passphrase"},
        errors={410: LINK_GONE},
        passes=("client",),
    ),
    Route(
        "POST",
        "/api/auth/logout",
        SIGNED_IN,
        "auth.logout",
        tag="auth",
        summary="Log out",
        description=("End this token's session everywhere."),
        status=204,
        returns_description="the token no longer works",
        passes=("token",),
    ),
    Route(
        "GET",
        "/api/auth/sessions",
        SIGNED_IN,
        "auth.list_sessions",
        tag="auth",
        summary="My sessions",
        description=(
            "The caller's sessions that have not ended (each login is one), most "
            "recently used first: the browser and system named from its "
            "User-Agent, when it logged in and when it was last used (written "
            "down at most once a minute). ``current`` marks this request's."
        ),
        returns=[SessionSchema],
        returns_description="the caller's sessions",
        passes=("token",),
        example=[
            {
                "id": "3f9a…",
                "browser": "Firefox on Linux",
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) …",
                "created_at": "2026-12-02T07:12:00Z",
                "last_used_at": "2026-12-02T08:01:00Z",
                "expires_at": "2026-12-02T08:12:00Z",
                "current": True,
            }
        ],
    ),
    Route(
        "DELETE",
        "/api/auth/sessions/<string:session_id>",
        SIGNED_IN,
        "auth.revoke_session",
        tag="auth",
        summary="End one of my sessions",
        description=(
            "End one of the caller's sessions (signing out that browser): its "
            "token stops working at once, at Traefik's ForwardAuth too, and its "
            "sockets close. Another user's session is not found."
        ),
        status=204,
        returns_description="the session has ended",
    ),
    Route(
        "GET",
        "/api/auth/me",
        SIGNED_IN,
        "users.current_user",
        tag="auth",
        summary="Who am I",
        description=(
            "The caller, and what their account may do: ``permissions`` names "
            "each action, ``<service>.<action>``, that the services' policies let "
            "this account take whoever owns the object (``devices.read``: every "
            "device) or that is about no object (``devices.create``). The web "
            "app shows what they list, and never decides from the role."
        ),
        returns=CurrentUserSchema,
        returns_description="the caller, with their account's permissions",
        example={
            "id": "5d0c…",
            "email": "op@example.com",
            "name": "Op",
            "role": "OPERATOR",
            "created_at": "2026-11-02T09:12:00Z",
            "updated_at": "2026-11-02T09:12:00Z",
            "time_zone": "Europe/Berlin",
            "units": "kWh",
            "theme": "system",
            "permissions": [
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
        },
    ),
    Route(
        "PATCH",
        "/api/auth/me",
        SIGNED_IN,
        "users.update_me",
        tag="auth",
        summary="Change my account",
        description=(
            "The caller changes their own account. ``name``, ``time_zone`` (IANA, "
            "``Europe/Berlin``), ``units`` (``kWh``, ``Wh``) and ``theme`` "
            "(``system``, ``light``, ``dark``) at once. A new ``password`` needs "
            "``current_password`` (400 naming it if wrong) and ends the caller's "
            "other sessions; this one goes on. A new ``email`` needs "
            "``current_password`` too and takes effect once the link e-mailed to "
            "the new address is followed (``POST /api/auth/email/confirm``); the "
            "answer names it as ``pending_email`` and the account keeps its "
            "address until then."
        ),
        body=ProfileUpdateSchema,
        returns=CurrentUserSchema,
        returns_description="the caller's account, as ``GET /api/auth/me``",
        example_body={"name": "Ada L.", "time_zone": "Europe/Berlin", "theme": "dark"},
        passes=("token", "client"),
        errors={409: "Conflict"},
    ),
    Route(
        "DELETE",
        "/api/auth/me",
        SIGNED_IN,
        "users.delete_me",
        tag="auth",
        summary="Delete my account",
        description=(
            "Delete the caller's own account, given its ``password`` (400 naming "
            "it if wrong), and everything it owns, exactly as an ADMIN's delete "
            "does. Every token of the account stops working."
        ),
        body=AccountDeleteSchema,
        status=204,
        returns_description="deleted",
        example_body={"password": "correct-horse"},
        passes=("client",),
    ),
    Route(
        "POST",
        "/api/auth/email/confirm",
        PUBLIC,
        "users.confirm_email_change",
        tag="auth",
        summary="Confirm an e-mail address",
        description=(
            "Follow the link e-mailed to a new address: the account moves to it. "
            "The link e-mailed at sign-up (when ``EMS_SIGNUP_VERIFICATION`` is on) "
            "confirms the new account's address, which may log in from then on. "
            "The link works once, for ``EMS_PASSWORD_RESET_TTL_MINUTES`` (30). An "
            "unknown token answers 400, a used or expired one 410, an address "
            "another account took meanwhile 409."
        ),
        body=EmailConfirmSchema,
        returns=UserSchema,
        returns_description="the account, with its (new) address",
        example_body={"token": "q8v…"},
        errors={409: "Conflict", 410: LINK_GONE},
    ),
    Route(
        "POST",
        "/api/auth/register",
        PUBLIC,
        "users.register",
        tag="auth",
        summary="Create an account",
        description=(
            "Create an account. Its role is always USER. When sign-up "
            "verification is on (``EMS_SIGNUP_VERIFICATION``), the account may "
            "log in only once the link e-mailed to its address is followed "
            "(``POST /api/auth/email/confirm``); ``email_verified`` says which."
        ),
        body=RegisterSchema,
        status=201,
        returns=RegisteredSchema,
        returns_description="the new user",
        example={
            "id": "9b2f…",
            "email": "ada@example.com",
            "name": "Ada",
            "role": "USER",
            "email_verified": True,
        },
        example_body={
            "email": "ada@example.com",
            "password": "correct-horse",
            "name": "Ada",
        },
        passes=("client",),
        errors={409: "Conflict", 429: "TooManyRequests"},
    ),
    Route(
        "POST",
        "/api/users",
        only(ADMIN),
        "users.create_user",
        tag="users",
        summary="Create a user",
        description=("Create a user with any role. ADMIN only."),
        body=UserCreateSchema,
        status=201,
        returns=UserSchema,
        returns_description="the new user",
        example_body={
            "email": "op@example.com",
            "password": "s3cret-pass",
            "name": "Op",
            "role": "OPERATOR",
        },
        errors={409: "Conflict"},
    ),
    Route(
        "DELETE",
        "/api/users/<string:user_id>",
        only(ADMIN),
        "users.delete_user",
        tag="users",
        summary="Delete a user",
        description=("Delete a user and everything they own. ADMIN only."),
        status=204,
        returns_description="deleted; their token stops working at once",
        passes=("client",),
    ),
    Route(
        "GET",
        "/api/users/<string:user_id>",
        only(*READ_USERS.roles),
        "users.get_user",
        tag="users",
        summary="Get a user",
        description=("One user. ADMIN, and VIEWER (who reads, and changes no one)."),
        returns=UserSchema,
        returns_description="the user",
    ),
    Route(
        "GET",
        "/api/users",
        only(*READ_USERS.roles),
        "users.list_users",
        tag="users",
        summary="List users",
        description=("Every user. ADMIN, and VIEWER (who reads, and changes no one)."),
        returns=[UserSchema],
        returns_description="the users, oldest first",
    ),
    Route(
        "PATCH",
        "/api/users/<string:user_id>",
        only(ADMIN),
        "users.update_user",
        tag="users",
        summary="Update a user",
        description=(
            "Change a user's name, e-mail address, role or password. ADMIN only. A "
            "changed role or a new password ends the user's sessions: every token "
            "issued before stops working, even if the role is later changed back, "
            "and their open sockets are closed."
        ),
        body=UserUpdateSchema,
        returns=UserSchema,
        returns_description="the user",
        example_body={"role": "OPERATOR"},
        errors={409: "Conflict"},
        passes=("client",),
    ),
)
