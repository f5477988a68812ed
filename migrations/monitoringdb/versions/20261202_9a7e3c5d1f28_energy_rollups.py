"""energy rollups: a copy of the sites, devices' site and room, and day and month
totals with cost and CO2, filled from the hourly totals

Existing hourly totals are rolled up in UTC at the default tariff and CO2 intensity
(those of a device whose site is not known); each site's rollups are rebuilt under
its own terms when monitoring first hears of it.

Revision ID: 9a7e3c5d1f28
Revises: 6c2f0e9a7d15
Create Date: 2026-12-02 07:40:00.000000+00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision: str = "9a7e3c5d1f28"
down_revision: Union[str, Sequence[str], None] = "6c2f0e9a7d15"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The defaults of services/monitoring/tariffs.py, as they were when this ran.
IMPORT_PER_KWH = "0.30"
EXPORT_PER_KWH = "0.08"
CO2_KG_PER_KWH = "0.4"


def _totals(name: str, key: str) -> None:
    op.create_table(
        name,
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column(key, sa.Date(), nullable=False),
        sa.Column("import_kwh", sa.Numeric(18, 6), nullable=False),
        sa.Column("export_kwh", sa.Numeric(18, 6), nullable=False),
        sa.Column("cost", sa.Numeric(), nullable=False),
        sa.Column("co2_kg", sa.Numeric(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", key),
    )


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "sites",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("tariff", postgresql.JSONB(), nullable=False),
        sa.Column("co2_kg_per_kwh", sa.Numeric(), nullable=False),
        sa.Column("members", postgresql.JSONB(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.add_column(
        "monitored_devices", sa.Column("site_id", sa.String(length=36), nullable=True)
    )
    op.add_column(
        "monitored_devices", sa.Column("room_id", sa.String(length=36), nullable=True)
    )
    op.create_index(
        "ix_monitored_devices_site_id", "monitored_devices", ["site_id"]
    )
    op.create_index(
        "ix_monitored_devices_room_id", "monitored_devices", ["room_id"]
    )
    _totals("daily_totals", "day")
    op.create_index("ix_daily_totals_day", "daily_totals", ["day"])
    _totals("monthly_totals", "month")
    op.execute(
        "INSERT INTO daily_totals "
        "(device_id, day, import_kwh, export_kwh, cost, co2_kg) "
        "SELECT device_id, (hour AT TIME ZONE 'UTC')::date, sum(kwh), "
        f"sum(export_kwh), sum(kwh * {IMPORT_PER_KWH} - export_kwh * "
        f"{EXPORT_PER_KWH}), sum(kwh * {CO2_KG_PER_KWH}) "
        "FROM hourly_totals GROUP BY 1, 2"
    )
    op.execute(
        "INSERT INTO monthly_totals "
        "(device_id, month, import_kwh, export_kwh, cost, co2_kg) "
        "SELECT device_id, date_trunc('month', day)::date, sum(import_kwh), "
        "sum(export_kwh), sum(cost), sum(co2_kg) FROM daily_totals GROUP BY 1, 2"
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("monthly_totals")
    op.drop_index("ix_daily_totals_day", table_name="daily_totals")
    op.drop_table("daily_totals")
    op.drop_index("ix_monitored_devices_room_id", table_name="monitored_devices")
    op.drop_index("ix_monitored_devices_site_id", table_name="monitored_devices")
    op.drop_column("monitored_devices", "room_id")
    op.drop_column("monitored_devices", "site_id")
    op.drop_table("sites")
