"""What an auth process remembers of the users and tokens it checked, so that a
request's token check asks the database nothing: each user's role and credential
version, and whether each token was revoked.

It is forgotten by event, never by age: authdb announces every change of a
credential and every revocation on the channel ``auth_identity`` when it commits
(triggers of the migration ``identity_notifications``), and each auth process
LISTENs on a connection of its own. A logout, a deletion or a role change made by
any auth process therefore reaches all of them as soon as it is committed, a few
milliseconds later.

While that connection is down nothing is remembered (every check reads the
database, as without the cache); when it is up again everything is forgotten, for
the notifications of the meantime are lost. A value read while a notification
arrived is not kept: it may be the value from before.
"""

import logging
import select
from collections.abc import Callable

import eventlet
import psycopg2
from nameko.extensions import DependencyProvider
from psycogreen.eventlet import patch_psycopg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

#: authdb's channel (migrations/authdb, identity_notifications).
CHANNEL = "auth_identity"
#: Seconds between attempts to listen again after the connection went.
RECONNECT_SECONDS = 1.0
#: Values remembered at most, of users and tokens each; past it all are forgotten.
MAX_REMEMBERED = 100_000
#: Seconds the listening connection waits before it checks it is still wanted.
WAIT_SECONDS = 5.0


class Identities:
    """The remembered values, kept only while ``listening``."""

    def __init__(self):
        self.listening = False
        #: Counts every forgetting: a value read across one is not kept.
        self.epoch = 0
        self.credentials: dict[str, tuple[str, int] | None] = {}
        self.revoked: dict[str, bool] = {}

    def credential(
        self, user_id: str, load: Callable[[], tuple[str, int] | None]
    ) -> tuple[str, int] | None:
        """The user's ``(role, credential_version)``, None if there is no such
        user."""
        return self._remembered(self.credentials, user_id, load)

    def is_revoked(self, jti: str, load: Callable[[], bool]) -> bool:
        return self._remembered(self.revoked, jti, load)

    def _remembered(self, values: dict, key: str, load: Callable):
        if self.listening and key in values:
            return values[key]
        epoch = self.epoch
        value = load()
        if self.listening and self.epoch == epoch:
            if len(values) >= MAX_REMEMBERED:
                values.clear()
            values[key] = value
        return value

    def forget(self, payload: str) -> None:
        """Forget what a notification names: ``user:<id>`` or ``jti:<jti>``."""
        self.epoch += 1
        kind, _, key = payload.partition(":")
        if kind == "user":
            self.credentials.pop(key, None)
        elif kind == "jti":
            self.revoked.pop(key, None)
        else:
            self.forget_all()

    def forget_all(self) -> None:
        self.epoch += 1
        self.credentials.clear()
        self.revoked.clear()


def dsn(database_url: str) -> str:
    """psycopg2's address of a SQLAlchemy URL."""
    return (
        make_url(database_url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


class IdentityCache(DependencyProvider):
    """Gives a worker the process's ``Identities``, and keeps it true by listening
    on authdb's channel from a thread of the container."""

    def setup(self):
        patch_psycopg()
        self.identities = Identities()
        self.dsn = dsn(self.container.config["DATABASE_URL"])
        self.running = False
        self.thread = None

    def start(self):
        self.running = True
        self.thread = self.container.spawn_managed_thread(
            self._listen, identifier="identities"
        )

    def stop(self):
        self.running = False
        self.identities.listening = False
        # At once, not after its wait: the connection is closed on the way out.
        if self.thread is not None:
            self.thread.kill()
            self.thread = None

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self.identities

    def _listen(self):
        while self.running:
            try:
                self._listen_once()
            except (psycopg2.Error, OSError) as exc:
                if self.identities.listening:
                    log.warning("stopped listening on %s: %s", CHANNEL, exc)
            finally:
                self.identities.listening = False
                self.identities.forget_all()
            if self.running:
                eventlet.sleep(RECONNECT_SECONDS)

    def _listen_once(self):
        connection = psycopg2.connect(self.dsn)
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f"LISTEN {CHANNEL}")
            # Anything remembered before is of a time no notification covers.
            self.identities.forget_all()
            self.identities.listening = True
            log.info("listening on %s", CHANNEL)
            while self.running:
                ready, _, _ = select.select([connection], [], [], WAIT_SECONDS)
                connection.poll()
                while connection.notifies:
                    self.identities.forget(connection.notifies.pop(0).payload)
                if not ready:
                    # A quiet channel: make sure the connection still answers.
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT 1")
        finally:
            connection.close()
