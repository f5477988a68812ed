"""The platform itself: its health, its operations overview and this API's
description."""

from gateway.route import PUBLIC, Route, only
from gateway.schemas import HealthSchema, OperationsSchema
from services.common.policy import ADMIN

ROUTES = (
    Route(
        "GET",
        "/api/health",
        PUBLIC,
        "gateway.health",
        tag="platform",
        summary="Health",
        description=(
            "Each service's status; 503 when one does not answer. ``dependencies`` "
            "says whether the SMTP server the mail service sends through answers; "
            "it does not change the status."
        ),
        returns=HealthSchema,
        returns_description="every service answers",
        example={
            "status": "ok",
            "services": {
                "auth": "ok",
                "users": "ok",
                "devices": "ok",
                "monitoring": "ok",
                "mail": "ok",
            },
            "dependencies": {"smtp": "ok"},
        },
        errors={
            503: {
                "description": "at least one service does not answer",
                "content": {"application/json": {"schema": HealthSchema}},
            }
        },
    ),
    Route(
        "GET",
        "/api/operations",
        only(ADMIN),
        "gateway.operations",
        tag="platform",
        summary="Operations overview",
        description=(
            "The platform as its operators see it: the reading pipeline's stages "
            "(devices, broker, balancer, ingest workers, database) with their "
            "rates per second over the last minute, queues and ingest lag; the "
            "push path; every process's health (its /readyz), version and uptime; "
            "and the latest errors of every process. The figures come from "
            "Prometheus; without it, ``metrics.status`` is ``unavailable`` and "
            "they are null. ADMIN only."
        ),
        returns=OperationsSchema,
        returns_description="the overview",
        example={
            "generated_at": "2026-12-02T16:00:00Z",
            "metrics": {"status": "ok"},
            "pipeline": [
                {
                    "stage": "devices",
                    "label": "Devices",
                    "rate": 16.3,
                    "paths": {"amqp": 12.3, "mqtt": 4.0},
                },
                {
                    "stage": "broker",
                    "label": "Broker",
                    "queues": [{"name": "balancer.raw", "messages": 0, "consumers": 1}],
                },
                {"stage": "balancer", "label": "Balancer", "rate": 16.3},
                {
                    "stage": "workers",
                    "label": "Ingest workers",
                    "rate": 16.2,
                    "queues": [
                        {"name": "monitoring.ingest.1", "messages": 0, "consumers": 1}
                    ],
                },
                {
                    "stage": "database",
                    "label": "Database",
                    "rate": 16.2,
                    "rejected_rate": 0.0,
                    "lag": {"p50": 0.04, "p99": 0.21},
                    "publish_lag": {"p50": 0.01, "p99": 0.05},
                },
            ],
            "push": [
                {"stage": "events", "label": "Events", "queues": []},
                {
                    "stage": "ws_gateway",
                    "label": "WebSocket gateway",
                    "sockets": 3,
                    "rate": 5.2,
                    "dropped_rate": 0.0,
                },
            ],
            "processes": [
                {
                    "process": "monitoring_worker_1",
                    "program": "monitoring_worker",
                    "health": "ok",
                    "failing": {},
                    "version": "0.1.0",
                    "started_at": "2026-12-02T15:00:00Z",
                    "uptime_seconds": 3600.0,
                }
            ],
            "errors": [],
        },
    ),
    Route(
        "GET",
        "/api/openapi.json",
        PUBLIC,
        "gateway.openapi",
        tag="platform",
        summary="OpenAPI document",
        description=("This API's OpenAPI 3 document."),
        returns_description="the OpenAPI document",
    ),
)
