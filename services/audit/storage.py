"""auditdb access for the audit service: records are added, and listed."""

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert

from services.audit import logic
from services.audit.models import AuditRecord
from services.common.db import Store, utcnow


def _like_prefix(text: str) -> str:
    """``text`` as the start of a LIKE pattern, its wildcards taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class AuditStore(Store):
    def add(self, record: dict) -> bool:
        """Store a loaded record; False if one with its id is stored already (a
        redelivered message), which stays as it was."""
        actor = record["actor"] or {}
        inserted = self.session.execute(
            insert(AuditRecord)
            .values(
                id=record["id"],
                at=record["at"],
                actor_id=actor.get("id"),
                actor_role=actor.get("role"),
                action=record["action"],
                object_type=record["object"]["type"],
                object_id=record["object"]["id"],
                details=record["details"],
                client=record["client"],
                recorded_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=[AuditRecord.id])
            .returning(AuditRecord.id)
        )
        return inserted.scalar() is not None

    def page(self, query: dict) -> list[AuditRecord]:
        """The records the filters of ``query`` (``AuditQuerySchema``) keep,
        newest first, after its cursor, at most its ``limit``."""
        conditions = []
        if "actor_id" in query:
            conditions.append(AuditRecord.actor_id == query["actor_id"])
        if "action" in query:
            action = query["action"]
            if logic.is_prefix(action):
                conditions.append(
                    AuditRecord.action.like(
                        _like_prefix(logic.prefix(action)), escape="\\"
                    )
                )
            else:
                conditions.append(AuditRecord.action == action)
        if "object_type" in query:
            conditions.append(AuditRecord.object_type == query["object_type"])
        if "object_id" in query:
            conditions.append(AuditRecord.object_id == query["object_id"])
        if "from_" in query:
            conditions.append(AuditRecord.at >= query["from_"])
        if "to" in query:
            conditions.append(AuditRecord.at < query["to"])
        if "cursor" in query:
            at, record_id = query["cursor"]
            conditions.append(
                or_(
                    AuditRecord.at < at,
                    and_(AuditRecord.at == at, AuditRecord.id < record_id),
                )
            )
        statement = (
            select(AuditRecord)
            .where(*conditions)
            .order_by(AuditRecord.at.desc(), AuditRecord.id.desc())
            .limit(query["limit"])
        )
        return list(self.session.scalars(statement))
