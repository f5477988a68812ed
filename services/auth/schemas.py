"""How credentials are loaded from requests and tokens dumped on the wire."""

from marshmallow import Schema, fields, pre_load, validate

from services.auth.logic import normalize_email
from services.common.schemas import InputSchema, UtcDateTime


class LoginSchema(InputSchema):
    """The e-mail address is checked as it will be used: normalised, which can
    make it longer (``"İ".lower()`` is two characters)."""

    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(
        required=True, validate=validate.Length(min=1, max=256), load_only=True
    )

    @pre_load
    def normalize(self, data, **kwargs):
        if isinstance(data.get("email"), str):
            data = dict(data, email=normalize_email(data["email"]))
        return data


class TokenSchema(Schema):
    access_token = fields.String()
    token_type = fields.String(metadata={"enum": ["Bearer"]})
    expires_in = fields.Integer(metadata={"description": "seconds"})


#: A password a user chooses: as the users service asks of one.
PASSWORD = validate.Length(min=8, max=256)


class PasswordResetSchema(InputSchema):
    """``POST /api/auth/password-reset``: the address to send the link to."""

    email = fields.String(required=True, validate=validate.Length(min=1, max=254))

    @pre_load
    def normalize(self, data, **kwargs):
        if isinstance(data.get("email"), str):
            data = dict(data, email=normalize_email(data["email"]))
        return data


class VerificationResendSchema(PasswordResetSchema):
    """``POST /api/auth/verification/resend``: the address of an account still to
    be confirmed, to send its link to again."""


class LinkSchema(InputSchema):
    """A link's token, as the e-mail gave it."""

    token = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "the token of the e-mailed link (after #token=)"},
    )


class PasswordResetConfirmSchema(LinkSchema):
    """``POST /api/auth/password-reset/confirm``: the link's token and the new
    password."""

    password = fields.String(required=True, validate=PASSWORD, load_only=True)


class SessionSchema(Schema):
    """One of the caller's sessions (a login, on one browser)."""

    id = fields.String(
        attribute="jti",
        metadata={"description": "the session's id (its token's ``jti``)"},
    )
    browser = fields.String(
        metadata={"description": "the browser and system, from its User-Agent"}
    )
    user_agent = fields.String()
    created_at = UtcDateTime(metadata={"description": "when it logged in"})
    last_used_at = UtcDateTime(
        metadata={"description": "when it was last used, to the minute"}
    )
    expires_at = UtcDateTime()
    current = fields.Boolean(
        metadata={"description": "whether it is the session of this request"}
    )
