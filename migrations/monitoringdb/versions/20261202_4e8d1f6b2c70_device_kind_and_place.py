"""device kind and place: what each device is and where it stands, for generation forecasts

Revision ID: 4e8d1f6b2c70
Revises: 208d2abd1ac6
Create Date: 2026-12-02 04:20:00.000000+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '4e8d1f6b2c70'
down_revision: Union[str, Sequence[str], None] = '208d2abd1ac6'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column('monitored_devices', sa.Column('kind', sa.String(length=32), nullable=True))
    op.add_column('monitored_devices', sa.Column('latitude', sa.Double(), nullable=True))
    op.add_column('monitored_devices', sa.Column('longitude', sa.Double(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column('monitored_devices', 'longitude')
    op.drop_column('monitored_devices', 'latitude')
    op.drop_column('monitored_devices', 'kind')
