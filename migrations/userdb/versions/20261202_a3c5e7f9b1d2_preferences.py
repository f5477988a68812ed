"""a user's preferences: time zone, units, theme

Revision ID: a3c5e7f9b1d2
Revises: 9c4f2b7d1e06
Create Date: 2026-12-02 08:00:00.000000+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'a3c5e7f9b1d2'
down_revision: Union[str, Sequence[str], None] = '9c4f2b7d1e06'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column(
        'users',
        sa.Column('time_zone', sa.String(length=64), server_default='UTC', nullable=False),
    )
    op.add_column(
        'users',
        sa.Column('units', sa.String(length=8), server_default='kWh', nullable=False),
    )
    op.add_column(
        'users',
        sa.Column('theme', sa.String(length=8), server_default='system', nullable=False),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column('users', 'theme')
    op.drop_column('users', 'units')
    op.drop_column('users', 'time_zone')
