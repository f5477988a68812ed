"""How credentials are loaded from requests and tokens dumped on the wire."""

from marshmallow import Schema, fields, pre_load, validate

from services.auth.logic import normalize_email
from services.common.schemas import InputSchema


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
