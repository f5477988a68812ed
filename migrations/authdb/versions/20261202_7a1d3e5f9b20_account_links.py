"""account links (password resets, e-mail changes) and reset requests

Revision ID: 7a1d3e5f9b20
Revises: 5c2e9d41a7b3
Create Date: 2026-12-02 07:40:00.000000+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '7a1d3e5f9b20'
down_revision: Union[str, Sequence[str], None] = '5c2e9d41a7b3'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('account_links',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('new_email', sa.String(length=254), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index(
        op.f('ix_account_links_user_id'), 'account_links', ['user_id'], unique=False
    )
    op.create_index(
        op.f('ix_account_links_expires_at'),
        'account_links',
        ['expires_at'],
        unique=False,
    )
    op.create_table('reset_requests',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(
        'ix_reset_requests_key',
        'reset_requests',
        ['client', 'email', 'requested_at'],
        unique=False,
    )
    op.create_index(
        'ix_reset_requests_client',
        'reset_requests',
        ['client', 'requested_at'],
        unique=False,
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_reset_requests_client', table_name='reset_requests')
    op.drop_index('ix_reset_requests_key', table_name='reset_requests')
    op.drop_table('reset_requests')
    op.drop_index(op.f('ix_account_links_expires_at'), table_name='account_links')
    op.drop_index(op.f('ix_account_links_user_id'), table_name='account_links')
    op.drop_table('account_links')
