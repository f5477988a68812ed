"""The one database dependency provider.

A service declares ``storage = Database(DeviceStore)``; each worker gets a store built
on its own SQLAlchemy session, closed (and so rolled back if uncommitted) when the
worker ends. Stores commit explicitly, so a handler decides when its effect is durable.
"""

from datetime import UTC, datetime
from weakref import WeakKeyDictionary

from nameko.extensions import DependencyProvider
from psycogreen.eventlet import patch_psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker


def utcnow() -> datetime:
    """The default of every ``created_at`` / ``updated_at`` column."""
    return datetime.now(UTC)


def make_engine(url: str, **options):
    # pool_pre_ping replaces connections PostgreSQL dropped while idle (a restart),
    # so the first query after an outage does not fail for a stale socket.
    return create_engine(url, pool_pre_ping=True, **options)


class Store:
    """Base of a service's storage: domain methods over one session."""

    def __init__(self, session: Session):
        self.session = session

    def commit(self) -> None:
        self.session.commit()

    def ping(self) -> None:
        self.session.execute(text("SELECT 1"))

    def advisory_lock(self, key: str) -> None:
        """Hold the lock named ``key`` until the transaction ends.

        For a check that must see what concurrent transactions add, such as a
        count before an insert: a row lock cannot guard rows that do not exist
        yet, and every process of the service shares the database's locks.
        """
        self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": key},
        )


class Database(DependencyProvider):
    def __init__(self, store_class: type[Store]):
        self.store_class = store_class

    def setup(self):
        # psycopg2 blocks the whole process on I/O unless it waits through
        # eventlet; without this one slow query stalls every worker.
        patch_psycopg()
        self.engine = make_engine(
            self.container.config["DATABASE_URL"],
            pool_size=self.container.max_workers,
            max_overflow=5,
        )
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self.sessions = WeakKeyDictionary()

    def stop(self):
        self.engine.dispose()

    def kill(self):
        self.engine.dispose()

    def get_dependency(self, worker_ctx):
        session = self.sessionmaker()
        self.sessions[worker_ctx] = session
        return self.store_class(session)

    def worker_teardown(self, worker_ctx):
        session = self.sessions.pop(worker_ctx, None)
        if session is not None:
            session.close()
