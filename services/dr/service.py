"""dr: demand-response events. OPERATOR and ADMIN announce events and invite users;
users opt in or out until the event starts; afterwards each participant's reduction
against their 10-in-10 baseline earns the event's incentive.

Every call made for someone takes the ``caller`` (``{"user_id", "role"}``, from the
verified token) first, and ``policies.py`` says what they may do. Invitations and
their changes are pushed over ``ems.ws`` as ``dr.event``.

dr keeps no copy of the users: before inviting, it asks users about them all in
one call (``describe_users``), and again to name the invited users and
participants staff are shown. A user's load is not dr's to keep either: it asks
devices for the user's devices (``devices_of``) and monitoring for their hourly
series (``hourly_series_of``), and adds them up. The opted-in
users' batteries come from ``batteries.list_batteries_of(user_ids)``, expected to
answer ``[{user_id, max_discharge_kw, available_kwh}]`` (``logic.parse_batteries``);
if that service is missing, lacks the call, fails, is slow or answers otherwise,
flexibility counts no battery and says so (``notes: ["batteries unavailable"]``).

When an event starts, a timer dispatches it: the opted-in users' flexible devices
are sent commands through ``devices.issue_command`` (``dispatch.py`` says which),
and when it ends, or is cancelled, they are released. Each command is stored
(``dispatches``) and shown in the results with the device's answer.
"""

import json
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from nameko.dependency_providers import Config
from nameko.exceptions import RemoteError, RpcTimeout, UnknownService
from nameko.rpc import rpc
from nameko.timer import timer

from services.common import pushes
from services.common.audit import Audit
from services.common.db import Database
from services.common.errors import EXPECTED, EmsError
from services.common.health import HealthMixin
from services.common.messaging import TRANSIENT_ERRORS, Pusher, consume
from services.common.rpc import OPTIONAL_CALL_FAILURES, TimedRpcProxy
from services.common.schemas import load
from services.common.topology import DR_USER_DELETED, iso_utc
from services.devices.client import commands_now
from services.dr import dispatch, logic, policies
from services.dr.exceptions import EventConflict, EventNotFound
from services.dr.schemas import (
    DrDispatchSchema,
    DrEventCreateSchema,
    DrEventSchema,
    DrFlexibilitySchema,
    DrInvitationSchema,
    DrInvitationsSchema,
    DrParticipantResultSchema,
    DrResultsSchema,
)
from services.dr.storage import DrStore
from services.users.exceptions import UserNotFound

log = logging.getLogger(__name__)

event_schema = DrEventSchema()
results_schema = DrResultsSchema()
invitation_schema = DrInvitationSchema()
participant_schema = DrParticipantResultSchema()
flexibility_schema = DrFlexibilitySchema()
dispatch_schema = DrDispatchSchema()
ZERO = Decimal(0)
#: Minutes after an event's end before its results are settled, when
#: ``RESULTS_SETTLE_DELAY_MINUTES`` is not set: time for late readings to arrive.
SETTLE_DELAY_MINUTES = 60
#: Seconds between the timer's rounds of settlement, and events settled per round.
SETTLE_INTERVAL = 60
SETTLE_BATCH = 20
#: Seconds between the timer's rounds of dispatch and release: how late after its
#: start (or end, or cancellation) an event acts on devices.
DISPATCH_INTERVAL = 2

BATTERIES_UNAVAILABLE = "batteries unavailable"
#: Batteries failing as an optional service does, or answering in another shape.
BATTERY_FAILURES = (*OPTIONAL_CALL_FAILURES, ValueError)
#: What keeps dr from naming the people it invited: users away, slow or failing.
USERS_FAILURES = (UnknownService, RpcTimeout, RemoteError, EmsError)
#: The fields of an event on the wire, besides its derived ``status``.
EVENT_FIELDS = (
    "id",
    "name",
    "start",
    "end",
    "target_reduction_kw",
    "incentive_per_kwh",
    "created_by",
    "created_at",
    "cancelled_at",
)


def _view(event, now: datetime, **extra) -> dict:
    """An event as it stands at ``now`` (its status follows from the time), with
    what its viewer may also see."""
    view = {field: getattr(event, field) for field in EVENT_FIELDS}
    view["status"] = logic.status(event.start, event.end, event.cancelled_at, now)
    view.update(extra)
    return view


def _counts(counts: dict[str, int]) -> dict[str, int]:
    return {status: counts.get(status, 0) for status in logic.INVITATION_STATUSES}


class DrService(HealthMixin):
    name = "dr"

    storage = Database(DrStore)
    config = Config()
    users_rpc = TimedRpcProxy("users")
    devices_rpc = TimedRpcProxy("devices")
    monitoring_rpc = TimedRpcProxy("monitoring")
    batteries_rpc = TimedRpcProxy("batteries", timeout_setting="BATTERIES_RPC_TIMEOUT")
    push = Pusher()
    audit = Audit()

    # -- events -------------------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def create_event(self, caller, body, client=None):
        """Announce an event; nobody is invited yet."""
        policies.CREATE.require(caller)
        now = datetime.now(UTC)
        data = load(DrEventCreateSchema(now=now), body)
        event = self.storage.add_event(created_by=caller["user_id"], **data)
        self.audit(
            caller,
            "dr.event_created",
            "dr_event",
            event.id,
            {
                "name": event.name,
                "start": iso_utc(event.start),
                "end": iso_utc(event.end),
                "target_reduction_kw": str(event.target_reduction_kw),
            },
            client,
        )
        self.storage.commit()
        return event_schema.dump(_view(event, now, invitation_counts=_counts({})))

    @rpc(expected_exceptions=EXPECTED)
    def list_events(self, caller):
        """Every event for OPERATOR and ADMIN, with its invitations counted; for
        anyone else the events they are invited to, with their invitation."""
        now = datetime.now(UTC)
        if policies.READ_ALL.allows(caller):
            events = self.storage.list_events()
            counts = self.storage.invitation_counts([event.id for event in events])
            views = [
                _view(event, now, invitation_counts=_counts(counts.get(event.id, {})))
                for event in events
            ]
        else:
            views = [
                _view(event, now, invitation=invitation)
                for event, invitation in self.storage.events_of(caller["user_id"])
            ]
        return event_schema.dump(views, many=True)

    @rpc(expected_exceptions=EXPECTED)
    def get_event(self, caller, event_id):
        """One event; OPERATOR and ADMIN see its invitations. An event the caller
        is not invited to is ``EventNotFound``, exactly like a missing one."""
        now = datetime.now(UTC)
        if policies.READ_ALL.allows(caller):
            event = self.storage.get_event(event_id)
            invitations = self.storage.invitations(event.id)
            self.storage.commit()  # ends the read transaction before asking users
            return self._staff_view(event, invitations, now)
        event, invitation = self._invited(event_id, caller["user_id"])
        return event_schema.dump(_view(event, now, invitation=invitation))

    @rpc(expected_exceptions=EXPECTED)
    def cancel_event(self, caller, event_id, client=None):
        """Cancel a scheduled or active event and tell everyone invited.
        Cancelling it again changes nothing; a finished event stays."""
        policies.CANCEL.require(caller)
        now = datetime.now(UTC)
        event = self.storage.get_event(event_id, lock=True)
        state = logic.status(event.start, event.end, event.cancelled_at, now)
        if state == logic.FINISHED:
            raise EventConflict("a finished event cannot be cancelled")
        newly = state != logic.CANCELLED
        if newly:
            self.storage.cancel_event(event, now)
            self.audit(caller, "dr.event_cancelled", "dr_event", event.id, None, client)
        invitations = self.storage.invitations(event.id)
        self.storage.commit()
        if newly:
            for invitation in invitations:
                self._push(event, invitation, logic.CANCELLED, now)
        return self._staff_view(event, invitations, now)

    # -- invitations --------------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def invite(self, caller, event_id, body):
        """Invite users to a scheduled event; each newly invited one is told.
        Returns the event with all its invitations.

        An unknown event is refused first, then unknown users, all of them at
        once: ``UserNotFound`` with ``details.user_ids``.
        """
        policies.INVITE.require(caller)
        user_ids = load(DrInvitationsSchema(), body)["user_ids"]
        self.storage.get_event(event_id)
        self.storage.commit()  # no transaction stays open while users is asked
        self._require_users(user_ids)
        now = datetime.now(UTC)
        event = self.storage.get_event(event_id, lock=True)
        self._require_scheduled(event, now, "invitations close when the event starts")
        invited = self.storage.invite(event.id, user_ids)
        invitations = self.storage.invitations(event.id)
        self.storage.commit()
        for invitation in invitations:
            if invitation.user_id in invited:
                self._push(event, invitation, logic.INVITED, now)
        return self._staff_view(event, invitations, now)

    @rpc(expected_exceptions=EXPECTED)
    def opt_in(self, caller, event_id):
        """The invited caller takes part."""
        return self._answer(event_id, caller["user_id"], logic.OPTED_IN)

    @rpc(expected_exceptions=EXPECTED)
    def opt_out(self, caller, event_id):
        """The invited caller does not take part."""
        return self._answer(event_id, caller["user_id"], logic.OPTED_OUT)

    def _answer(self, event_id, user_id, answer):
        """Record an answer until the event starts; a changed one is pushed to the
        user and to the OPERATORs. The same answer twice changes nothing."""
        now = datetime.now(UTC)
        event, invitation = self._invited(event_id, user_id, lock=True)
        self._require_scheduled(event, now, "answers close when the event starts")
        changed = invitation.status != answer
        if changed:
            self.storage.answer(invitation, answer)
        self.storage.commit()
        if changed:
            self._push(event, invitation, answer, now, to_staff=True)
        return event_schema.dump(_view(event, now, invitation=invitation))

    # -- what an event offers and achieved ------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def flexibility(self, caller, event_id):
        """The reduction on offer: the opted-in users' baseline load over the
        window plus their batteries' discharge headroom."""
        policies.SEE_FLEXIBILITY.require(caller)
        now = datetime.now(UTC)
        event = self.storage.get_event(event_id)
        user_ids = [
            invitation.user_id
            for invitation in self.storage.invitations(event.id, logic.OPTED_IN)
        ]
        first, last = logic.history_span(event.start, event.end, now.date())
        windows = self.storage.opted_in_windows(user_ids, event, first)
        # Nothing more is read here: no transaction stays open while other
        # services are asked.
        self.storage.commit()

        notes, baselines = [], []
        for user_id in user_ids:
            days = logic.eligible_days(
                logic.event_day(event.start),
                logic.excluded_days(windows[user_id]),
                now.date(),
            )
            expected = logic.baseline(
                event.start, event.end, self._load(user_id, first, last), days
            )
            baselines.append(expected)
            if expected.note:
                notes.append(f"{user_id}: {expected.note}")
        batteries = self._batteries(user_ids)
        if batteries is None:
            notes.append(BATTERIES_UNAVAILABLE)
        offer = logic.flexibility(event.start, event.end, baselines, batteries or [])
        offer.update(
            event_id=event.id,
            target_reduction_kw=event.target_reduction_kw,
            participant_count=len(user_ids),
            covers_target=offer["flexibility_kw"] >= event.target_reduction_kw,
            notes=notes,
        )
        return flexibility_schema.dump(offer)

    @rpc(expected_exceptions=EXPECTED)
    def results(self, caller, event_id):
        """What a finished event achieved: per participant (opted in) the 10-in-10
        baseline, the actual load, the reduction and the incentive. OPERATOR and
        ADMIN see every participant; a user their own."""
        now = datetime.now(UTC)
        staff = policies.READ_ALL.allows(caller)
        if staff:
            event = self.storage.get_event(event_id)
            participants = self.storage.invitations(event.id, logic.OPTED_IN)
        else:
            event, invitation = self._invited(event_id, caller["user_id"])
            participants = [invitation] if invitation.status == logic.OPTED_IN else []
        state = logic.status(event.start, event.end, event.cancelled_at, now)
        if state == logic.CANCELLED:
            raise EventConflict("a cancelled event has no results")
        if state != logic.FINISHED:
            raise EventConflict(
                "results are known once the event is over", {"status": state}
            )
        user_ids = [invitation.user_id for invitation in participants]
        if event.settled_at is None and now >= event.end + self._settle_delay():
            event = self._settle(event.id, now)
        if event.settled_at is not None:
            outcomes = [
                json.loads(result)
                for result in self.storage.settled_results(event.id, user_ids)
            ]
            self.storage.commit()
        else:
            self.storage.commit()  # ends the read transaction before asking others
            outcomes = participant_schema.dump(
                self._outcomes(event, user_ids, now), many=True
            )
        outcomes = self._with_dispatches(event.id, outcomes)
        if staff:
            outcomes = self._named(outcomes)
        return self._results_view(event, now, outcomes)

    @timer(interval=SETTLE_INTERVAL)
    def settle_due(self):
        """Settle the results of events that ended ``RESULTS_SETTLE_DELAY_MINUTES``
        ago, whether or not anyone asked for them yet. Every dr process runs this;
        the event's lock makes a second settlement change nothing."""
        now = datetime.now(UTC)
        due = self.storage.unsettled_events(now - self._settle_delay(), SETTLE_BATCH)
        self.storage.commit()
        for event_id in due:
            try:
                self._settle(event_id, now)
            except TRANSIENT_ERRORS as exc:
                # Monitoring, devices or the database is away: the next round
                # tries again.
                log.warning("could not settle DR event %s: %s", event_id, exc)
                return

    def _settle(self, event_id, now):
        """Store the results of every participant of a finished event, once: later
        readings (late or replayed) change the load monitoring reports, never what
        was settled. Returns the event, settled (here or by a concurrent call)."""
        event = self.storage.get_event(event_id)
        invitations = self.storage.invitations(event_id, logic.OPTED_IN)
        user_ids = [invitation.user_id for invitation in invitations]
        self.storage.commit()  # asks others outside a transaction
        outcomes = participant_schema.dump(
            self._outcomes(event, user_ids, now), many=True
        )
        event = self.storage.get_event(event_id, lock=True)
        if event.settled_at is None:
            results = {outcome["user_id"]: json.dumps(outcome) for outcome in outcomes}
            self.storage.settle(event, results, now)
            self.storage.commit()
            log.info("settled the results of DR event %s", event.id)
        return event

    def _outcomes(self, event, user_ids, now) -> list[dict]:
        first, _ = logic.history_span(event.start, event.end, now.date())
        windows = self.storage.opted_in_windows(user_ids, event, first)
        self.storage.commit()
        return [
            logic.participant_result(
                user_id,
                event.start,
                event.end,
                self._load(user_id, first, event.end),
                logic.eligible_days(
                    logic.event_day(event.start),
                    logic.excluded_days(windows[user_id]),
                    now.date(),
                ),
                event.incentive_per_kwh,
            )
            for user_id in user_ids
        ]

    def _with_dispatches(self, event_id, outcomes: list[dict]) -> list[dict]:
        """``outcomes`` each with the commands the event sent the participant's
        devices. Statuses that may still change are asked of devices now and
        stored; should devices not answer, the stored ones are shown."""
        rows = self.storage.dispatches(event_id, [o["user_id"] for o in outcomes])
        self.storage.commit()  # devices is asked outside a transaction
        open_ids = [
            row.command_id
            for row in rows
            if row.command_id is not None and row.status not in dispatch.FINAL_STATUSES
        ]
        now = commands_now(self.devices_rpc, open_ids)
        for row in rows:
            command = now.get(row.command_id)
            if command and (command["status"], command["detail"]) != (
                row.status,
                row.detail,
            ):
                self.storage.set_dispatch_status(
                    row.id, command["status"], command["detail"]
                )
        self.storage.commit()
        sent: dict[str, list[dict]] = {}
        for row in rows:
            sent.setdefault(row.user_id, []).append(
                dispatch_schema.dump(
                    {
                        "device_id": row.device_id,
                        "phase": row.phase,
                        "type": row.type,
                        "params": json.loads(row.params),
                        "command_id": row.command_id,
                        "status": row.status,
                        "detail": row.detail,
                        "created_at": row.created_at,
                    }
                )
            )
        return [o | {"dispatches": sent.get(o["user_id"], [])} for o in outcomes]

    @staticmethod
    def _results_view(event, now, participants: list[dict]) -> dict:
        """``participants`` are dumped already (stored ones are kept so)."""
        view = results_schema.dump(
            {
                "event": _view(event, now),
                "participants": [],
                "settled": event.settled_at is not None,
                "reduction_kwh": sum(
                    (Decimal(str(p["reduction_kwh"])) for p in participants), ZERO
                ),
                "incentive": sum(
                    (Decimal(str(p["incentive"])) for p in participants), ZERO
                ),
            }
        )
        view["participants"] = participants
        return view

    def _settle_delay(self) -> timedelta:
        minutes = self.config.get("RESULTS_SETTLE_DELAY_MINUTES", SETTLE_DELAY_MINUTES)
        return timedelta(minutes=float(minutes))

    # -- dispatch ---------------------------------------------------------------------

    @timer(interval=DISPATCH_INTERVAL)
    def dispatch_due(self):
        """Dispatch the events that have started, and release those that ended or
        were cancelled since they were dispatched.

        Every dr process runs this. An event is claimed with ``FOR UPDATE SKIP
        LOCKED`` and stays locked while its commands are issued, until
        ``dispatched_at`` (or ``released_at``) and its dispatches are committed:
        another process skips it, and a round that fails half-way (devices or
        the database away) leaves it for the next round, which sends the same
        commands again (a setpoint or a switch sent twice does the same).
        A cancellation waits for the lock, so it is released by the next round.
        """
        now = datetime.now(UTC)
        try:
            while (event := self.storage.claim_to_dispatch(now)) is not None:
                self._dispatch(event, now)
            while (event := self.storage.claim_to_release(now)) is not None:
                self._release(event, now)
        except TRANSIENT_ERRORS as exc:
            log.warning("could not dispatch DR events: %s", exc)

    def _dispatch(self, event, now) -> None:
        """Send the opted-in users' flexible devices their start commands."""
        user_ids = [
            invitation.user_id
            for invitation in self.storage.invitations(event.id, logic.OPTED_IN)
        ]
        devices = [
            device
            for user_id in user_ids
            for device in self.devices_rpc.devices_of(user_id)
        ]
        has_battery = any(device["kind"] == "battery" for device in devices)
        batteries = (self._batteries(user_ids) or []) if has_battery else []
        chosen = dispatch.start_commands(devices, batteries, event.start, event.end)
        for command in chosen:
            self._issue(event.id, dispatch.START, command)
        self.storage.mark_dispatched(event, now)
        self.storage.commit()
        log.info("dispatched DR event %s: %d commands", event.id, len(chosen))

    def _release(self, event, now) -> None:
        """Undo what the start sent: every start command that devices issued,
        giving each device back what it was set to before the event."""
        released = 0
        started = [
            sent
            for sent in self.storage.dispatches(event.id, phase=dispatch.START)
            if sent.command_id is not None
        ]
        before = (
            self.devices_rpc.settings_before(
                sorted({sent.device_id for sent in started}),
                iso_utc(event.dispatched_at),
            )
            if started
            else {}
        )
        for sent in started:
            type_name, params = dispatch.release_command(
                sent.type, before.get(sent.device_id, {}).get(sent.type)
            )
            self._issue(
                event.id,
                dispatch.END,
                dispatch.Command(sent.user_id, sent.device_id, type_name, params),
            )
            released += 1
        self.storage.mark_released(event, now)
        self.storage.commit()
        log.info("released DR event %s: %d commands", event.id, released)

    def _issue(self, event_id, phase, command: dispatch.Command) -> None:
        """Issue one command through devices and store it. A command devices
        refuses (the device was deleted, or no longer takes it) is stored as
        ``failed`` with why; the others go on."""
        try:
            issued = self.devices_rpc.issue_command(
                command.device_id,
                command.type,
                command.params,
                dispatch.COMMAND_TTL_S,
                dispatch.issuer(event_id),
            )
        except EmsError as exc:
            log.warning("DR event %s: %s not issued: %s", event_id, command, exc)
            command_id, status, detail = None, dispatch.FAILED, str(exc)
        else:
            command_id, status, detail = issued["id"], issued["status"], None
        self.storage.add_dispatch(
            event_id,
            phase,
            user_id=command.user_id,
            device_id=command.device_id,
            type=command.type,
            params=json.dumps(command.params),
            command_id=command_id,
            status=status,
            detail=detail,
        )

    # -- cascade ----------------------------------------------------------------------

    @consume(DR_USER_DELETED)
    def handle_user_deleted(self, body):
        """A deleted user's invitations go (again harmlessly if the event is
        redelivered); they drop out of every event's participants and results."""
        self.storage.delete_invitations_of(body["user"]["id"])
        self.storage.commit()

    # -- helpers ----------------------------------------------------------------------

    def _invited(self, event_id, user_id, lock=False):
        """The event and ``user_id``'s invitation to it; ``EventNotFound`` if they
        are not invited."""
        event = self.storage.get_event(event_id, lock=lock)
        invitation = self.storage.invitation(event.id, user_id)
        if invitation is None:
            raise EventNotFound()
        return event, invitation

    def _require_users(self, user_ids) -> None:
        """``UserNotFound`` listing every id users does not know, asked in one
        call."""
        known = {user["id"] for user in self.users_rpc.describe_users(user_ids)}
        unknown = [user_id for user_id in user_ids if user_id not in known]
        if unknown:
            raise UserNotFound("some users do not exist", {"user_ids": unknown})

    def _named(self, rows: list) -> list[dict]:
        """``rows`` (invitations, or dumped results: each with a ``user_id``) with
        the ``name`` and ``email`` of their user, for staff, who pick people by
        name and never by id. dr keeps no copy of the users: it asks users once
        for all of them. Should users not answer, the rows go unnamed rather
        than the event unshown."""
        rows = [
            row if isinstance(row, dict) else invitation_schema.dump(row)
            for row in rows
        ]
        if not rows:
            return rows
        try:
            found = self.users_rpc.describe_users([row["user_id"] for row in rows])
        except USERS_FAILURES as exc:
            log.warning("users unnamed: %s: %s", type(exc).__name__, exc)
            return rows
        people = {
            user["id"]: {"name": user["name"], "email": user["email"]} for user in found
        }
        return [row | people.get(row["user_id"], {}) for row in rows]

    def _staff_view(self, event, invitations, now) -> dict:
        """The event with every invitation, each named; asks users, so it is
        called outside a transaction."""
        counts = {}
        for invitation in invitations:
            counts[invitation.status] = counts.get(invitation.status, 0) + 1
        return event_schema.dump(
            _view(event, now, invitation_counts=_counts(counts))
        ) | {"invitations": self._named(invitations)}

    @staticmethod
    def _require_scheduled(event, now, reason: str) -> None:
        state = logic.status(event.start, event.end, event.cancelled_at, now)
        if state != logic.SCHEDULED:
            raise EventConflict(f"the event is {state}: {reason}", {"status": state})

    def _load(self, user_id, first, last):
        """``user_id``'s energy per UTC hour from ``first`` to ``last`` (excluded):
        the sum of their devices' series. Two calls whatever the number of
        devices: one for the devices, one for all their series."""
        devices = self.devices_rpc.devices_of(user_id)
        if not devices:
            return {}
        ids = [device["id"] for device in devices]
        series = self.monitoring_rpc.hourly_series_of(
            ids, iso_utc(first), iso_utc(last)
        )
        return logic.sum_series(series[device_id] for device_id in ids)

    def _batteries(self, user_ids):
        """The users' batteries, or None when the batteries service cannot say.

        That service is optional to dr: flexibility is still worth showing
        without it, so a missing service (``UnknownService``), a slow one
        (``RpcTimeout``), one that does not offer the call or takes other
        arguments (nameko's ``BadRequest``), one that fails (``RemoteError``, or
        an error of ours) and a reply of another shape (``ValueError``) all mean
        "unavailable" rather than an error.
        """
        if not user_ids:
            return []
        try:
            return logic.parse_batteries(self.batteries_rpc.list_batteries_of(user_ids))
        except BATTERY_FAILURES as exc:
            log.warning("%s: %s: %s", BATTERIES_UNAVAILABLE, type(exc).__name__, exc)
            return None

    def _push(self, event, invitation, change, now, to_staff=False) -> None:
        self.push(
            pushes.DR_EVENT,
            {"event": _view(event, now), "invitation": invitation, "change": change},
            invitation.user_id,
            roles=pushes.DR_EVENT.roles if to_staff else (),
            now=now,
        )
