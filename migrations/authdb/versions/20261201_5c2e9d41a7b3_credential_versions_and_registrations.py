"""credential versions, per-address login failures, registrations

Revision ID: 5c2e9d41a7b3
Revises: b11a330039e3
Create Date: 2026-12-01 19:05:00.000000+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '5c2e9d41a7b3'
down_revision: Union[str, Sequence[str], None] = 'b11a330039e3'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # Existing tokens carry no version and stop working: their users log in again.
    op.add_column(
        'credentials',
        sa.Column(
            'credential_version', sa.Integer(), server_default='1', nullable=False
        ),
    )
    op.create_index(
        'ix_login_failures_client',
        'login_failures',
        ['client', 'failed_at'],
        unique=False,
    )
    op.create_table('registrations',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(
        'ix_registrations_key',
        'registrations',
        ['client', 'attempted_at'],
        unique=False,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_registrations_key', table_name='registrations')
    op.drop_table('registrations')
    op.drop_index('ix_login_failures_client', table_name='login_failures')
    op.drop_column('credentials', 'credential_version')
