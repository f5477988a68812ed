"""credentials.email_verified: whether an account's address is confirmed

Revision ID: 9c3f5a7b1d42
Revises: 8b2e4f6a0c31
Create Date: 2026-12-02 10:30:00.000000+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '9c3f5a7b1d42'
down_revision: Union[str, Sequence[str], None] = '8b2e4f6a0c31'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema: every existing account counts as verified."""
    op.add_column(
        'credentials',
        sa.Column(
            'email_verified', sa.Boolean(), server_default=sa.true(), nullable=False
        ),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_column('credentials', 'email_verified')
