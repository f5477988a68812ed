"""gateway: validates HTTP requests, calls the services over RPC, maps their errors.

Every route but register, login, health and the OpenAPI document needs
``Authorization: Bearer <token>``. Traefik's ForwardAuth has already checked it; the
gateway checks it again with auth, so a request that reaches it some other way is
held to the same rule. The docstrings below are the OpenAPI operations
(``/api/openapi.json``).
"""

import eventlet

# The services' exceptions, imported so that RPC hands them back as themselves (and
# the error mapping sees their status) rather than as a RemoteError.
import services.auth.exceptions  # noqa: F401
import services.devices.exceptions  # noqa: F401
import services.monitoring.exceptions  # noqa: F401
import services.support.exceptions  # noqa: F401
import services.users.exceptions  # noqa: F401
from gateway.api import ROUTES
from gateway.batteries import BatteryRoutes
from gateway.dead_letters import DeadLetterRoutes
from gateway.edge import Forwarding, serve
from gateway.forecasts import ForecastRoutes
from gateway.openapi import build_spec
from gateway.requests import Callers, client_address, read_json
from gateway.schemas import DeviceListQuerySchema, LoginSchema
from gateway.trading import TradingRoutes
from services.common.errors import EXPECTED, Forbidden
from services.common.http import http, json_response
from services.common.rpc import TimedRpcProxy
from services.common.schemas import load
from services.common.tokens import bearer_token
from services.devices.schemas import DeviceCreateSchema, DeviceUpdateSchema
from services.monitoring.schemas import ConsumptionQuerySchema, NotificationQuerySchema
from services.support.schemas import (
    AdminReplySchema,
    HistoryQuerySchema,
    SupportMessageSchema,
)
from services.users.schemas import RegisterSchema, UserCreateSchema, UserUpdateSchema

#: Services whose health ``/api/health`` reports, and how long each may take.
HEALTH_CHECKED = (
    "auth",
    "users",
    "devices",
    "monitoring",
    "support",
    "batteries",
    "dr",
    "trading",
)
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

    users_rpc = TimedRpcProxy("users")
    devices_rpc = TimedRpcProxy("devices")
    monitoring_rpc = TimedRpcProxy("monitoring")
    support_rpc = TimedRpcProxy("support", timeout_setting="SUPPORT_RPC_TIMEOUT")

    # -- auth -------------------------------------------------------------------

    @http("POST", "/api/auth/register", expected_exceptions=EXPECTED)
    def register(self, request):
        """Create an account. Its role is always USER.
        ---
        post:
          tags: [auth]
          summary: Create an account
          security: []
          requestBody:
            required: true
            content:
              application/json:
                schema: RegisterSchema
                example: {email: ada@example.com, password: correct-horse, name: Ada}
          responses:
            201:
              description: the new user
              content:
                application/json:
                  schema: UserSchema
                  example: {id: 9b2f…, email: ada@example.com, name: Ada, role: USER}
            400: BadRequest
            409: Conflict
            429: TooManyRequests
        """
        data = read_json(request, RegisterSchema())
        # Counted per client address, so that one client cannot mint accounts.
        self.auth_rpc.admit_registration(client_address(request))
        return json_response(201, self.users_rpc.register(data))

    @http("POST", "/api/auth/login", expected_exceptions=EXPECTED)
    def login(self, request):
        """Exchange an e-mail address and password for an access token.
        ---
        post:
          tags: [auth]
          summary: Log in
          security: []
          requestBody:
            required: true
            content:
              application/json:
                schema: LoginSchema
                example: {email: ada@example.com, password: correct-horse}
          responses:
            200:
              description: an access token
              content:
                application/json:
                  schema: TokenSchema
                  example: {access_token: eyJ…, token_type: Bearer, expires_in: 3600}
            400: BadRequest
            401: Unauthorized
            429: TooManyRequests
        """
        data = read_json(request, LoginSchema())
        token = self.auth_rpc.login(
            data["email"], data["password"], client_address(request)
        )
        return json_response(200, token)

    @http("POST", "/api/auth/logout", expected_exceptions=EXPECTED)
    def logout(self, request):
        """End this token's session everywhere.
        ---
        post:
          tags: [auth]
          summary: Log out
          responses:
            204: {description: the token no longer works}
            401: Unauthorized
        """
        self.auth_rpc.logout(bearer_token(request.headers.get("Authorization")))
        return 204, ""

    @http("GET", "/api/auth/me", expected_exceptions=EXPECTED)
    def me(self, request):
        """The caller.
        ---
        get:
          tags: [auth]
          summary: Who am I
          responses:
            200:
              description: the caller
              content: {application/json: {schema: UserSchema}}
            401: Unauthorized
        """
        caller = self._caller(request)
        return json_response(200, self.users_rpc.get_user(caller["user_id"]))

    # -- users (ADMIN) ----------------------------------------------------------

    @http("GET", "/api/users", expected_exceptions=EXPECTED)
    def list_users(self, request):
        """Every user. ADMIN only.
        ---
        get:
          tags: [users]
          summary: List users
          responses:
            200:
              description: the users, oldest first
              content:
                application/json:
                  schema: {type: array, items: UserSchema}
            401: Unauthorized
            403: Forbidden
        """
        self._caller(request, "ADMIN")
        return json_response(200, self.users_rpc.list_users())

    @http("POST", "/api/users", expected_exceptions=EXPECTED)
    def create_user(self, request):
        """Create a user with any role. ADMIN only.
        ---
        post:
          tags: [users]
          summary: Create a user
          requestBody:
            required: true
            content:
              application/json:
                schema: UserCreateSchema
                example: {email: op@example.com, password: s3cret-pass, name: Op,
                          role: OPERATOR}
          responses:
            201:
              description: the new user
              content: {application/json: {schema: UserSchema}}
            400: BadRequest
            401: Unauthorized
            403: Forbidden
            409: Conflict
        """
        self._caller(request, "ADMIN")
        data = read_json(request, UserCreateSchema())
        return json_response(201, self.users_rpc.create_user(data))

    @http("GET", "/api/users/<string:user_id>", expected_exceptions=EXPECTED)
    def get_user(self, request, user_id):
        """One user. ADMIN only.
        ---
        get:
          tags: [users]
          summary: Get a user
          parameters: [UserId]
          responses:
            200:
              description: the user
              content: {application/json: {schema: UserSchema}}
            401: Unauthorized
            403: Forbidden
            404: NotFound
        """
        self._caller(request, "ADMIN")
        return json_response(200, self.users_rpc.get_user(user_id))

    @http("PATCH", "/api/users/<string:user_id>", expected_exceptions=EXPECTED)
    def update_user(self, request, user_id):
        """Change a user's name, e-mail address, role or password. ADMIN only.
        A changed role or a new password ends the user's sessions: every token
        issued before stops working, even if the role is later changed back, and
        their open sockets are closed.
        ---
        patch:
          tags: [users]
          summary: Update a user
          parameters: [UserId]
          requestBody:
            required: true
            content:
              application/json:
                schema: UserUpdateSchema
                example: {role: OPERATOR}
          responses:
            200:
              description: the user
              content: {application/json: {schema: UserSchema}}
            400: BadRequest
            401: Unauthorized
            403: Forbidden
            404: NotFound
            409: Conflict
        """
        self._caller(request, "ADMIN")
        changes = read_json(request, UserUpdateSchema())
        return json_response(200, self.users_rpc.update_user(user_id, changes))

    @http("DELETE", "/api/users/<string:user_id>", expected_exceptions=EXPECTED)
    def delete_user(self, request, user_id):
        """Delete a user and everything they own. ADMIN only.
        ---
        delete:
          tags: [users]
          summary: Delete a user
          parameters: [UserId]
          responses:
            204: {description: deleted; their token stops working at once}
            401: Unauthorized
            403: Forbidden
            404: NotFound
        """
        self._caller(request, "ADMIN")
        self.users_rpc.delete_user(user_id)
        return 204, ""

    # -- devices ----------------------------------------------------------------

    @http("GET", "/api/devices", expected_exceptions=EXPECTED)
    def list_devices(self, request):
        """The caller's devices; every device for ADMIN and OPERATOR.
        ---
        get:
          tags: [devices]
          summary: List devices
          parameters:
            - {in: query, name: user_id, schema: {type: string},
               description: "ADMIN and OPERATOR: only this owner's devices"}
          responses:
            200:
              description: the devices, oldest first
              content:
                application/json:
                  schema: {type: array, items: DeviceSchema}
                  example: [{id: 7a2e…, user_id: 9b2f…, name: Kitchen, kind: appliance,
                             max_hourly_kwh: 0.5}]
            400: BadRequest
            401: Unauthorized
        """
        caller = self._caller(request)
        query = load(DeviceListQuerySchema(), request.args.to_dict())
        return json_response(
            200, self.devices_rpc.list_devices(caller, query.get("user_id"))
        )

    @http("POST", "/api/devices", expected_exceptions=EXPECTED)
    def create_device(self, request):
        """Add a device. ADMIN may add one for another user with ``user_id``.
        ---
        post:
          tags: [devices]
          summary: Add a device
          requestBody:
            required: true
            content:
              application/json:
                schema: DeviceCreateSchema
                example: {name: Kitchen, kind: appliance, max_hourly_kwh: 0.5}
          responses:
            201:
              description: the device
              content: {application/json: {schema: DeviceSchema}}
            400: BadRequest
            401: Unauthorized
            403: Forbidden
            404: NotFound
            409:
              description: the owner already has as many devices as a user may
                (`EMS_MAX_DEVICES_PER_USER`; `details.limit`)
              content:
                application/json:
                  schema: ErrorSchema
                  example: {error: CONFLICT, details: {limit: 100},
                            message: "a user may own at most 100 devices; delete one
                              first"}
        """
        caller = self._caller(request)
        data = read_json(request, DeviceCreateSchema())
        if data.get("user_id", caller["user_id"]) != caller["user_id"]:
            if caller["role"] != "ADMIN":
                raise Forbidden("only ADMIN adds devices for another user")
            self.users_rpc.get_user(data["user_id"])  # 404 for an unknown owner
        return json_response(201, self.devices_rpc.create_device(data, caller))

    @http("GET", "/api/devices/<string:device_id>", expected_exceptions=EXPECTED)
    def get_device(self, request, device_id):
        """One device: its owner's, or anyone's for ADMIN and OPERATOR.
        ---
        get:
          tags: [devices]
          summary: Get a device
          parameters: [DeviceId]
          responses:
            200:
              description: the device
              content: {application/json: {schema: DeviceSchema}}
            401: Unauthorized
            404: NotFound
        """
        caller = self._caller(request)
        return json_response(200, self.devices_rpc.get_device(device_id, caller))

    @http("PATCH", "/api/devices/<string:device_id>", expected_exceptions=EXPECTED)
    def update_device(self, request, device_id):
        """Rename a device, change its kind or its hourly limit. The kind cannot
        change while the device has open sell orders or trades not settled yet
        (409): they were accepted for what the device was.
        ---
        patch:
          tags: [devices]
          summary: Update a device
          parameters: [DeviceId]
          requestBody:
            required: true
            content:
              application/json:
                schema: DeviceUpdateSchema
                example: {max_hourly_kwh: 0.8}
          responses:
            200:
              description: the device
              content: {application/json: {schema: DeviceSchema}}
            400: BadRequest
            401: Unauthorized
            404: NotFound
            409: Conflict
        """
        caller = self._caller(request)
        changes = read_json(request, DeviceUpdateSchema())
        return json_response(
            200, self.devices_rpc.update_device(device_id, changes, caller)
        )

    @http("DELETE", "/api/devices/<string:device_id>", expected_exceptions=EXPECTED)
    def delete_device(self, request, device_id):
        """Delete a device.
        ---
        delete:
          tags: [devices]
          summary: Delete a device
          parameters: [DeviceId]
          responses:
            204: {description: deleted}
            401: Unauthorized
            404: NotFound
        """
        caller = self._caller(request)
        self.devices_rpc.delete_device(device_id, caller)
        return 204, ""

    @http(
        "POST",
        "/api/devices/<string:device_id>/credentials",
        expected_exceptions=EXPECTED,
    )
    def issue_device_credentials(self, request, device_id):
        """New broker credentials for a device (owner or ADMIN). The password is
        shown only in this answer; each call replaces the previous one, and
        connections made with it are closed. With them the device publishes its
        readings over MQTT (QoS 1, client id = user name) or AMQP, and nothing else.
        ---
        post:
          tags: [devices]
          summary: Issue or rotate a device's credentials
          parameters: [DeviceId]
          responses:
            201:
              description: the device's new login
              content:
                application/json:
                  schema: DeviceCredentialsSchema
                  example: {device_id: 7a2e…, username: ems-device-7a2e…,
                            password: kq3…, mqtt: {client_id: ems-device-7a2e…,
                            username: ems-device-7a2e…, port: 1884,
                            publish_topic: ems/devices/7a2e…/reading,
                            command_topic: ems/devices/7a2e…/commands},
                            amqp: {vhost: /, exchange: ems.data,
                            routing_key: device.7a2e….reading}}
            401: Unauthorized
            404: NotFound
            503: {description: the broker cannot be reached; try again}
        """
        caller = self._caller(request)
        return json_response(201, self.devices_rpc.issue_credentials(device_id, caller))

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
        self.devices_rpc.get_device(query["device_id"], caller)  # 404 unless visible
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

    # -- platform ---------------------------------------------------------------

    @http("GET", "/api/health", expected_exceptions=EXPECTED)
    def health(self, request):
        """Each service's status; 503 when one does not answer.
        ---
        get:
          tags: [platform]
          summary: Health
          security: []
          responses:
            200:
              description: every service answers
              content:
                application/json:
                  schema: HealthSchema
                  example: {status: ok, services: {auth: ok, users: ok, devices: ok,
                                                       monitoring: ok}}
            503:
              description: at least one service does not answer
              content: {application/json: {schema: HealthSchema}}
        """
        services = {}
        for name in HEALTH_CHECKED:
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

    @http("GET", "/api/openapi.json")
    def openapi(self, request):
        """This API's OpenAPI 3 document.
        ---
        get:
          tags: [platform]
          summary: OpenAPI document
          security: []
          responses:
            200: {description: the OpenAPI document}
        """
        return json_response(200, build_spec(type(self)))
