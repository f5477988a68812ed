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


class QueueSchema(Schema):
    name = fields.String(required=True)
    messages = fields.Integer(
        allow_none=True,
        metadata={"description": "messages in it, ready and unacknowledged"},
    )
    consumers = fields.Integer(allow_none=True)


class LagSchema(Schema):
    p50 = fields.Float(allow_none=True, metadata={"description": "seconds"})
    p99 = fields.Float(allow_none=True, metadata={"description": "seconds"})


class StageSchema(Schema):
    stage = fields.String(
        required=True,
        metadata={
            "enum": [
                "devices",
                "broker",
                "balancer",
                "workers",
                "database",
                "events",
                "ws_gateway",
            ]
        },
    )
    label = fields.String(required=True)
    rate = fields.Float(
        allow_none=True,
        metadata={
            "description": "per second over the last minute: readings (devices, "
            "balancer, workers, database) or messages handed to sockets "
            "(ws_gateway)"
        },
    )
    paths = fields.Dict(
        keys=fields.String(),
        values=fields.Float(allow_none=True),
        metadata={"description": "devices: readings per second by path (amqp, mqtt)"},
    )
    queues = fields.List(fields.Nested(QueueSchema))
    rejected_rate = fields.Float(
        allow_none=True,
        metadata={"description": "database: readings dead-lettered per second"},
    )
    lag = fields.Nested(
        LagSchema,
        metadata={"description": "database: from a reading's timestamp to its commit"},
    )
    publish_lag = fields.Nested(
        LagSchema,
        metadata={"description": "database: from the balancer's receipt to commit"},
    )
    sockets = fields.Integer(
        allow_none=True, metadata={"description": "ws_gateway: sockets open"}
    )
    dropped_rate = fields.Float(
        allow_none=True,
        metadata={"description": "ws_gateway: slow clients closed per second"},
    )


class ProcessSchema(Schema):
    process = fields.String(required=True)
    program = fields.String(required=True)
    health = fields.String(required=True, metadata={"enum": ["ok", "unready", "down"]})
    failing = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "unready: each failing check and what is wrong"},
    )
    version = fields.String(allow_none=True)
    started_at = fields.DateTime(allow_none=True)
    uptime_seconds = fields.Float(allow_none=True)


class ErrorRecordSchema(Schema):
    at = fields.DateTime(required=True)
    process = fields.String(required=True)
    logger = fields.String(required=True)
    level = fields.String(required=True)
    message = fields.String(
        required=True, metadata={"description": "with its traceback, if any"}
    )
    correlation_id = fields.String(allow_none=True)


class MetricsStatusSchema(Schema):
    status = fields.String(required=True, metadata={"enum": ["ok", "unavailable"]})
    reason = fields.String()


class OperationsSchema(Schema):
    generated_at = fields.DateTime(required=True)
    metrics = fields.Nested(
        MetricsStatusSchema,
        required=True,
        metadata={
            "description": "whether Prometheus answered; without it every figure "
            "is null and no process is listed"
        },
    )
    pipeline = fields.List(
        fields.Nested(StageSchema),
        required=True,
        metadata={"description": "devices, broker, balancer, workers, database"},
    )
    push = fields.List(
        fields.Nested(StageSchema),
        required=True,
        metadata={"description": "events, ws_gateway"},
    )
    processes = fields.List(fields.Nested(ProcessSchema), required=True)
    errors = fields.List(
        fields.Nested(ErrorRecordSchema),
        required=True,
        metadata={"description": "the latest errors of every process, newest first"},
    )
