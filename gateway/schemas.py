"""Request and response schemas of the routes that belong to no single service."""

from marshmallow import Schema, fields, validate

from services.common.schemas import ID, InputSchema


class LoginSchema(InputSchema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(
        required=True, validate=validate.Length(min=1, max=256), load_only=True
    )


class TokenSchema(Schema):
    access_token = fields.String()
    token_type = fields.String(metadata={"enum": ["Bearer"]})
    expires_in = fields.Integer(metadata={"description": "seconds"})


class DeviceListQuerySchema(InputSchema):
    user_id = fields.String(
        validate=ID, metadata={"description": "ADMIN and OPERATOR: one owner"}
    )


class ErrorSchema(Schema):
    error = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict(required=True)


class HealthSchema(Schema):
    status = fields.String(metadata={"enum": ["ok", "degraded"]})
    services = fields.Dict(keys=fields.String(), values=fields.String())
