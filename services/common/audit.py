"""The audit log from any service: who did what to which object, when, from where.

A service declares ``audit = Audit()`` and, where something worth answering for
happens (a role changed, a device commanded, an hour settled), calls::

    self.audit(caller, "users.role_changed", "user", user_id,
               {"from": "USER", "to": "OPERATOR"}, client)

``caller`` is the RPC's ``{"user_id", "role"}``, or None when the platform acts
for no one (a timer's settlement); ``client`` the caller's address, which the
gateway passes to routes that list ``passes=("client",)``. The record, stamped
here with its own ``id`` and ``at``, is published on ``ems.sync`` under
``audit.recorded`` as every other event is (persistent, confirmed), and the audit
service stores it once (``ON CONFLICT (id) DO NOTHING``) in auditdb, where no one
may change or delete it.

Like the service's other events it is published after the change is flushed and
before it is committed, so it is never lost; a call that fails after it and is
repeated records again, once more, under a new id.

A new service records its own actions the same way, nothing else to change: the
alarms service, for one, declares ``audit = Audit()``, gives its acknowledge and
clear RPCs a ``client=None`` parameter and its routes ``passes=("client",)``, and
calls ``self.audit(caller, "alarms.acknowledged", "alarm", alarm_id,
{"device_id": …}, client)``.
"""

import uuid
from datetime import UTC, datetime

from services.common.messaging import Dispatcher
from services.common.topology import AUDIT_RECORDED, SYNC, iso_utc

#: What is recorded, by service; ``<area>.<what happened>``. The audit service
#: stores any action of this shape, these are the ones the platform records.
ACTIONS = (
    "users.role_changed",
    "users.password_set",
    "users.deleted",
    "auth.account_deleted",
    "auth.password_changed",
    "auth.password_reset",
    "devices.command_issued",
    "devices.credentials_rotated",
    "devices.deleted",
    "devices.site_deleted",
    "devices.member_role_changed",
    "devices.member_removed",
    "dr.event_created",
    "dr.event_cancelled",
    "trading.settled",
    # Alarms, by the alarms service.
    "alarms.acknowledged",
    "alarms.cleared",
)


def actor_of(caller: dict | None) -> dict | None:
    """``{"id", "role"}`` of the caller an RPC acts for; None for the platform."""
    if caller is None:
        return None
    return {"id": caller["user_id"], "role": caller["role"]}


def record(
    actor: dict | None,
    action: str,
    object_type: str,
    object_id,
    details: dict | None = None,
    client: str | None = None,
    now: datetime | None = None,
) -> dict:
    """The message of one audit record, as ``audit.recorded`` carries it."""
    return {
        "id": str(uuid.uuid4()),
        "at": iso_utc(now or datetime.now(UTC)),
        "actor": actor_of(actor),
        "action": action,
        "object": {"type": object_type, "id": str(object_id)},
        "details": details or {},
        "client": client,
    }


class Audit(Dispatcher):
    """``audit(actor, action, object_type, object_id, details=None, client=None)``:
    one record of the audit log, published on ``ems.sync`` (``audit.recorded``)."""

    def __init__(self, **options):
        super().__init__(SYNC, **options)

    def get_dependency(self, worker_ctx):
        dispatch = super().get_dependency(worker_ctx)

        def audit(
            actor: dict | None,
            action: str,
            object_type: str,
            object_id,
            details: dict | None = None,
            client: str | None = None,
        ) -> None:
            dispatch(
                AUDIT_RECORDED,
                record(actor, action, object_type, object_id, details, client),
            )

        return audit
