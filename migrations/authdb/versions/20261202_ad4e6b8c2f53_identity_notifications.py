"""identity notifications: a change of a credential or a revocation is announced
on the channel ``auth_identity`` when it commits, so every auth process forgets
what it remembered of that user or token

Revision ID: ad4e6b8c2f53
Revises: 9c3f5a7b1d42
Create Date: 2026-12-02 16:10:00.000000+00:00

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = 'ad4e6b8c2f53'
down_revision: Union[str, Sequence[str], None] = '9c3f5a7b1d42'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema: NOTIFY is delivered at commit, never for a rollback."""
    op.execute(
        """
        CREATE FUNCTION notify_identity_changed() RETURNS trigger AS $$
        BEGIN
            IF TG_TABLE_NAME = 'credentials' THEN
                PERFORM pg_notify(
                    'auth_identity',
                    'user:' || COALESCE(NEW.user_id, OLD.user_id)
                );
            ELSE
                PERFORM pg_notify('auth_identity', 'jti:' || NEW.jti);
            END IF;
            RETURN NULL;
        END
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        "CREATE TRIGGER credential_changed AFTER INSERT OR UPDATE OR DELETE "
        "ON credentials FOR EACH ROW EXECUTE FUNCTION notify_identity_changed()"
    )
    op.execute(
        "CREATE TRIGGER token_revoked AFTER INSERT OR UPDATE "
        "ON revoked_tokens FOR EACH ROW EXECUTE FUNCTION notify_identity_changed()"
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DROP TRIGGER token_revoked ON revoked_tokens")
    op.execute("DROP TRIGGER credential_changed ON credentials")
    op.execute("DROP FUNCTION notify_identity_changed()")
