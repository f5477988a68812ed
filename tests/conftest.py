"""Fixtures of every test: eventlet first, then a throw-away installation.

The whole run shares one set of PostgreSQL databases (migrated by Alembic, as in
production) and one pair of signing keys; RabbitMQ virtual hosts are per test
(nameko's ``rabbit_config``) or per integration session (``harness.stack.Stack``).
"""

import eventlet

eventlet.monkey_patch()  # noqa: E402 - before anything else imports socket or threading

from psycogreen.eventlet import patch_psycopg  # noqa: E402

patch_psycopg()

import pytest  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from harness.stack import Resources  # noqa: E402


@pytest.fixture(scope="session")
def resources(tmp_path_factory):
    installation = Resources(tmp_path_factory.mktemp("ems"))
    installation.create()
    yield installation
    installation.destroy()


@pytest.fixture(scope="session")
def engines(resources):
    engines = {name: create_engine(url) for name, url in resources.databases.items()}
    yield engines
    for engine in engines.values():
        engine.dispose()


@pytest.fixture
def db_session(engines, request):
    """A session on ``request.param``'s database inside a transaction that is rolled
    back at the end, whatever the code under test commits."""
    connection = engines[request.param].connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    yield session
    session.close()
    transaction.rollback()
    connection.close()


def truncate(engine) -> None:
    with engine.begin() as connection:
        tables = connection.scalars(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).all()
        # A table that refuses TRUNCATE by a trigger (the audit log, append-only)
        # is emptied with its triggers off, as the owner of a test database may.
        guarded = connection.scalars(
            text(
                "SELECT DISTINCT c.relname FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND NOT t.tgisinternal"
            )
        ).all()
        for table in guarded:
            connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        if tables:
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY"))
        for table in guarded:
            connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))


@pytest.fixture
def clean_databases(engines):
    """For tests whose services commit through their own connections."""
    yield
    for engine in engines.values():
        truncate(engine)


@pytest.fixture
def service_config(rabbit_config, resources):
    """Settings of one service container: those ``process`` runs with in the test
    installation (``config.settings``), on the test's own virtual host, with
    ``extra`` on top. Without a process, the virtual host alone (for a fake
    service or an RPC proxy)."""

    def make(process: str | None = None, **extra) -> dict:
        settings = resources.settings(process) if process else {}
        return {**settings, **rabbit_config, **extra}

    return make


class Listener:
    """A queue bound to an exchange of the test's vhost, to see what was published."""

    def __init__(self, amqp_uri, exchange, routing_key):
        from kombu import Connection, Queue

        self.connection = Connection(amqp_uri)
        self.queue = Queue(exclusive=True, exchange=exchange, routing_key=routing_key)
        self.bound = self.queue(self.connection.default_channel)
        self.bound.declare()

    def messages(self, wait: float = 2.0, until: int | None = None) -> list:
        """Bodies received within ``wait`` seconds (sooner once ``until`` came)."""
        import time

        received, deadline = [], time.monotonic() + wait
        while time.monotonic() < deadline and (until is None or len(received) < until):
            message = self.bound.get(no_ack=True)
            if message is None:
                time.sleep(0.05)
                continue
            received.append((message.delivery_info["routing_key"], message.payload))
        return received

    def close(self):
        self.connection.release()


@pytest.fixture
def listen(rabbit_config):
    listeners = []

    def make(exchange, routing_key="#"):
        listener = Listener(rabbit_config["AMQP_URI"], exchange, routing_key)
        listeners.append(listener)
        return listener

    yield make
    for listener in listeners:
        listener.close()
