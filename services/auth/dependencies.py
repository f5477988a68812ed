"""auth's dependency providers: password hashing and token signing."""

import os
from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool
from eventlet.semaphore import Semaphore
from nameko.extensions import DependencyProvider

from services.auth.exceptions import HashingBusy
from services.auth.logic import touch_due
from services.common.tokens import ALGORITHM

# OWASP's recommended minimum for Argon2id: 19 MiB of memory, two passes, one lane.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def lower_priority(niceness: int, function, *args):
    """``function(*args)`` in this OS thread, made ``niceness`` nicer first.

    On Linux, ``setpriority(PRIO_PROCESS, 0, …)`` applies to the calling thread
    only, so the event loop's thread, which answers ``/internal/verify``, keeps
    its priority over the hashes. Elsewhere the whole process would be reniced, so
    the call is made on Linux only.
    """
    if niceness and hasattr(os, "sched_getaffinity"):
        current = os.getpriority(os.PRIO_PROCESS, 0)
        target = min(19, niceness)
        if current < target:
            os.setpriority(os.PRIO_PROCESS, 0, target)
    return function(*args)


class PasswordHashing:
    """Argon2id hashing, run in OS threads so a hash never blocks the event loop
    (and with it the AMQP heartbeats of every other worker).

    A hash takes a core for tens of milliseconds; a burst of logins would take
    every core from ForwardAuth's ``/internal/verify``, which never hashes. So:

    - the hashing threads run at a lower CPU priority (``niceness``): the event
      loop, and every other process of the machine, go first;
    - at most ``threads`` hashes run at once and at most ``max_waiting`` more wait
      for one of them; any further request is refused at once with
      ``HashingBusy`` (503, Retry-After). A waiting login holds one of the
      process's workers, so the bound keeps workers free for ``/internal/verify``.
    """

    def __init__(
        self, threads: int, max_waiting: int, niceness: int = 0, retry_after: int = 1
    ):
        self.slots = Semaphore(threads)
        self.max_waiting = max_waiting
        self.niceness = niceness
        self.retry_after = retry_after
        self.waiting = 0

    def hash(self, password: str) -> str:
        return self._run(HASHER.hash, password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._run(HASHER.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _run(self, function, *args):
        if not self.slots.acquire(blocking=False):
            if self.waiting >= self.max_waiting:
                raise HashingBusy(details={"retry_after": self.retry_after})
            self.waiting += 1
            try:
                self.slots.acquire()
            finally:
                self.waiting -= 1
        try:
            return tpool.execute(lower_priority, self.niceness, function, *args)
        finally:
            self.slots.release()


class Passwords(DependencyProvider):
    def setup(self):
        settings = self.container.config["PASSWORD_HASHING"]
        self.hashing = PasswordHashing(
            int(settings["threads"]),
            int(settings["max_waiting"]),
            int(settings["niceness"]),
        )

    def get_dependency(self, worker_ctx):
        return self.hashing


class TokenSigner:
    def __init__(self, private_key: str, ttl_seconds: int, issuer: str, audience: str):
        self.private_key = private_key
        self.ttl_seconds = ttl_seconds
        self.issuer = issuer
        self.audience = audience

    def sign(self, claims: dict) -> str:
        return jwt.encode(claims, self.private_key, algorithm=ALGORITHM)


class Signer(DependencyProvider):
    def setup(self):
        settings = self.container.config["JWT"]
        self.signer = TokenSigner(
            Path(settings["private_key_file"]).read_text(),
            int(settings["ttl_seconds"]),
            settings["issuer"],
            settings["audience"],
        )

    def get_dependency(self, worker_ctx):
        return self.signer


class SessionUse(DependencyProvider):
    """When this process last wrote down each session's use: a session used all
    the time costs one ``UPDATE`` a minute, not one per request."""

    #: How often a session's ``last_used_at`` is written down, at most.
    EVERY_SECONDS = 60.0
    #: Sessions remembered before the stale ones are forgotten.
    MAX_REMEMBERED = 10_000

    def setup(self):
        self.last: dict[str, float] = {}

    def due(self, jti: str, now: float) -> bool:
        if not touch_due(self.last.get(jti), now, self.EVERY_SECONDS):
            return False
        if len(self.last) >= self.MAX_REMEMBERED:
            self.last = {
                key: at
                for key, at in self.last.items()
                if now - at < self.EVERY_SECONDS
            }
        self.last[jti] = now
        return True

    def get_dependency(self, worker_ctx):
        return self
