"""Demand response, ``/api/dr``: OPERATOR and ADMIN announce events, invite users,
see the flexibility on offer and the results; users see the events they are invited
to, opt in or out, and see their own results."""

from gateway.route import SIGNED_IN, Route, only
from gateway.schemas import ErrorSchema
from services.common.policy import READERS, STAFF
from services.dr.schemas import (
    DrEventCreateSchema,
    DrEventSchema,
    DrFlexibilitySchema,
    DrInvitationsSchema,
    DrResultsSchema,
)

EVENT = "/api/dr/events/<string:event_id>"

#: The examples' event, as announced, and a user's invitation to it.
EXAMPLE_EVENT = {
    "id": "3d1a…",
    "name": "Evening peak",
    "start": "2026-11-24T17:00:00Z",
    "end": "2026-11-24T19:00:00Z",
    "target_reduction_kw": 50.0,
    "incentive_per_kwh": 0.3,
    "status": "scheduled",
    "created_by": "0c4e…",
    "created_at": "2026-11-22T19:00:00Z",
    "cancelled_at": None,
}


def example_invitation(status: str, updated_at: str) -> dict:
    return {"user_id": "9b2f…", "status": status, "updated_at": updated_at}


def example_answer(status: str, updated_at: str) -> dict:
    """What opting in or out answers: the event with the caller's invitation."""
    return {
        "id": "3d1a…",
        "name": "Evening peak",
        "status": "scheduled",
        "invitation": example_invitation(status, updated_at),
    }


ROUTES = (
    Route(
        "POST",
        "/api/dr/events",
        only(*STAFF),
        "dr.create_event",
        tag="dr",
        summary="Create a DR event",
        description="Announce a demand-response event. OPERATOR and ADMIN.",
        body=DrEventCreateSchema,
        example_body={
            "name": "Evening peak",
            "start": "2026-11-24T17:00:00Z",
            "end": "2026-11-24T19:00:00Z",
            "target_reduction_kw": 50,
            "incentive_per_kwh": 0.3,
        },
        status=201,
        returns=DrEventSchema,
        returns_description="the event, with nobody invited yet",
        example={
            **EXAMPLE_EVENT,
            "invitation_counts": {"invited": 0, "opted_in": 0, "opted_out": 0},
        },
        passes=("client",),
    ),
    Route(
        "GET",
        "/api/dr/events",
        SIGNED_IN,
        "dr.list_events",
        tag="dr",
        summary="List DR events",
        description=(
            "Every event for OPERATOR, ADMIN and VIEWER, with its invitations "
            "counted; for a user, the events they are invited to, with their "
            "invitation. Latest start first."
        ),
        returns=[DrEventSchema],
        returns_description="the events",
        example=[
            {
                **EXAMPLE_EVENT,
                "invitation": example_invitation("opted_in", "2026-11-22T19:05:00Z"),
            }
        ],
    ),
    Route(
        "GET",
        EVENT,
        SIGNED_IN,
        "dr.get_event",
        tag="dr",
        summary="Get a DR event",
        description=(
            "One event: OPERATOR, ADMIN and VIEWER with its invitations, a user with "
            "theirs. An event the user is not invited to answers 404."
        ),
        returns=DrEventSchema,
        returns_description="the event",
        example={
            **EXAMPLE_EVENT,
            "invitation_counts": {"invited": 0, "opted_in": 1, "opted_out": 0},
            "invitations": [example_invitation("opted_in", "2026-11-22T19:05:00Z")],
        },
    ),
    Route(
        "DELETE",
        EVENT,
        only(*STAFF),
        "dr.cancel_event",
        tag="dr",
        summary="Cancel a DR event",
        description=(
            "Cancel an event that has not finished; everyone invited is told over "
            "``/ws``. The event stays, with status ``cancelled``. If it had "
            "started, the participants' devices it dispatched are released within "
            "seconds (loads on, chargers resumed, batteries back to 0 kW). "
            "OPERATOR and ADMIN."
        ),
        returns=DrEventSchema,
        returns_description="the cancelled event",
        example={
            "id": "3d1a…",
            "name": "Evening peak",
            "status": "cancelled",
            "cancelled_at": "2026-11-23T08:00:00Z",
        },
        errors={409: "Conflict"},
        passes=("client",),
    ),
    Route(
        "POST",
        f"{EVENT}/invitations",
        only(*STAFF),
        "dr.invite",
        tag="dr",
        summary="Invite users to a DR event",
        description=(
            "Invite users to a scheduled event; each newly invited user is told "
            "over ``/ws``. Users already invited keep their answer. OPERATOR and "
            "ADMIN."
        ),
        body=DrInvitationsSchema,
        example_body={"user_ids": ["9b2f…", "4c8d…"]},
        returns=DrEventSchema,
        returns_description="the event with all its invitations",
        example={
            "id": "3d1a…",
            "name": "Evening peak",
            "status": "scheduled",
            "invitation_counts": {"invited": 2, "opted_in": 0, "opted_out": 0},
            "invitations": [example_invitation("invited", "2026-11-22T19:02:00Z")],
        },
        errors={
            404: {
                "description": "no such event, or some users do not exist "
                "(`details.user_ids` lists them)",
                "content": {"application/json": {"schema": ErrorSchema}},
            },
            409: "Conflict",
        },
    ),
    Route(
        "POST",
        f"{EVENT}/opt-in",
        SIGNED_IN,
        "dr.opt_in",
        tag="dr",
        summary="Opt in to a DR event",
        description="Take part in an event one is invited to, until it starts.",
        returns=DrEventSchema,
        returns_description="the event with the caller's invitation",
        example=example_answer("opted_in", "2026-11-22T19:05:00Z"),
        errors={409: "Conflict"},
    ),
    Route(
        "POST",
        f"{EVENT}/opt-out",
        SIGNED_IN,
        "dr.opt_out",
        tag="dr",
        summary="Opt out of a DR event",
        description=(
            "Decline an event one is invited to (or withdraw), until it starts."
        ),
        returns=DrEventSchema,
        returns_description="the event with the caller's invitation",
        example=example_answer("opted_out", "2026-11-22T19:06:00Z"),
        errors={409: "Conflict"},
    ),
    Route(
        "GET",
        f"{EVENT}/flexibility",
        only(*READERS),
        "dr.flexibility",
        tag="dr",
        summary="Flexibility on offer for a DR event",
        description=(
            "The reduction on offer, hour by hour: the opted-in users' baseline "
            "load (kWh per hour, i.e. average kW) plus their batteries' discharge "
            "headroom. If the batteries service cannot answer, no battery is "
            "counted and ``notes`` says ``batteries unavailable``. OPERATOR, ADMIN "
            "and VIEWER."
        ),
        returns=DrFlexibilitySchema,
        returns_description="the flexibility",
        example={
            "event_id": "3d1a…",
            "target_reduction_kw": 50.0,
            "participant_count": 1,
            "opted_in_load_kw": 1.2,
            "battery_count": 0,
            "battery_headroom_kw": 0.0,
            "flexibility_kw": 1.2,
            "covers_target": False,
            "hours": [
                {
                    "hour": "2026-11-24T17:00:00Z",
                    "opted_in_load_kw": 1.2,
                    "battery_headroom_kw": 0.0,
                    "flexibility_kw": 1.2,
                }
            ],
            "notes": ["batteries unavailable"],
        },
    ),
    Route(
        "GET",
        f"{EVENT}/results",
        SIGNED_IN,
        "dr.results",
        tag="dr",
        summary="Results of a DR event",
        description=(
            "What a finished event achieved: per participant, per hour, the "
            "10-in-10 baseline, the actual energy and the reduction ``max(0, "
            "baseline − actual)``; their sums and the incentive ``reduction × "
            "incentive_per_kwh``. OPERATOR, ADMIN and VIEWER see every "
            "participant, a user their own. 409 until the event is over, and for a "
            "cancelled one. Until "
            "an hour after the end they follow late readings (``settled: false``); "
            "then they are stored and never change (``settled: true``). Each "
            "participant's ``dispatches`` are the commands the event sent their "
            "devices at its start (``phase: start``: batteries discharge, loads "
            "off, chargers paused) and at its end (``phase: end``: released), with "
            "the command's status as the devices service reports it now "
            "(``acked``: the device did it)."
        ),
        returns=DrResultsSchema,
        returns_description="the results",
        example={
            "event": {"id": "3d1a…", "name": "Evening peak", "status": "finished"},
            "settled": True,
            "participants": [
                {
                    "user_id": "9b2f…",
                    "baseline_days": 10,
                    "baseline_note": None,
                    "hours": [
                        {
                            "hour": "2026-11-24T17:00:00Z",
                            "baseline_kwh": 1.45,
                            "actual_kwh": 0.4,
                            "reduction_kwh": 1.05,
                        }
                    ],
                    "baseline_kwh": 1.45,
                    "actual_kwh": 0.4,
                    "reduction_kwh": 1.05,
                    "incentive": 0.315,
                    "dispatches": [
                        {
                            "device_id": "5e0b…",
                            "phase": "start",
                            "type": "switch",
                            "params": {"on": False},
                            "command_id": "a71c…",
                            "status": "acked",
                            "detail": None,
                            "created_at": "2026-11-24T17:00:01Z",
                        },
                        {
                            "device_id": "5e0b…",
                            "phase": "end",
                            "type": "switch",
                            "params": {"on": True},
                            "command_id": "c90d…",
                            "status": "acked",
                            "detail": None,
                            "created_at": "2026-11-24T19:00:01Z",
                        },
                    ],
                }
            ],
            "reduction_kwh": 1.05,
            "incentive": 0.315,
        },
        errors={409: "Conflict"},
    ),
)
