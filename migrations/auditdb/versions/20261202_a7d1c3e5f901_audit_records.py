"""the audit log's records, append-only

Revision ID: a7d1c3e5f901
Revises:
Create Date: 2026-12-02 10:30:00.000000+00:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "a7d1c3e5f901"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

#: Refuses every change of a stored record: the log is only ever added to.
REFUSE_CHANGE = """
CREATE FUNCTION audit_records_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % refused on %',
        TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "audit_records",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=36), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_records_at_id", "audit_records", ["at", "id"])
    op.create_index(
        "ix_audit_records_actor_at", "audit_records", ["actor_id", "at"]
    )
    op.create_index(
        "ix_audit_records_action_at",
        "audit_records",
        ["action", "at"],
        postgresql_ops={"action": "varchar_pattern_ops"},
    )
    op.create_index(
        "ix_audit_records_object_at",
        "audit_records",
        ["object_type", "object_id", "at"],
    )
    op.execute(REFUSE_CHANGE)
    op.execute(
        "CREATE TRIGGER audit_records_no_change BEFORE UPDATE OR DELETE "
        "ON audit_records FOR EACH ROW EXECUTE FUNCTION audit_records_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE "
        "ON audit_records FOR EACH STATEMENT "
        "EXECUTE FUNCTION audit_records_append_only()"
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TRIGGER audit_records_no_truncate ON audit_records")
    op.execute("DROP TRIGGER audit_records_no_change ON audit_records")
    op.execute("DROP FUNCTION audit_records_append_only()")
    op.drop_index("ix_audit_records_object_at", table_name="audit_records")
    op.drop_index("ix_audit_records_action_at", table_name="audit_records")
    op.drop_index("ix_audit_records_actor_at", table_name="audit_records")
    op.drop_index("ix_audit_records_at_id", table_name="audit_records")
    op.drop_table("audit_records")
