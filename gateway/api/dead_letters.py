"""Routes of the dead letters: messages the platform refused (readings that can
never count, bodies it cannot decode), kept by monitoring for ADMIN to list,
inspect, replay or purge."""

from gateway.route import Route, only
from services.common.policy import ADMIN
from services.monitoring.schemas import (
    DeadLetterDetailSchema,
    DeadLetterPurgeQuerySchema,
    DeadLetterPurgeSchema,
    DeadLetterQuerySchema,
    DeadLetterReplaySchema,
    DeadLetterSchema,
)

#: The route of one dead letter.
ONE = "/api/dead-letters/<string:dead_letter_id>"

ROUTES = (
    Route(
        "GET",
        "/api/dead-letters",
        only(ADMIN),
        "monitoring.list_dead_letters",
        tag="dead-letters",
        summary="List dead letters",
        description=(
            "The newest dead letters, with why and by whom each was refused. "
            "ADMIN only."
        ),
        query=DeadLetterQuerySchema,
        returns=[DeadLetterSchema],
        returns_description="newest first",
        example=[
            {
                "id": "0b7e…",
                "received_at": "2026-11-22T10:15:02Z",
                "reason": "timestamp is older than the back-fill window (45 days)",
                "service": "monitoring_worker",
                "exchange": "ems.data",
                "routing_key": "device.7a2e….reading",
                "headers": {"x-ems-reason": "…"},
                "content_type": "application/json",
                "size": 118,
                "preview": '{"reading_id": "…", "timestamp": '
                '"1970-01-01T00:00:00Z", …}',
                "replayable": True,
            }
        ],
    ),
    Route(
        "GET",
        ONE,
        only(ADMIN),
        "monitoring.get_dead_letter",
        tag="dead-letters",
        summary="Inspect a dead letter",
        description=(
            "One dead letter with its body (up to 64 KiB, as text). ADMIN only."
        ),
        returns=DeadLetterDetailSchema,
        returns_description="the dead letter",
    ),
    Route(
        "POST",
        f"{ONE}/replay",
        only(ADMIN),
        "monitoring.replay_dead_letter",
        tag="dead-letters",
        summary="Replay a dead letter",
        description=(
            "Publish a dead letter again to the exchange and routing key it was "
            "first published with, and remove it. A reading that still cannot "
            "count comes back as a new dead letter. ADMIN only."
        ),
        returns=DeadLetterReplaySchema,
        returns_description="where it was published",
        example={
            "id": "0b7e…",
            "exchange": "ems.data",
            "routing_key": "device.7a2e….reading",
        },
        errors={409: "Conflict"},
    ),
    Route(
        "DELETE",
        ONE,
        only(ADMIN),
        "monitoring.delete_dead_letter",
        tag="dead-letters",
        summary="Delete a dead letter",
        description="Delete one dead letter. ADMIN only.",
        status=204,
        returns_description="deleted",
    ),
    Route(
        "DELETE",
        "/api/dead-letters",
        only(ADMIN),
        "monitoring.purge_dead_letters",
        tag="dead-letters",
        summary="Purge dead letters",
        description=(
            "Delete every dead letter, or those whose reason contains "
            "``reason``. ADMIN only."
        ),
        query=DeadLetterPurgeQuerySchema,
        returns=DeadLetterPurgeSchema,
        returns_description="how many were deleted",
        example={"deleted": 12},
    ),
)
