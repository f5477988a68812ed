"""device location: where a device stands, degrees north and east

Revision ID: 7b1e4c2d9a63
Revises: 316ab5cf3b32
Create Date: 2026-12-02 04:20:00.000000+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '7b1e4c2d9a63'
down_revision: Union[str, Sequence[str], None] = '316ab5cf3b32'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('devices', sa.Column('latitude', sa.Float(), nullable=True))
    op.add_column('devices', sa.Column('longitude', sa.Float(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column('devices', 'longitude')
    op.drop_column('devices', 'latitude')
