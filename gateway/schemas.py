"""Response schemas of the gateway's own routes."""

from marshmallow import Schema, fields


class ErrorSchema(Schema):
    error = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict(required=True)
    request_id = fields.String(
        metadata={
            "description": (
                "the request's id, as the X-Request-Id header of the response "
                "says: the client's if it sent a usable one (1 to 128 of "
                "A-Z a-z 0-9 . _ : @ / + = -), else one the platform made. The "
                "platform's logs carry it on every line about the request"
            )
        }
    )


class HealthSchema(Schema):
    status = fields.String(metadata={"enum": ["ok", "degraded"]})
    services = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "each service: ``ok`` or ``unavailable``"},
    )
    dependencies = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={
            "description": (
                "servers outside the platform, as the services that use them see "
                "them: ``smtp`` (``ok`` or ``unreachable``, the mail service's, "
                "probed at most every 5 s). Reported only: while the SMTP server "
                "is down, e-mail waits in its queue and the platform stays ``ok``"
            )
        },
    )
