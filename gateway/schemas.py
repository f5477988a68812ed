"""Response schemas of the gateway's own routes."""

from marshmallow import Schema, fields


class ErrorSchema(Schema):
    error = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict(required=True)


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
