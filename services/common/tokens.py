"""The one token verifier: every decode of an EMS access token goes through here.

Tokens are JWTs signed with Ed25519 (``EdDSA``). The algorithm is pinned: a token
whose header names any other algorithm, ``none`` and HS256 included, is refused, so a
public key can never be used as an HMAC secret. ``exp``, ``iat``, ``iss``, ``aud`` and
every claim the platform reads are required, ``cv`` (the user's credential version
when the token was issued) among them: auth refuses a token whose version is not the
user's current one.
"""

from dataclasses import dataclass
from pathlib import Path

import jwt
from nameko.extensions import DependencyProvider

from services.common.errors import Unauthorized
from services.common.policy import ROLES

ALGORITHM = "EdDSA"
REQUIRED_CLAIMS = ["sub", "role", "exp", "iat", "iss", "aud", "jti", "cv"]


class InvalidToken(Unauthorized):
    """The access token is missing, invalid, expired or revoked."""


@dataclass(frozen=True)
class Identity:
    """Who a verified token speaks for."""

    user_id: str
    role: str
    jti: str
    expires_at: int
    issued_at: int
    credential_version: int = 0

    def to_dict(self) -> dict:
        return {
            "user_id": self.user_id,
            "role": self.role,
            "jti": self.jti,
            "expires_at": self.expires_at,
            "issued_at": self.issued_at,
            "credential_version": self.credential_version,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Identity":
        return cls(**data)


class TokenVerifier:
    def __init__(self, public_key: str, issuer: str, audience: str):
        self.public_key = public_key
        self.issuer = issuer
        self.audience = audience

    @classmethod
    def from_config(cls, config: dict) -> "TokenVerifier":
        settings = config["JWT"]
        return cls(
            Path(settings["public_key_file"]).read_text(),
            settings["issuer"],
            settings["audience"],
        )

    def verify(self, token: str | None) -> Identity:
        """Return the identity ``token`` carries, or raise ``InvalidToken``."""
        if not token:
            raise InvalidToken("missing access token")
        try:
            claims = jwt.decode(
                token,
                self.public_key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("access token expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("invalid access token") from exc
        version = claims["cv"]
        if (
            claims["role"] not in ROLES
            or not isinstance(claims["sub"], str)
            or not isinstance(version, int)
            or isinstance(version, bool)
            or version < 0
        ):
            raise InvalidToken("invalid access token")
        return Identity(
            user_id=claims["sub"],
            role=claims["role"],
            jti=str(claims["jti"]),
            expires_at=int(claims["exp"]),
            issued_at=int(claims["iat"]),
            credential_version=version,
        )


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if any."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class Tokens(DependencyProvider):
    """Gives a worker the process's ``TokenVerifier``."""

    def setup(self):
        self.verifier = TokenVerifier.from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return self.verifier
