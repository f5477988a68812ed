"""questions that asked the AI model

Revision ID: 6c1e2a9d4b70
Revises: 15391223310f
Create Date: 2026-12-01 19:00:00.000000+00:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "6c1e2a9d4b70"
down_revision: Union[str, Sequence[str], None] = "15391223310f"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column(
        "messages",
        sa.Column(
            "asked_ai", sa.Boolean(), server_default=sa.false(), nullable=False
        ),
    )
    op.create_index(
        "ix_messages_asked_ai",
        "messages",
        ["user_id", "seq"],
        unique=False,
        postgresql_where=sa.text("asked_ai"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_messages_asked_ai",
        table_name="messages",
        postgresql_where=sa.text("asked_ai"),
    )
    op.drop_column("messages", "asked_ai")
