"""The platform itself: its health and this API's description."""

from gateway.route import PUBLIC, Route
from gateway.schemas import HealthSchema

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
        "/api/openapi.json",
        PUBLIC,
        "gateway.openapi",
        tag="platform",
        summary="OpenAPI document",
        description=("This API's OpenAPI 3 document."),
        returns_description="the OpenAPI document",
    ),
)
