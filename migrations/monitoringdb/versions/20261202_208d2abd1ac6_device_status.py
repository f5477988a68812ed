"""device status: device_states, reading intervals, offline and online notifications

Revision ID: 208d2abd1ac6
Revises: 19f49cba49a0
Create Date: 2026-12-02 00:34:08.594323+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision: str = '208d2abd1ac6'
down_revision: Union[str, Sequence[str], None] = '19f49cba49a0'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('device_states',
    sa.Column('device_id', sa.String(length=36), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=True),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('power_w', sa.Double(), nullable=True),
    sa.Column('power_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('soc_kwh', sa.Double(), nullable=True),
    sa.Column('soc_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('device_id')
    )
    op.create_index('ix_device_states_online_last_seen', 'device_states', ['last_seen'], unique=False, postgresql_where=sa.text('online'))
    op.add_column('monitored_devices', sa.Column('reading_interval_s', sa.Integer(), server_default='60', nullable=False))
    op.add_column('notifications', sa.Column('last_seen', sa.DateTime(timezone=True), nullable=True))
    op.alter_column('notifications', 'hour', existing_type=postgresql.TIMESTAMP(timezone=True), nullable=True)
    op.alter_column('notifications', 'kwh', existing_type=sa.NUMERIC(precision=18, scale=6), nullable=True)
    op.alter_column('notifications', 'limit_kwh', existing_type=sa.NUMERIC(precision=18, scale=6), nullable=True)


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DELETE FROM notifications WHERE reason IN ('offline', 'online')")
    op.alter_column('notifications', 'limit_kwh', existing_type=sa.NUMERIC(precision=18, scale=6), nullable=False)
    op.alter_column('notifications', 'kwh', existing_type=sa.NUMERIC(precision=18, scale=6), nullable=False)
    op.alter_column('notifications', 'hour', existing_type=postgresql.TIMESTAMP(timezone=True), nullable=False)
    op.drop_column('notifications', 'last_seen')
    op.drop_column('monitored_devices', 'reading_interval_s')
    op.drop_index('ix_device_states_online_last_seen', table_name='device_states', postgresql_where=sa.text('online'))
    op.drop_table('device_states')
