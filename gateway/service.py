"""gateway: the public API's edge. Each route is a row (``gateway/api/``); the
gateway checks the caller, parses the body and forwards the request to the service
that owns the route, which validates it and decides (``gateway/edge.py``).

Every route but register, login, health and the OpenAPI document needs
``Authorization: Bearer <token>``. Traefik's ForwardAuth has already checked it; the
gateway checks it again with auth, so a request that reaches it some other way is
held to the same rule.
"""

import eventlet

from gateway.api import ROUTES
from gateway.batteries import BatteryRoutes
from gateway.dead_letters import DeadLetterRoutes
from gateway.edge import SERVICES, Forwarding, serve
from gateway.forecasts import ForecastRoutes
from gateway.openapi import build_spec
from gateway.requests import Callers, read_json
from gateway.trading import TradingRoutes
from services.common.errors import EXPECTED, Forbidden
from services.common.http import http, json_response
from services.common.schemas import load
from services.monitoring.schemas import ConsumptionQuerySchema, NotificationQuerySchema
from services.support.schemas import (
    AdminReplySchema,
    HistoryQuerySchema,
    SupportMessageSchema,
)

#: How long each service may take to say it is healthy.
HEALTH_TIMEOUT = 2.0


@serve(ROUTES)
class GatewayService(
    ForecastRoutes,
    BatteryRoutes,
    TradingRoutes,
    DeadLetterRoutes,
    Callers,
    Forwarding,
):
    name = "gateway"

    # -- consumption and notifications --------------------------------------------

    @http("GET", "/api/consumption/day", expected_exceptions=EXPECTED)
    def consumption_day(self, request):
        """A device's energy in each UTC hour of a day: its owner's, or any device's
        for ADMIN and OPERATOR. Hours without readings are 0.
        ---
        get:
          tags: [consumption]
          summary: Hourly consumption of one day
          parameters:
            - {in: query, name: device_id, required: true, schema: {type: string}}
            - {in: query, name: date, required: true,
               schema: {type: string, format: date}, description: "UTC day"}
          responses:
            200:
              description: 24 hours, oldest first
              content:
                application/json:
                  schema: ConsumptionDaySchema
                  example: {device_id: 7a2e…, date: "2026-11-22", unit: kWh,
                            hours: [{hour: "2026-11-22T00:00:00Z", kwh: 0.42}],
                            total_kwh: 9.87}
            400: BadRequest
            401: Unauthorized
            404: NotFound
        """
        caller = self._caller(request)
        query = load(ConsumptionQuerySchema(), request.args.to_dict())
        self.devices_rpc.get_device(caller, query["device_id"])  # 404 unless visible
        return json_response(
            200,
            self.monitoring_rpc.consumption_day(
                query["device_id"], query["date"].isoformat()
            ),
        )

    @http("GET", "/api/notifications", expected_exceptions=EXPECTED)
    def notifications(self, request):
        """The caller's overconsumption notifications, newest first.
        ---
        get:
          tags: [consumption]
          summary: Notifications
          parameters:
            - {in: query, name: limit, schema: {type: integer, minimum: 1,
                                                maximum: 500, default: 50}}
          responses:
            200:
              description: the notifications
              content:
                application/json:
                  schema: {type: array, items: NotificationSchema}
                  example: [{id: 51c0…, device_id: 7a2e…, hour: "2026-11-22T18:00:00Z",
                             kwh: 0.61, limit_kwh: 0.5, reason: hourly,
                             created_at: "2026-11-22T18:47:02Z"}]
            400: BadRequest
            401: Unauthorized
        """
        caller = self._caller(request)
        query = load(NotificationQuerySchema(), request.args.to_dict())
        return json_response(
            200,
            self.monitoring_rpc.list_notifications(caller["user_id"], query["limit"]),
        )

    # -- support chat -----------------------------------------------------------

    @http("POST", "/api/support/messages", expected_exceptions=EXPECTED)
    def post_support_message(self, request):
        """Ask support. The rules answer first, then the AI model if one is
        configured; otherwise ``reply`` is null and staff are alerted. Both messages
        are also pushed over ``/ws`` as ``chat.message``. A user may send
        ``SUPPORT_MAX_MESSAGES_PER_MINUTE`` messages in any minute; past
        ``SUPPORT_MAX_AI_CALLS_PER_HOUR`` questions for the model in an hour, a
        question is not put to it and waits for staff (``reply`` null).
        ---
        post:
          tags: [support]
          summary: Send a support message
          requestBody:
            required: true
            content:
              application/json:
                schema: SupportMessageSchema
                example: {text: "How do I add a device?"}
          responses:
            201:
              description: the message and the reply, if there is one
              content:
                application/json:
                  schema: PostResultSchema
                  example: {message: {id: 1b6e…, user_id: 9b2f…, author: user,
                                      text: "How do I add a device?",
                                      created_at: "2026-11-22T18:50:00Z"},
                            reply: {id: 2c7f…, user_id: 9b2f…, author: bot,
                                    text: "Open Devices and press Add…",
                                    created_at: "2026-11-22T18:50:00Z"}}
            400: BadRequest
            401: Unauthorized
            429:
              description: too many messages in the last minute; nothing was stored.
                `Retry-After` (and `details.retry_after`) says when to send again
              headers:
                Retry-After: {schema: {type: integer}, description: seconds}
              content:
                application/json:
                  schema: ErrorSchema
                  example: {error: RATE_LIMITED, details: {retry_after: 12, limit: 10},
                            message: "at most 10 support messages a minute; try
                              again in 12 s"}
        """
        caller = self._caller(request)
        data = read_json(request, SupportMessageSchema())
        return json_response(
            201, self.support_rpc.post_message(caller["user_id"], data["text"])
        )

    @http("GET", "/api/support/history", expected_exceptions=EXPECTED)
    def support_history(self, request):
        """The caller's conversation with support, oldest first; ADMIN may name any
        user with ``user_id``.
        ---
        get:
          tags: [support]
          summary: Support conversation
          parameters:
            - {in: query, name: user_id, schema: {type: string},
               description: "ADMIN only: whose conversation"}
          responses:
            200:
              description: the messages, oldest first
              content:
                application/json:
                  schema: {type: array, items: ChatMessageSchema}
            400: BadRequest
            401: Unauthorized
            403: Forbidden
        """
        caller = self._caller(request)
        query = load(HistoryQuerySchema(), request.args.to_dict())
        user_id = query.get("user_id", caller["user_id"])
        if user_id != caller["user_id"] and caller["role"] != "ADMIN":
            raise Forbidden("only ADMIN reads another user's conversation")
        return json_response(200, self.support_rpc.history(user_id))

    @http("POST", "/api/support/admin/reply", expected_exceptions=EXPECTED)
    def support_reply(self, request):
        """Answer a user as staff; the user receives it live over ``/ws``. ADMIN only.
        ---
        post:
          tags: [support]
          summary: Reply to a user
          requestBody:
            required: true
            content:
              application/json:
                schema: AdminReplySchema
                example: {user_id: 9b2f…, text: "I have reset your limit."}
          responses:
            201:
              description: the staff message
              content: {application/json: {schema: ChatMessageSchema}}
            400: BadRequest
            401: Unauthorized
            403: Forbidden
            404: NotFound
        """
        caller = self._caller(request, "ADMIN")
        data = read_json(request, AdminReplySchema())
        return json_response(
            201,
            self.support_rpc.admin_reply(
                caller["user_id"], data["user_id"], data["text"]
            ),
        )

    @http("GET", "/api/support/conversations", expected_exceptions=EXPECTED)
    def support_conversations(self, request):
        """Every conversation, those awaiting staff first, then the most recent.
        ADMIN only.
        ---
        get:
          tags: [support]
          summary: Support inbox
          responses:
            200:
              description: one entry per user
              content:
                application/json:
                  schema: {type: array, items: ConversationSchema}
            401: Unauthorized
            403: Forbidden
        """
        self._caller(request, "ADMIN")
        return json_response(200, self.support_rpc.conversations())

    # -- the gateway's own routes ------------------------------------------------

    def health(self):
        """Each service's status; 503 when one does not answer."""
        services = {}
        for name in SERVICES:
            try:
                with eventlet.Timeout(HEALTH_TIMEOUT):
                    reply = getattr(self, f"{name}_rpc").health.call_async()
                    services[name] = reply.result()["status"]
            except (Exception, eventlet.Timeout):
                services[name] = "unavailable"
        healthy = all(status == "ok" for status in services.values())
        return json_response(
            200 if healthy else 503,
            {"status": "ok" if healthy else "degraded", "services": services},
        )

    def openapi(self):
        return json_response(200, build_spec(type(self)))
