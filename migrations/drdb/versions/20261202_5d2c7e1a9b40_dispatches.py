"""dispatches

Revision ID: 5d2c7e1a9b40
Revises: 04196fec2cfa
Create Date: 2026-12-02 01:50:00.000000+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '5d2c7e1a9b40'
down_revision: Union[str, Sequence[str], None] = '04196fec2cfa'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('events', sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('events', sa.Column('released_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table('dispatches',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('phase', sa.String(length=8), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('command_id', sa.String(length=36), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id', 'device_id', 'phase', name='uq_dispatches')
    )
    op.create_index(op.f('ix_dispatches_user_id'), 'dispatches', ['user_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index(op.f('ix_dispatches_user_id'), table_name='dispatches')
    op.drop_table('dispatches')
    op.drop_column('events', 'released_at')
    op.drop_column('events', 'dispatched_at')
