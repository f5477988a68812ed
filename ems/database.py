"""Creating the platform's databases and migrating them with Alembic."""

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import config

ALEMBIC_INI = config.ROOT_DIR / "alembic.ini"


def database_names() -> list[str]:
    common = config.settings("common")
    prefix = common["DB_PREFIX"] or ""
    return [f"{prefix}{name}" for name in common["DATABASES"]]


def _server_url(pg_url: str):
    return make_url(f"{pg_url}/postgres")


def create_databases(pg_url: str, names: list[str]) -> list[str]:
    """Create the databases that do not exist yet; return those created."""
    engine = create_engine(_server_url(pg_url), isolation_level="AUTOCOMMIT")
    created = []
    with engine.connect() as connection:
        existing = set(connection.scalars(text("SELECT datname FROM pg_database")))
        for name in names:
            if name not in existing:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
                created.append(name)
    engine.dispose()
    return created


def drop_databases(pg_url: str, names: list[str]) -> None:
    engine = create_engine(_server_url(pg_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def alembic_config(database: str, url: str | None = None) -> AlembicConfig:
    cfg = AlembicConfig(str(ALEMBIC_INI), ini_section=database)
    cfg.set_main_option(
        "script_location", str(Path(config.ROOT_DIR, "migrations", database))
    )
    if url:
        cfg.cmd_opts = type("Options", (), {"x": [f"url={url}"]})()
    return cfg


def migrate(database: str, url: str | None = None) -> None:
    """``alembic upgrade head`` on one database (its name without any prefix)."""
    command.upgrade(alembic_config(database, url), "head")


def migrate_all() -> None:
    for name in config.settings("common")["DATABASES"]:
        migrate(name)
