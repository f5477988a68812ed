"""How users are loaded from requests and dumped on the wire."""

from zoneinfo import available_timezones

from marshmallow import Schema, fields, pre_load, validate

from services.common.policy import ROLES
from services.common.schemas import InputSchema, PatchSchema, UtcDateTime

PASSWORD = validate.Length(min=8, max=256)
NAME = validate.Length(min=1, max=200)
#: How many people the directory answers with, unless asked for fewer or more.
DIRECTORY_LIMIT = 50
MAX_DIRECTORY_LIMIT = 1000


class UserSchema(Schema):
    id = fields.String(dump_only=True)
    email = fields.Email(dump_only=True)
    name = fields.String(dump_only=True)
    role = fields.String(dump_only=True, metadata={"enum": list(ROLES)})
    created_at = UtcDateTime(dump_only=True)
    updated_at = UtcDateTime(dump_only=True)


class RegisteredSchema(UserSchema):
    """``POST /api/auth/register``'s answer: the new account, and whether it may
    log in now."""

    email_verified = fields.Boolean(
        dump_only=True,
        metadata={
            "description": (
                "false when sign-up verification is on (``EMS_SIGNUP_"
                "VERIFICATION``): the account may log in once the link e-mailed "
                "to its address is followed"
            )
        },
    )


#: What a user may choose for themselves.
UNITS = ("kWh", "Wh")
THEMES = ("system", "light", "dark")
TIME_ZONES = frozenset(available_timezones())


def _time_zone(value: str) -> bool:
    if value not in TIME_ZONES:
        raise validate.ValidationError("not an IANA time zone (Europe/Berlin)")
    return True


class CurrentUserSchema(UserSchema):
    """``GET /api/auth/me``: the caller, their preferences, and what their account
    may do."""

    time_zone = fields.String(
        dump_only=True, metadata={"description": "IANA time zone, UTC by default"}
    )
    units = fields.String(dump_only=True, metadata={"enum": list(UNITS)})
    theme = fields.String(dump_only=True, metadata={"enum": list(THEMES)})
    pending_email = fields.String(
        dump_only=True,
        metadata={
            "description": (
                "after a change of e-mail address, the new one, until its link is "
                "followed (only in the answer to that change)"
            )
        },
    )

    permissions = fields.List(
        fields.String(),
        dump_only=True,
        metadata={
            "description": (
                "what this account may do that is not about one object of its "
                "own, as ``<service>.<action>`` from the services' policies: "
                "actions on nothing in particular (``devices.create``), and those "
                "the role gives on anyone's object (``devices.read``: reads every "
                "device). What the caller may do with an object comes with it, "
                "as its ``permissions``."
            )
        },
    )


class UserDirectoryQuerySchema(InputSchema):
    """``GET /api/users/directory``: people whose name or e-mail address contains
    ``q`` (any case), or everyone, by name; at most ``limit`` of them."""

    q = fields.String(
        load_default="",
        validate=validate.Length(max=254),
        metadata={
            "description": (
                "part of a name or e-mail address, any case; at most 254 "
                "characters (400 beyond). From three characters on, a trigram "
                "index finds the users without reading them all."
            )
        },
    )
    limit = fields.Integer(
        load_default=DIRECTORY_LIMIT,
        validate=validate.Range(min=1, max=MAX_DIRECTORY_LIMIT),
        metadata={
            "description": (
                f"how many users at most, 1 to {MAX_DIRECTORY_LIMIT} "
                f"({DIRECTORY_LIMIT} unless asked); 400 outside"
            )
        },
    )

    @pre_load
    def strip_q(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("q"), str):
            data = dict(data, q=data["q"].strip())
        return data


class _Normalized(InputSchema):
    @pre_load
    def normalize(self, data, **kwargs):
        data = dict(data)
        if isinstance(data.get("email"), str):
            data["email"] = data["email"].strip().lower()
        if isinstance(data.get("name"), str):
            data["name"] = data["name"].strip()
        return data


class RegisterSchema(_Normalized):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=PASSWORD, load_only=True)
    name = fields.String(required=True, validate=NAME)


class UserCreateSchema(RegisterSchema):
    role = fields.String(load_default="USER", validate=validate.OneOf(ROLES))


class UserUpdateSchema(_Normalized, PatchSchema):
    email = fields.Email(validate=validate.Length(max=254))
    password = fields.String(validate=PASSWORD, load_only=True)
    name = fields.String(validate=NAME)
    role = fields.String(validate=validate.OneOf(ROLES))


class ProfileUpdateSchema(_Normalized, PatchSchema):
    """``PATCH /api/auth/me``: what the caller changes of their own account. A new
    password or e-mail address needs the current password; a new address takes
    effect once the link e-mailed to it is followed."""

    name = fields.String(validate=NAME)
    time_zone = fields.String(validate=_time_zone)
    units = fields.String(validate=validate.OneOf(UNITS))
    theme = fields.String(validate=validate.OneOf(THEMES))
    email = fields.Email(validate=validate.Length(max=254))
    password = fields.String(validate=PASSWORD, load_only=True)
    current_password = fields.String(
        validate=validate.Length(min=1, max=256), load_only=True
    )


class AccountDeleteSchema(InputSchema):
    """``DELETE /api/auth/me``: the caller's password, to delete their account."""

    password = fields.String(
        required=True, validate=validate.Length(min=1, max=256), load_only=True
    )


class EmailConfirmSchema(InputSchema):
    """``POST /api/auth/email/confirm``: the token of the link e-mailed to the new
    address, or to a new account's."""

    token = fields.String(required=True, validate=validate.Length(min=1, max=200))
