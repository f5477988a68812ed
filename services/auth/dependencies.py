"""auth's dependency providers: password hashing and token signing."""

from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool
from eventlet.semaphore import Semaphore
from nameko.extensions import DependencyProvider

from services.auth.exceptions import HashingBusy
from services.common.tokens import ALGORITHM

# OWASP's recommended minimum for Argon2id: 19 MiB of memory, two passes, one lane.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


class PasswordHashing:
    """Argon2id hashing, run in OS threads so a hash never blocks the event loop
    (and with it the AMQP heartbeats of every other worker).

    At most ``threads`` hashes run at once and at most ``max_waiting`` more wait for
    one of them; any further request is refused with ``HashingBusy`` (503) at once.
    A waiting login holds one of the process's workers, so bounding the wait keeps
    workers free for ForwardAuth's ``/internal/verify``, which never hashes.
    """

    def __init__(self, threads: int, max_waiting: int, retry_after: int = 1):
        self.slots = Semaphore(threads)
        self.max_waiting = max_waiting
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
            return tpool.execute(function, *args)
        finally:
            self.slots.release()


class Passwords(DependencyProvider):
    def setup(self):
        settings = self.container.config["PASSWORD_HASHING"]
        self.hashing = PasswordHashing(
            int(settings["threads"]), int(settings["max_waiting"])
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
