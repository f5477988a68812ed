"""auth's dependency providers: password hashing and token signing."""

from pathlib import Path

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventlet import tpool
from nameko.extensions import DependencyProvider

from services.common.tokens import ALGORITHM

# OWASP's recommended minimum for Argon2id: 19 MiB of memory, two passes, one lane.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


class PasswordHashing:
    """Argon2id hashing, run in OS threads so a hash never blocks the event loop
    (and with it the AMQP heartbeats of every other worker)."""

    def hash(self, password: str) -> str:
        return tpool.execute(HASHER.hash, password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return tpool.execute(HASHER.verify, password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


class Passwords(DependencyProvider):
    def setup(self):
        self.hashing = PasswordHashing()

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
