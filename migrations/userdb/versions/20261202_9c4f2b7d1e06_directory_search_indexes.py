"""directory search indexes

Revision ID: 9c4f2b7d1e06
Revises: 4801da44f45e
Create Date: 2026-12-02 00:40:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '9c4f2b7d1e06'
down_revision: Union[str, Sequence[str], None] = '4801da44f45e'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # The directory finds users whose name or e-mail address contains the text
    # typed, in any case: `name ILIKE '%ada%'`. A B-tree cannot answer a pattern
    # that starts with `%`; a trigram index can, in any case (pg_trgm, a trusted
    # extension: the database's owner may create it).
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX ix_users_name_trgm ON users USING gin (name gin_trgm_ops)"
    )
    op.execute(
        "CREATE INDEX ix_users_email_trgm ON users USING gin (email gin_trgm_ops)"
    )
    # The directory's order, so that the first page of everyone is read in order
    # rather than sorted.
    op.create_index('ix_users_name_email', 'users', ['name', 'email'])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_users_name_email', table_name='users')
    op.drop_index('ix_users_email_trgm', table_name='users')
    op.drop_index('ix_users_name_trgm', table_name='users')
