"""Routes of the dead letters, ``/api/dead-letters``: messages the platform refused
(readings that can never count, bodies it cannot decode), kept by monitoring for
ADMIN to list, inspect, replay or purge. The docstrings below are the OpenAPI
operations.
"""

from gateway.requests import Callers, read_query
from services.common.errors import EXPECTED
from services.common.http import http, json_response
from services.common.rpc import TimedRpcProxy
from services.monitoring.schemas import (
    DeadLetterPurgeQuerySchema,
    DeadLetterQuerySchema,
)

#: The route of one dead letter.
ONE = "/api/dead-letters/<string:dead_letter_id>"


class DeadLetterRoutes(Callers):
    monitoring_rpc = TimedRpcProxy("monitoring")

    @http("GET", "/api/dead-letters", expected_exceptions=EXPECTED)
    def list_dead_letters(self, request):
        """The newest dead letters, with why and by whom each was refused. ADMIN only.
        ---
        get:
          tags: [dead-letters]
          summary: List dead letters
          parameters:
            - {in: query, name: reason, schema: {type: string, maxLength: 200},
               description: "only those whose reason contains this"}
            - {in: query, name: limit, schema: {type: integer, minimum: 1,
                                                maximum: 500, default: 50}}
          responses:
            200:
              description: newest first
              content:
                application/json:
                  schema: {type: array, items: DeadLetterSchema}
                  example: [{id: 0b7e…, received_at: "2026-11-22T10:15:02Z",
                             reason: "timestamp is older than the back-fill window
                             (45 days)", service: monitoring_worker,
                             exchange: ems.data, routing_key: device.7a2e….reading,
                             headers: {x-ems-reason: "…"},
                             content_type: application/json, size: 118,
                             preview: '{"reading_id": "…", "timestamp":
                             "1970-01-01T00:00:00Z", …}', replayable: true}]
            400: BadRequest
            401: Unauthorized
            403: Forbidden
        """
        self._caller(request, "ADMIN")
        query = read_query(request, DeadLetterQuerySchema())
        return json_response(
            200,
            self.monitoring_rpc.list_dead_letters(query.get("reason"), query["limit"]),
        )

    @http(
        "GET", "/api/dead-letters/<string:dead_letter_id>", expected_exceptions=EXPECTED
    )
    def get_dead_letter(self, request, dead_letter_id):
        """One dead letter with its body (up to 64 KiB, as text). ADMIN only.
        ---
        get:
          tags: [dead-letters]
          summary: Inspect a dead letter
          parameters: [DeadLetterId]
          responses:
            200:
              description: the dead letter
              content: {application/json: {schema: DeadLetterDetailSchema}}
            401: Unauthorized
            403: Forbidden
            404: NotFound
        """
        self._caller(request, "ADMIN")
        return json_response(200, self.monitoring_rpc.get_dead_letter(dead_letter_id))

    @http("POST", f"{ONE}/replay", expected_exceptions=EXPECTED)
    def replay_dead_letter(self, request, dead_letter_id):
        """Publish a dead letter again to the exchange and routing key it was first
        published with, and remove it. A reading that still cannot count comes back
        as a new dead letter. ADMIN only.
        ---
        post:
          tags: [dead-letters]
          summary: Replay a dead letter
          parameters: [DeadLetterId]
          responses:
            200:
              description: where it was published
              content:
                application/json:
                  schema: DeadLetterReplaySchema
                  example: {id: 0b7e…, exchange: ems.data,
                            routing_key: device.7a2e….reading}
            401: Unauthorized
            403: Forbidden
            404: NotFound
            409: Conflict
        """
        self._caller(request, "ADMIN")
        return json_response(
            200, self.monitoring_rpc.replay_dead_letter(dead_letter_id)
        )

    @http(
        "DELETE",
        "/api/dead-letters/<string:dead_letter_id>",
        expected_exceptions=EXPECTED,
    )
    def delete_dead_letter(self, request, dead_letter_id):
        """Delete one dead letter. ADMIN only.
        ---
        delete:
          tags: [dead-letters]
          summary: Delete a dead letter
          parameters: [DeadLetterId]
          responses:
            204: {description: deleted}
            401: Unauthorized
            403: Forbidden
            404: NotFound
        """
        self._caller(request, "ADMIN")
        self.monitoring_rpc.delete_dead_letter(dead_letter_id)
        return 204, ""

    @http("DELETE", "/api/dead-letters", expected_exceptions=EXPECTED)
    def purge_dead_letters(self, request):
        """Delete every dead letter, or those whose reason contains ``reason``.
        ADMIN only.
        ---
        delete:
          tags: [dead-letters]
          summary: Purge dead letters
          parameters:
            - {in: query, name: reason, schema: {type: string, maxLength: 200},
               description: "only those whose reason contains this"}
          responses:
            200:
              description: how many were deleted
              content:
                application/json:
                  schema: DeadLetterPurgeSchema
                  example: {deleted: 12}
            400: BadRequest
            401: Unauthorized
            403: Forbidden
        """
        self._caller(request, "ADMIN")
        query = read_query(request, DeadLetterPurgeQuerySchema())
        return json_response(
            200, self.monitoring_rpc.purge_dead_letters(query.get("reason"))
        )
