"""How demand-response events are loaded from requests and dumped on the wire."""

from datetime import UTC, datetime

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from services.common.schemas import ID, InputSchema, Kwh, UtcDateTime
from services.dr import dispatch, logic

NAME = validate.Length(min=1, max=200)
#: How many users one request may invite.
MAX_INVITEES = 500


class DrEventCreateSchema(InputSchema):
    """``POST /api/dr/events``. The window is checked against ``now`` (the time of
    loading unless given): whole UTC hours, ``start`` in the future, ``end`` after
    it by at most 24 hours."""

    name = fields.String(required=True, validate=NAME)
    start = UtcDateTime(
        required=True, metadata={"description": "a whole UTC hour, in the future"}
    )
    end = UtcDateTime(
        required=True,
        metadata={"description": "a whole UTC hour, after start by at most 24 h"},
    )
    target_reduction_kw = fields.Float(
        required=True,
        allow_nan=False,
        validate=validate.Range(min=0, min_inclusive=False, max=1_000_000),
    )
    incentive_per_kwh = fields.Float(
        required=True,
        allow_nan=False,
        validate=validate.Range(min=0, max=1_000),
        metadata={"description": "paid per kWh of reduction"},
    )

    def __init__(self, *, now: datetime | None = None, **kwargs):
        super().__init__(**kwargs)
        self.now = now

    @pre_load
    def strip_name(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            data = dict(data, name=data["name"].strip())
        return data

    @validates_schema(skip_on_field_errors=False)
    def window(self, data, **kwargs):
        # Checked even when another field is bad, so one answer names every
        # problem; only a window whose ends both parsed can be checked.
        if "start" not in data or "end" not in data:
            return
        errors = logic.window_errors(
            data["start"], data["end"], self.now or datetime.now(UTC)
        )
        if errors:
            raise ValidationError(errors)


class DrInvitationsSchema(InputSchema):
    """``POST /api/dr/events/{event_id}/invitations``; repeated ids count once."""

    user_ids = fields.List(
        fields.String(validate=ID),
        required=True,
        validate=validate.Length(min=1, max=MAX_INVITEES),
    )

    @post_load
    def unique(self, data, **kwargs):
        data["user_ids"] = list(dict.fromkeys(data["user_ids"]))
        return data


#: Who an invited user is, for staff (``services/dr/service.py``: ``_named``).
PERSON_NAME = "the user's name; staff's views only, and absent while users is away"
PERSON_EMAIL = "the user's e-mail address; like ``name``"


class DrInvitationSchema(Schema):
    user_id = fields.String()
    status = fields.String(metadata={"enum": list(logic.INVITATION_STATUSES)})
    updated_at = UtcDateTime()
    name = fields.String(metadata={"description": PERSON_NAME})
    email = fields.String(metadata={"description": PERSON_EMAIL})


class DrInvitationCountsSchema(Schema):
    invited = fields.Integer()
    opted_in = fields.Integer()
    opted_out = fields.Integer()


class DrEventSchema(Schema):
    """An event as its viewer sees it: OPERATOR and ADMIN with the invitations
    counted (and, for one event, listed); a user with their own invitation."""

    id = fields.String()
    name = fields.String()
    start = UtcDateTime()
    end = UtcDateTime()
    target_reduction_kw = fields.Float()
    incentive_per_kwh = fields.Float()
    status = fields.String(metadata={"enum": list(logic.STATUSES)})
    created_by = fields.String()
    created_at = UtcDateTime()
    cancelled_at = UtcDateTime(allow_none=True)
    invitation = fields.Nested(
        DrInvitationSchema, metadata={"description": "a user's view: theirs"}
    )
    invitation_counts = fields.Nested(
        DrInvitationCountsSchema, metadata={"description": "OPERATOR, ADMIN and VIEWER"}
    )
    invitations = fields.List(
        fields.Nested(DrInvitationSchema),
        metadata={"description": "OPERATOR, ADMIN and VIEWER, one event"},
    )


class DrEventPushSchema(Schema):
    """``data`` of the ``dr.event`` message pushed over ``/ws``."""

    event = fields.Nested(DrEventSchema)
    invitation = fields.Nested(DrInvitationSchema)
    change = fields.String(metadata={"enum": list(logic.CHANGES)})


class DrHourResultSchema(Schema):
    hour = UtcDateTime()
    baseline_kwh = Kwh()
    actual_kwh = Kwh()
    reduction_kwh = Kwh()


class DrDispatchSchema(Schema):
    """A command the event sent to a participant's device, and its device's
    answer as the devices service last reported it."""

    device_id = fields.String()
    phase = fields.String(
        metadata={
            "enum": list(dispatch.PHASES),
            "description": "start: sent as the event started; end: released it, "
            "at its end or on cancellation",
        }
    )
    type = fields.String(metadata={"description": "the command type"})
    params = fields.Dict(metadata={"description": "the command's parameters"})
    command_id = fields.String(
        allow_none=True, metadata={"description": "the devices service's command"}
    )
    status = fields.String(
        metadata={
            "enum": list(dispatch.STATUSES),
            "description": "the command's status (acked: the device did it); "
            "failed: devices would not issue it",
        }
    )
    detail = fields.String(allow_none=True)
    created_at = UtcDateTime()


class DrParticipantResultSchema(Schema):
    user_id = fields.String()
    name = fields.String(metadata={"description": PERSON_NAME})
    email = fields.String(metadata={"description": PERSON_EMAIL})
    baseline_days = fields.Integer(
        metadata={"description": "eligible days the baseline averages (at most 10)"}
    )
    baseline_note = fields.String(
        allow_none=True, metadata={"description": "why the baseline is weaker"}
    )
    hours = fields.List(fields.Nested(DrHourResultSchema))
    baseline_kwh = Kwh()
    actual_kwh = Kwh()
    reduction_kwh = Kwh()
    incentive = fields.Float()
    dispatches = fields.List(
        fields.Nested(DrDispatchSchema),
        metadata={
            "description": "what the event sent the participant's devices and "
            "what they answered, in the order sent"
        },
    )


class DrResultsSchema(Schema):
    event = fields.Nested(DrEventSchema)
    settled = fields.Boolean(
        metadata={
            "description": "true once the results are stored for good (an hour "
            "after the end by default); until then later readings may change them"
        }
    )
    participants = fields.List(fields.Nested(DrParticipantResultSchema))
    reduction_kwh = Kwh()
    incentive = fields.Float()


class DrFlexibilityHourSchema(Schema):
    hour = UtcDateTime()
    opted_in_load_kw = fields.Float()
    battery_headroom_kw = fields.Float()
    flexibility_kw = fields.Float()


class DrFlexibilitySchema(Schema):
    event_id = fields.String()
    target_reduction_kw = fields.Float()
    participant_count = fields.Integer(metadata={"description": "opted in"})
    opted_in_load_kw = fields.Float()
    battery_count = fields.Integer()
    battery_headroom_kw = fields.Float()
    flexibility_kw = fields.Float(
        metadata={"description": "on offer in the event's weakest hour"}
    )
    covers_target = fields.Boolean()
    hours = fields.List(fields.Nested(DrFlexibilityHourSchema))
    notes = fields.List(
        fields.String(), metadata={"description": "e.g. batteries unavailable"}
    )
