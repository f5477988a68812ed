"""drdb access for the dr service."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert

from services.common.db import Store
from services.common.schemas import is_id
from services.dr.exceptions import EventNotFound
from services.dr.logic import INVITED, OPTED_IN
from services.dr.models import Dispatch, Event, Invitation, ParticipantResult


class DrStore(Store):
    # -- events -------------------------------------------------------------------

    def add_event(
        self,
        name: str,
        start: datetime,
        end: datetime,
        target_reduction_kw: float,
        incentive_per_kwh: float,
        created_by: str,
    ) -> Event:
        event = Event(
            name=name,
            start=start,
            end=end,
            target_reduction_kw=Decimal(str(target_reduction_kw)),
            incentive_per_kwh=Decimal(str(incentive_per_kwh)),
            created_by=created_by,
        )
        self.session.add(event)
        self.session.flush()
        # Read back what the columns kept (amounts rounded to their scale).
        self.session.refresh(event)
        return event

    def get_event(self, event_id: str, *, lock: bool = False) -> Event:
        """The event; with ``lock``, held until the transaction ends, so an answer,
        an invitation and a cancellation of one event happen one after another."""
        if not is_id(event_id):
            raise EventNotFound()
        query = select(Event).where(Event.id == event_id)
        if lock:
            query = query.with_for_update()
        event = self.session.scalars(query).one_or_none()
        if event is None:
            raise EventNotFound()
        return event

    def list_events(self) -> list[Event]:
        """Every event, latest start first."""
        return list(
            self.session.scalars(select(Event).order_by(Event.start.desc(), Event.id))
        )

    def events_of(self, user_id: str) -> list[tuple[Event, Invitation]]:
        """The events ``user_id`` is invited to, latest start first, with their
        invitation."""
        rows = self.session.execute(
            select(Event, Invitation)
            .join(Invitation, Invitation.event_id == Event.id)
            .where(Invitation.user_id == user_id)
            .order_by(Event.start.desc(), Event.id)
        )
        return [(event, invitation) for event, invitation in rows]

    def cancel_event(self, event: Event, now: datetime) -> Event:
        event.cancelled_at = now
        self.session.flush()
        return event

    def opted_in_windows(
        self, user_ids: list[str], event: Event, since: datetime
    ) -> dict[str, list[tuple[datetime, datetime]]]:
        """Per user, the windows of the other events they opted into that were not
        cancelled and started before ``event`` and ended after ``since``."""
        rows = self.session.execute(
            select(Invitation.user_id, Event.start, Event.end)
            .join(Event, Event.id == Invitation.event_id)
            .where(
                Invitation.user_id.in_(user_ids),
                Invitation.status == OPTED_IN,
                Event.id != event.id,
                Event.cancelled_at.is_(None),
                Event.start < event.start,
                Event.end > since,
            )
        )
        windows: dict[str, list[tuple[datetime, datetime]]] = {
            user_id: [] for user_id in user_ids
        }
        for user_id, start, end in rows:
            windows[user_id].append((start, end))
        return windows

    # -- invitations --------------------------------------------------------------

    def invite(self, event_id: str, user_ids: list[str]) -> set[str]:
        """Invite the users not invited yet (an answer already given stays);
        return those newly invited."""
        if not user_ids:
            return set()
        return set(
            self.session.scalars(
                insert(Invitation)
                .values(
                    [
                        {"event_id": event_id, "user_id": user_id, "status": INVITED}
                        for user_id in user_ids
                    ]
                )
                .on_conflict_do_nothing(index_elements=["event_id", "user_id"])
                .returning(Invitation.user_id)
            )
        )

    def invitation(self, event_id: str, user_id: str) -> Invitation | None:
        if not is_id(event_id):
            return None
        return self.session.get(Invitation, (event_id, user_id))

    def invitations(self, event_id: str, status: str | None = None) -> list[Invitation]:
        """An event's invitations (of one ``status``, if given), in invitation
        order."""
        query = (
            select(Invitation)
            .where(Invitation.event_id == event_id)
            .order_by(Invitation.created_at, Invitation.user_id)
        )
        if status is not None:
            query = query.where(Invitation.status == status)
        return list(self.session.scalars(query))

    def invitation_counts(self, event_ids: list[str]) -> dict[str, dict[str, int]]:
        """``{event_id: {status: count}}`` of the events that have invitations."""
        counts: dict[str, dict[str, int]] = {}
        if not event_ids:
            return counts
        rows = self.session.execute(
            select(Invitation.event_id, Invitation.status, func.count())
            .where(Invitation.event_id.in_(event_ids))
            .group_by(Invitation.event_id, Invitation.status)
        )
        for event_id, status, count in rows:
            counts.setdefault(event_id, {})[status] = count
        return counts

    def answer(self, invitation: Invitation, status: str) -> Invitation:
        invitation.status = status
        self.session.flush()
        return invitation

    def delete_invitations_of(self, user_id: str) -> int:
        """Delete every invitation of ``user_id``, their settled results and
        dispatches; how many invitations there were."""
        self.session.execute(
            delete(ParticipantResult).where(ParticipantResult.user_id == user_id)
        )
        self.session.execute(delete(Dispatch).where(Dispatch.user_id == user_id))
        result = self.session.execute(
            delete(Invitation).where(Invitation.user_id == user_id)
        )
        return result.rowcount

    # -- settled results --------------------------------------------------------------

    def settle(self, event: Event, results: dict[str, str], now: datetime) -> None:
        """Store an event's results (``{user_id: JSON}``) once and for all."""
        self.session.add_all(
            ParticipantResult(event_id=event.id, user_id=user_id, result=result)
            for user_id, result in results.items()
        )
        event.settled_at = now

    def unsettled_events(self, ended_before: datetime, limit: int) -> list[str]:
        """Ids of events that ended before ``ended_before``, neither cancelled nor
        settled, oldest first."""
        return list(
            self.session.scalars(
                select(Event.id)
                .where(
                    Event.end <= ended_before,
                    Event.settled_at.is_(None),
                    Event.cancelled_at.is_(None),
                )
                .order_by(Event.end)
                .limit(limit)
            )
        )

    def settled_results(self, event_id: str, user_ids: list[str]) -> list[str]:
        """The stored results of ``user_ids`` in ``event_id``, in that order."""
        rows = self.session.scalars(
            select(ParticipantResult).where(
                ParticipantResult.event_id == event_id,
                ParticipantResult.user_id.in_(user_ids),
            )
        )
        stored = {row.user_id: row.result for row in rows}
        return [stored[user_id] for user_id in user_ids if user_id in stored]

    # -- dispatch ---------------------------------------------------------------------

    def claim_to_dispatch(self, now: datetime) -> Event | None:
        """An event that has started, is not over, cancelled nor dispatched yet,
        locked until the transaction ends; events another process holds are
        skipped (``SKIP LOCKED``), so each is dispatched by one process."""
        return self.session.scalars(
            select(Event)
            .where(
                Event.start <= now,
                Event.end > now,
                Event.cancelled_at.is_(None),
                Event.dispatched_at.is_(None),
            )
            .order_by(Event.start, Event.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).one_or_none()

    def claim_to_release(self, now: datetime) -> Event | None:
        """A dispatched event that has ended or was cancelled and is not released
        yet, locked as ``claim_to_dispatch`` locks."""
        return self.session.scalars(
            select(Event)
            .where(
                Event.dispatched_at.is_not(None),
                Event.released_at.is_(None),
                or_(Event.end <= now, Event.cancelled_at.is_not(None)),
            )
            .order_by(Event.end, Event.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).one_or_none()

    def mark_dispatched(self, event: Event, now: datetime) -> None:
        event.dispatched_at = now
        self.session.flush()

    def mark_released(self, event: Event, now: datetime) -> None:
        event.released_at = now
        self.session.flush()

    def add_dispatch(self, event_id: str, phase: str, **fields) -> None:
        """Store a command sent for ``phase`` of an event; one per device and
        phase (a second is ignored)."""
        self.session.execute(
            insert(Dispatch)
            .values(event_id=event_id, phase=phase, **fields)
            .on_conflict_do_nothing(constraint="uq_dispatches")
        )

    def dispatches(
        self, event_id: str, user_ids: list[str] | None = None, phase=None
    ) -> list[Dispatch]:
        """An event's dispatches (of ``user_ids``, of one ``phase``), in the order
        they were sent."""
        query = (
            select(Dispatch)
            .where(Dispatch.event_id == event_id)
            .order_by(Dispatch.created_at, Dispatch.phase.desc(), Dispatch.device_id)
        )
        if user_ids is not None:
            query = query.where(Dispatch.user_id.in_(user_ids))
        if phase is not None:
            query = query.where(Dispatch.phase == phase)
        return list(self.session.scalars(query))

    def set_dispatch_status(self, dispatch_id: str, status: str, detail) -> None:
        dispatch = self.session.get(Dispatch, dispatch_id)
        if dispatch is not None:
            dispatch.status, dispatch.detail = status, detail
            self.session.flush()
