"""readings partitioned by day of hour: primary key (reading_id, hour), rows kept

Revision ID: 6c2f0e9a7d15
Revises: 4e8d1f6b2c70
Create Date: 2026-12-02 05:40:00.000000+00:00

The table is renamed aside, a partitioned one is created in its place with a
partition for every UTC day its rows count in (and today's and the next two), the
rows are copied, and the old table is dropped. Partitions are named
``readings_pYYYYMMDD`` (``services/monitoring/partitions.py``).
"""

from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = "6c2f0e9a7d15"
down_revision: Union[str, Sequence[str], None] = "4e8d1f6b2c70"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = (
    "reading_id, device_id, timestamp, hour, kwh, received_at, export_kwh, "
    "power_w, soc_kwh, measurements"
)


def upgrade() -> None:
    """Upgrade schema."""
    op.execute("ALTER TABLE readings RENAME TO readings_unpartitioned")
    op.execute(
        "ALTER TABLE readings_unpartitioned "
        "RENAME CONSTRAINT readings_pkey TO readings_unpartitioned_pkey"
    )
    op.execute(
        "ALTER INDEX ix_readings_device_hour RENAME TO ix_readings_unpartitioned"
    )
    op.execute(
        """
        CREATE TABLE readings (
            reading_id VARCHAR(64) NOT NULL,
            device_id VARCHAR(36) NOT NULL,
            timestamp TIMESTAMP WITH TIME ZONE NOT NULL,
            hour TIMESTAMP WITH TIME ZONE NOT NULL,
            kwh NUMERIC(18, 6) NOT NULL,
            received_at TIMESTAMP WITH TIME ZONE NOT NULL,
            export_kwh NUMERIC(18, 6),
            power_w DOUBLE PRECISION,
            soc_kwh DOUBLE PRECISION,
            measurements JSONB,
            CONSTRAINT readings_pkey PRIMARY KEY (reading_id, hour)
        ) PARTITION BY RANGE (hour)
        """
    )
    op.execute("CREATE INDEX ix_readings_device_hour ON readings (device_id, hour)")
    op.execute(
        """
        DO $$
        DECLARE
            day date;
        BEGIN
            FOR day IN
                SELECT DISTINCT (hour AT TIME ZONE 'UTC')::date
                FROM readings_unpartitioned
                UNION
                SELECT (now() AT TIME ZONE 'UTC')::date + n
                FROM generate_series(0, 2) AS n
            LOOP
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF readings '
                    'FOR VALUES FROM (%L) TO (%L)',
                    'readings_p' || to_char(day, 'YYYYMMDD'),
                    day::text || ' 00:00:00+00',
                    (day + 1)::text || ' 00:00:00+00'
                );
            END LOOP;
        END
        $$
        """
    )
    op.execute(
        f"INSERT INTO readings ({COLUMNS}) SELECT {COLUMNS} FROM readings_unpartitioned"
    )
    op.execute("DROP TABLE readings_unpartitioned")


def downgrade() -> None:
    """Downgrade schema: one table again, its key ``reading_id`` alone (of a
    reading id seen in two hours, the earliest is kept)."""
    op.execute("ALTER TABLE readings RENAME TO readings_partitioned")
    op.execute(
        "ALTER TABLE readings_partitioned "
        "RENAME CONSTRAINT readings_pkey TO readings_partitioned_pkey"
    )
    op.execute("ALTER INDEX ix_readings_device_hour RENAME TO ix_readings_partitioned")
    op.execute(
        """
        CREATE TABLE readings (
            reading_id VARCHAR(64) NOT NULL,
            device_id VARCHAR(36) NOT NULL,
            timestamp TIMESTAMP WITH TIME ZONE NOT NULL,
            hour TIMESTAMP WITH TIME ZONE NOT NULL,
            kwh NUMERIC(18, 6) NOT NULL,
            received_at TIMESTAMP WITH TIME ZONE NOT NULL,
            export_kwh NUMERIC(18, 6),
            power_w DOUBLE PRECISION,
            soc_kwh DOUBLE PRECISION,
            measurements JSONB,
            CONSTRAINT readings_pkey PRIMARY KEY (reading_id)
        )
        """
    )
    op.execute("CREATE INDEX ix_readings_device_hour ON readings (device_id, hour)")
    op.execute(
        f"INSERT INTO readings ({COLUMNS}) "
        f"SELECT DISTINCT ON (reading_id) {COLUMNS} FROM readings_partitioned "
        "ORDER BY reading_id, hour"
    )
    op.execute("DROP TABLE readings_partitioned")
