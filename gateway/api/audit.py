"""Routes of the audit log: what was done on the platform, by whom, when and from
where, for ADMIN to read (recorded by the services, kept by the audit service)."""

from gateway.route import Route, only
from services.audit.schemas import AuditPageSchema, AuditQuerySchema
from services.common.policy import ADMIN

ROUTES = (
    Route(
        "GET",
        "/api/audit",
        only(ADMIN),
        "audit.list_records",
        tag="audit",
        summary="Read the audit log",
        description=(
            "Role changes, deletions, device commands, credential rotations, DR "
            "events, settlements and alarm acknowledgements: who (``actor``, null "
            "for the platform itself), what (``action`` on ``object``), when "
            "(``at``) and from where (``client``), newest first. Filters narrow "
            "the records; ``next`` is the ``cursor`` of the following page (null "
            "on the last). Records are never changed nor deleted, a deleted "
            "user's included. ADMIN only."
        ),
        query=AuditQuerySchema,
        returns=AuditPageSchema,
        returns_description="a page of records, newest first",
        example={
            "records": [
                {
                    "id": "5d0c…",
                    "at": "2026-12-02T10:15:02Z",
                    "actor": {"id": "0e6f…", "role": "ADMIN"},
                    "action": "users.role_changed",
                    "object": {"type": "user", "id": "7a2e…"},
                    "details": {"from": "USER", "to": "OPERATOR"},
                    "client": "203.0.113.7",
                }
            ],
            "next": "MjAyNi0xMi0wMlQxMDoxNTowMi…",
        },
    ),
)
