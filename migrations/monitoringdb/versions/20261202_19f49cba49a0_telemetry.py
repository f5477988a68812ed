"""telemetry: exported energy, power, state of charge and measurements

Revision ID: 19f49cba49a0
Revises: 8a495cf823c8
Create Date: 2026-12-02 00:27:19.787958+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision: str = '19f49cba49a0'
down_revision: Union[str, Sequence[str], None] = '8a495cf823c8'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('readings', sa.Column('export_kwh', sa.Numeric(precision=18, scale=6), nullable=True))
    op.add_column('readings', sa.Column('power_w', sa.Double(), nullable=True))
    op.add_column('readings', sa.Column('soc_kwh', sa.Double(), nullable=True))
    op.add_column('readings', sa.Column('measurements', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column('hourly_totals', sa.Column('export_kwh', sa.Numeric(precision=18, scale=6), server_default='0', nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column('hourly_totals', 'export_kwh')
    op.drop_column('readings', 'measurements')
    op.drop_column('readings', 'soc_kwh')
    op.drop_column('readings', 'power_w')
    op.drop_column('readings', 'export_kwh')
