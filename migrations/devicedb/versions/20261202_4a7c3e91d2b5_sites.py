"""sites, their rooms and members; every device in a site

Revision ID: 4a7c3e91d2b5
Revises: 7b1e4c2d9a63
Create Date: 2026-12-02 07:30:00.000000+00:00

Each owner of devices gets their default site (``services/devices/sites.py``:
its id derived from theirs, named "Home", in UTC, with the default tariff and grid
intensity, they its owner), and their devices are put in it.
"""
import json
import uuid
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision: str = '4a7c3e91d2b5'
down_revision: Union[str, Sequence[str], None] = '7b1e4c2d9a63'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

#: ``services.devices.sites.SITE_NAMESPACE``, written out: a migration does not
#: import the code of its time, which changes after it
#: (tests/unit/devices/test_sites.py checks they agree).
SITE_NAMESPACE = uuid.UUID('91d72b0e-ced1-4075-bb6e-77db79bb85d9')
TARIFF = {
    'currency': 'EUR',
    'import_per_kwh': 0.30,
    'export_per_kwh': 0.08,
    'periods': [],
}
CO2_KG_PER_KWH = 0.4


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('sites',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('tariff', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('co2_kg_per_kwh', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('site_members',
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('site_id', 'user_id')
    )
    op.create_index(op.f('ix_site_members_user_id'), 'site_members', ['user_id'], unique=False)
    op.create_table('rooms',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('site_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_rooms_site_id'), 'rooms', ['site_id'], unique=False)
    op.add_column('devices', sa.Column('site_id', sa.String(length=36), nullable=True))
    op.add_column('devices', sa.Column('room_id', sa.String(length=36), nullable=True))

    connection = op.get_bind()
    owners = connection.execute(
        sa.text('SELECT DISTINCT user_id FROM devices')
    ).scalars().all()
    for user_id in owners:
        site_id = str(uuid.uuid5(SITE_NAMESPACE, user_id))
        connection.execute(
            sa.text(
                'INSERT INTO sites (id, name, timezone, tariff, co2_kg_per_kwh, '
                'created_at, updated_at) VALUES (:id, :name, :timezone, '
                'CAST(:tariff AS JSONB), :co2, now(), now()) '
                'ON CONFLICT (id) DO NOTHING'
            ),
            {
                'id': site_id,
                'name': 'Home',
                'timezone': 'UTC',
                'tariff': json.dumps(TARIFF),
                'co2': CO2_KG_PER_KWH,
            },
        )
        connection.execute(
            sa.text(
                "INSERT INTO site_members (site_id, user_id, role) "
                "VALUES (:site_id, :user_id, 'owner') ON CONFLICT DO NOTHING"
            ),
            {'site_id': site_id, 'user_id': user_id},
        )
        connection.execute(
            sa.text('UPDATE devices SET site_id = :site_id WHERE user_id = :user_id'),
            {'site_id': site_id, 'user_id': user_id},
        )

    op.alter_column('devices', 'site_id', nullable=False)
    op.create_index(op.f('ix_devices_site_id'), 'devices', ['site_id'], unique=False)
    op.create_index(op.f('ix_devices_room_id'), 'devices', ['room_id'], unique=False)
    op.create_foreign_key(
        'devices_site_id_fkey', 'devices', 'sites', ['site_id'], ['id']
    )
    op.create_foreign_key(
        'devices_room_id_fkey', 'devices', 'rooms', ['room_id'], ['id'],
        ondelete='SET NULL',
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_constraint('devices_room_id_fkey', 'devices', type_='foreignkey')
    op.drop_constraint('devices_site_id_fkey', 'devices', type_='foreignkey')
    op.drop_index(op.f('ix_devices_room_id'), table_name='devices')
    op.drop_index(op.f('ix_devices_site_id'), table_name='devices')
    op.drop_column('devices', 'room_id')
    op.drop_column('devices', 'site_id')
    op.drop_index(op.f('ix_rooms_site_id'), table_name='rooms')
    op.drop_table('rooms')
    op.drop_index(op.f('ix_site_members_user_id'), table_name='site_members')
    op.drop_table('site_members')
    op.drop_table('sites')
