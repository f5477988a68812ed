"""auto mode: a battery's control, plan and override; its control intervals

Revision ID: 3f7a2c91d5e4
Revises: ed1b3d6a08bd
Create Date: 2026-12-02 01:50:00.000000+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = '3f7a2c91d5e4'
down_revision: Union[str, Sequence[str], None] = 'ed1b3d6a08bd'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column(
        'batteries',
        sa.Column(
            'control', sa.String(length=8), server_default='manual', nullable=False
        ),
    )
    op.add_column(
        'batteries',
        sa.Column('plan', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.add_column(
        'batteries',
        sa.Column('override_until', sa.DateTime(timezone=True), nullable=True),
    )
    op.create_check_constraint(
        'ck_batteries_control', 'batteries', "control IN ('manual', 'auto')"
    )
    op.create_index(
        'ix_batteries_auto',
        'batteries',
        ['id'],
        unique=False,
        postgresql_where=sa.text("control = 'auto'"),
    )
    op.create_table('battery_intervals',
    sa.Column('battery_id', sa.String(length=36), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('planned_power_kw', sa.Float(), nullable=False),
    sa.Column('planned_soc_kwh', sa.Float(), nullable=False),
    sa.Column('reported_soc_kwh', sa.Float(), nullable=True),
    sa.Column('replanned', sa.String(length=16), nullable=True),
    sa.Column('command_id', sa.String(length=36), nullable=True),
    sa.Column('command_status', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['battery_id'], ['batteries.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('battery_id', 'starts_at')
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('battery_intervals')
    op.drop_index(
        'ix_batteries_auto',
        table_name='batteries',
        postgresql_where=sa.text("control = 'auto'"),
    )
    op.drop_constraint('ck_batteries_control', 'batteries', type_='check')
    op.drop_column('batteries', 'override_until')
    op.drop_column('batteries', 'plan')
    op.drop_column('batteries', 'control')
