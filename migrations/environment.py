"""What every Alembic environment does; each ``<db>/env.py`` names its metadata."""

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import create_engine

import config


def database_url() -> str:
    override = context.get_x_argument(as_dictionary=True).get("url")
    if override:
        return override
    service = context.config.get_main_option("ems_service")
    return config.settings(service)["DATABASE_URL"]


def run(metadata) -> None:
    if context.is_offline_mode():
        context.configure(
            url=database_url(), target_metadata=metadata, literal_binds=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=metadata, compare_type=True
        )
        with context.begin_transaction():
            context.run_migrations()
