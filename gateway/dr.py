"""Routes of demand response, ``/api/dr``: OPERATOR and ADMIN announce events, invite
users, see the flexibility on offer and the results; users see the events they are
invited to, opt in or out, and see their own results. The docstrings below are the
OpenAPI operations.
"""

# The service's exceptions, imported so that RPC hands them back as themselves.
import services.dr.exceptions  # noqa: F401
from gateway.requests import Callers, read_json
from services.common.errors import EXPECTED
from services.common.http import http, json_response
from services.common.rpc import TimedRpcProxy
from services.dr.schemas import DrEventCreateSchema, DrInvitationsSchema
from services.users.exceptions import UserNotFound

STAFF = ("OPERATOR", "ADMIN")


class DrRoutes(Callers):
    dr_rpc = TimedRpcProxy("dr")

    @http("POST", "/api/dr/events", expected_exceptions=EXPECTED)
    def dr_create_event(self, request):
        """Announce a demand-response event. OPERATOR and ADMIN.
        ---
        post:
          tags: [dr]
          summary: Create a DR event
          requestBody:
            required: true
            content:
              application/json:
                schema: DrEventCreateSchema
                example: {name: Evening peak, start: "2026-11-24T17:00:00Z",
                          end: "2026-11-24T19:00:00Z", target_reduction_kw: 50,
                          incentive_per_kwh: 0.3}
          responses:
            201:
              description: the event, with nobody invited yet
              content:
                application/json:
                  schema: DrEventSchema
                  example: {id: 3d1a…, name: Evening peak,
                            start: "2026-11-24T17:00:00Z",
                            end: "2026-11-24T19:00:00Z", target_reduction_kw: 50.0,
                            incentive_per_kwh: 0.3, status: scheduled,
                            created_by: 0c4e…, created_at: "2026-11-22T19:00:00Z",
                            cancelled_at: null,
                            invitation_counts: {invited: 0, opted_in: 0,
                                                opted_out: 0}}
            400: BadRequest
            401: Unauthorized
            403: Forbidden
        """
        caller = self._caller(request, *STAFF)
        schema = DrEventCreateSchema()
        data = schema.dump(read_json(request, schema))
        return json_response(201, self.dr_rpc.create_event(data, caller["user_id"]))

    @http("GET", "/api/dr/events", expected_exceptions=EXPECTED)
    def dr_list_events(self, request):
        """Every event for OPERATOR and ADMIN, with its invitations counted; for a
        user, the events they are invited to, with their invitation. Latest start
        first.
        ---
        get:
          tags: [dr]
          summary: List DR events
          responses:
            200:
              description: the events
              content:
                application/json:
                  schema: {type: array, items: DrEventSchema}
                  example: [{id: 3d1a…, name: Evening peak,
                             start: "2026-11-24T17:00:00Z",
                             end: "2026-11-24T19:00:00Z", target_reduction_kw: 50.0,
                             incentive_per_kwh: 0.3, status: scheduled,
                             created_by: 0c4e…, created_at: "2026-11-22T19:00:00Z",
                             cancelled_at: null,
                             invitation: {user_id: 9b2f…, status: opted_in,
                                          updated_at: "2026-11-22T19:05:00Z"}}]
            401: Unauthorized
        """
        caller = self._caller(request)
        return json_response(200, self.dr_rpc.list_events(caller))

    @http("GET", "/api/dr/events/<string:event_id>", expected_exceptions=EXPECTED)
    def dr_get_event(self, request, event_id):
        """One event: OPERATOR and ADMIN with its invitations, a user with theirs.
        An event the user is not invited to answers 404.
        ---
        get:
          tags: [dr]
          summary: Get a DR event
          parameters:
            - {in: path, name: event_id, required: true, schema: {type: string}}
          responses:
            200:
              description: the event
              content:
                application/json:
                  schema: DrEventSchema
                  example: {id: 3d1a…, name: Evening peak,
                            start: "2026-11-24T17:00:00Z",
                            end: "2026-11-24T19:00:00Z", target_reduction_kw: 50.0,
                            incentive_per_kwh: 0.3, status: scheduled,
                            created_by: 0c4e…, created_at: "2026-11-22T19:00:00Z",
                            cancelled_at: null,
                            invitation_counts: {invited: 0, opted_in: 1,
                                                opted_out: 0},
                            invitations: [{user_id: 9b2f…, status: opted_in,
                                           updated_at: "2026-11-22T19:05:00Z"}]}
            401: Unauthorized
            404: NotFound
        """
        caller = self._caller(request)
        return json_response(200, self.dr_rpc.get_event(event_id, caller))

    @http("DELETE", "/api/dr/events/<string:event_id>", expected_exceptions=EXPECTED)
    def dr_cancel_event(self, request, event_id):
        """Cancel an event that has not finished; everyone invited is told over
        ``/ws``. The event stays, with status ``cancelled``. OPERATOR and ADMIN.
        ---
        delete:
          tags: [dr]
          summary: Cancel a DR event
          parameters:
            - {in: path, name: event_id, required: true, schema: {type: string}}
          responses:
            200:
              description: the cancelled event
              content:
                application/json:
                  schema: DrEventSchema
                  example: {id: 3d1a…, name: Evening peak, status: cancelled,
                            cancelled_at: "2026-11-23T08:00:00Z"}
            401: Unauthorized
            403: Forbidden
            404: NotFound
            409: Conflict
        """
        self._caller(request, *STAFF)
        return json_response(200, self.dr_rpc.cancel_event(event_id))

    @http(
        "POST",
        "/api/dr/events/<string:event_id>/invitations",
        expected_exceptions=EXPECTED,
    )
    def dr_invite(self, request, event_id):
        """Invite users to a scheduled event; each newly invited user is told over
        ``/ws``. Users already invited keep their answer. OPERATOR and ADMIN.
        ---
        post:
          tags: [dr]
          summary: Invite users to a DR event
          parameters:
            - {in: path, name: event_id, required: true, schema: {type: string}}
          requestBody:
            required: true
            content:
              application/json:
                schema: DrInvitationsSchema
                example: {user_ids: [9b2f…, 4c8d…]}
          responses:
            200:
              description: the event with all its invitations
              content:
                application/json:
                  schema: DrEventSchema
                  example: {id: 3d1a…, name: Evening peak, status: scheduled,
                            invitation_counts: {invited: 2, opted_in: 0,
                                                opted_out: 0},
                            invitations: [{user_id: 9b2f…, status: invited,
                                           updated_at: "2026-11-22T19:02:00Z"}]}
            400: BadRequest
            401: Unauthorized
            403: Forbidden
            404:
              description: no such event, or some users do not exist
                (`details.user_ids` lists them)
              content: {application/json: {schema: ErrorSchema}}
            409: Conflict
        """
        caller = self._caller(request, *STAFF)
        user_ids = read_json(request, DrInvitationsSchema())["user_ids"]
        self.dr_rpc.get_event(event_id, caller)  # 404 for an unknown event first
        unknown = []
        for user_id in user_ids:
            try:
                self.users_rpc.describe_user(user_id)
            except UserNotFound:
                unknown.append(user_id)
        if unknown:
            raise UserNotFound("some users do not exist", {"user_ids": unknown})
        return json_response(200, self.dr_rpc.invite(event_id, user_ids))

    @http(
        "POST", "/api/dr/events/<string:event_id>/opt-in", expected_exceptions=EXPECTED
    )
    def dr_opt_in(self, request, event_id):
        """Take part in an event one is invited to, until it starts.
        ---
        post:
          tags: [dr]
          summary: Opt in to a DR event
          parameters:
            - {in: path, name: event_id, required: true, schema: {type: string}}
          responses:
            200:
              description: the event with the caller's invitation
              content:
                application/json:
                  schema: DrEventSchema
                  example: {id: 3d1a…, name: Evening peak, status: scheduled,
                            invitation: {user_id: 9b2f…, status: opted_in,
                                         updated_at: "2026-11-22T19:05:00Z"}}
            401: Unauthorized
            404: NotFound
            409: Conflict
        """
        caller = self._caller(request)
        return json_response(200, self.dr_rpc.opt_in(event_id, caller["user_id"]))

    @http(
        "POST", "/api/dr/events/<string:event_id>/opt-out", expected_exceptions=EXPECTED
    )
    def dr_opt_out(self, request, event_id):
        """Decline an event one is invited to (or withdraw), until it starts.
        ---
        post:
          tags: [dr]
          summary: Opt out of a DR event
          parameters:
            - {in: path, name: event_id, required: true, schema: {type: string}}
          responses:
            200:
              description: the event with the caller's invitation
              content:
                application/json:
                  schema: DrEventSchema
                  example: {id: 3d1a…, name: Evening peak, status: scheduled,
                            invitation: {user_id: 9b2f…, status: opted_out,
                                         updated_at: "2026-11-22T19:06:00Z"}}
            401: Unauthorized
            404: NotFound
            409: Conflict
        """
        caller = self._caller(request)
        return json_response(200, self.dr_rpc.opt_out(event_id, caller["user_id"]))

    @http(
        "GET",
        "/api/dr/events/<string:event_id>/flexibility",
        expected_exceptions=EXPECTED,
    )
    def dr_flexibility(self, request, event_id):
        """The reduction on offer, hour by hour: the opted-in users' baseline load
        (kWh per hour, i.e. average kW) plus their batteries' discharge headroom.
        If the batteries service cannot answer, no battery is counted and
        ``notes`` says ``batteries unavailable``. OPERATOR and ADMIN.
        ---
        get:
          tags: [dr]
          summary: Flexibility on offer for a DR event
          parameters:
            - {in: path, name: event_id, required: true, schema: {type: string}}
          responses:
            200:
              description: the flexibility
              content:
                application/json:
                  schema: DrFlexibilitySchema
                  example: {event_id: 3d1a…, target_reduction_kw: 50.0,
                            participant_count: 1, opted_in_load_kw: 1.2,
                            battery_count: 0, battery_headroom_kw: 0.0,
                            flexibility_kw: 1.2, covers_target: false,
                            hours: [{hour: "2026-11-24T17:00:00Z",
                                     opted_in_load_kw: 1.2,
                                     battery_headroom_kw: 0.0,
                                     flexibility_kw: 1.2}],
                            notes: [batteries unavailable]}
            401: Unauthorized
            403: Forbidden
            404: NotFound
        """
        self._caller(request, *STAFF)
        return json_response(200, self.dr_rpc.flexibility(event_id))

    @http(
        "GET", "/api/dr/events/<string:event_id>/results", expected_exceptions=EXPECTED
    )
    def dr_results(self, request, event_id):
        """What a finished event achieved: per participant, per hour, the 10-in-10
        baseline, the actual energy and the reduction ``max(0, baseline −
        actual)``; their sums and the incentive ``reduction × incentive_per_kwh``.
        OPERATOR and ADMIN see every participant, a user their own. 409 until the
        event is over, and for a cancelled one. Until an hour after the end they
        follow late readings (``settled: false``); then they are stored and never
        change (``settled: true``).
        ---
        get:
          tags: [dr]
          summary: Results of a DR event
          parameters:
            - {in: path, name: event_id, required: true, schema: {type: string}}
          responses:
            200:
              description: the results
              content:
                application/json:
                  schema: DrResultsSchema
                  example: {event: {id: 3d1a…, name: Evening peak,
                                    status: finished},
                            settled: true,
                            participants: [{user_id: 9b2f…, baseline_days: 10,
                                            baseline_note: null,
                                            hours: [{hour: "2026-11-24T17:00:00Z",
                                                     baseline_kwh: 1.45,
                                                     actual_kwh: 0.4,
                                                     reduction_kwh: 1.05}],
                                            baseline_kwh: 1.45, actual_kwh: 0.4,
                                            reduction_kwh: 1.05, incentive: 0.315}],
                            reduction_kwh: 1.05, incentive: 0.315}
            401: Unauthorized
            404: NotFound
            409: Conflict
        """
        caller = self._caller(request)
        return json_response(200, self.dr_rpc.results(event_id, caller))
