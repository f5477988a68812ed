"""reading interval: how often a device sends a reading

Revision ID: 316ab5cf3b32
Revises: 28c2bf83006c
Create Date: 2026-12-02 00:30:40.901801+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '316ab5cf3b32'
down_revision: Union[str, Sequence[str], None] = '28c2bf83006c'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('devices', sa.Column('reading_interval_s', sa.Integer(), server_default='60', nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column('devices', 'reading_interval_s')
