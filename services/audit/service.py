"""audit: the platform's audit log. Every service records what it must answer for
(``services.common.audit``: ``audit.recorded`` on ``ems.sync``); this service
stores each record once in auditdb, where a trigger refuses any change or
deletion, and lists them to ADMIN (``GET /api/audit``)."""

from nameko.rpc import rpc

from services.audit import logic, policies
from services.audit.schemas import AuditPageSchema, AuditQuerySchema, AuditRecordSchema
from services.audit.storage import AuditStore
from services.common.db import Database
from services.common.errors import EXPECTED, Forbidden
from services.common.health import HealthMixin
from services.common.messaging import consume
from services.common.schemas import load
from services.common.topology import AUDIT_RECORDS

page_schema = AuditPageSchema()


def _entry(row) -> dict:
    return {
        "id": row.id,
        "at": row.at,
        "actor": (
            {"id": row.actor_id, "role": row.actor_role}
            if row.actor_id is not None
            else None
        ),
        "action": row.action,
        "object": {"type": row.object_type, "id": row.object_id},
        "details": row.details,
        "client": row.client,
    }


class AuditService(HealthMixin):
    name = "audit"

    storage = Database(AuditStore)

    @consume(AUDIT_RECORDS)
    def handle_record(self, body):
        """Store a record; one delivered again (its id stored already) changes
        nothing. A record that is not one is dead-lettered with the reason."""
        self.storage.add(load(AuditRecordSchema(), body))
        self.storage.commit()

    @rpc(expected_exceptions=EXPECTED)
    def list_records(self, caller, query):
        """The records the query's filters keep, newest first, a page at a time:
        ``{records, next}``, ``next`` the cursor of the following page (None on
        the last)."""
        policies.READ.require(
            caller, refusal=Forbidden("only ADMIN reads the audit log")
        )
        query = load(AuditQuerySchema(), query)
        rows = self.storage.page(query)
        following = None
        if len(rows) == query["limit"]:
            following = logic.cursor(rows[-1].at, rows[-1].id)
        return page_schema.dump(
            {"records": [_entry(row) for row in rows], "next": following}
        )
