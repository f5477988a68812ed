"""Tokens made outside auth: those an attacker could make, for the tests that prove
each is refused, and valid ones signed with a stack's key, for load."""

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.auth.logic import access_claims


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(value: dict) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def tampered_tokens(valid_token: str, public_key_pem: str, claims: dict) -> dict:
    """Tokens an attacker could make from a valid one and the public key, by name.

    ``claims`` are the valid token's claims; each forgery must be refused.
    """
    header, payload, signature = valid_token.split(".")
    now = int(time.time())
    edited = dict(claims, role="ADMIN")
    hs256_header = _segment({"alg": "HS256", "typ": "JWT"})
    hs256_input = f"{hs256_header}.{payload}".encode()
    hs256_signature = _b64(
        hmac.new(public_key_pem.encode(), hs256_input, hashlib.sha256).digest()
    )
    other_key = Ed25519PrivateKey.generate()

    def signed(**changes) -> str:
        # Signed with a key of the right kind that is not the platform's.
        return jwt.encode(dict(claims, **changes), other_key, algorithm="EdDSA")

    return {
        "alg_none": f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "hs256_with_public_key": f"{hs256_header}.{payload}.{hs256_signature}",
        "edited_payload": f"{header}.{_segment(edited)}.{signature}",
        "other_key": signed(),
        "truncated_signature": f"{header}.{payload}.{signature[:-4]}",
        "garbage": "not-a-token",
        "expired_other_key": signed(exp=now - 10, iat=now - 100),
    }


def signed_tokens(private_key_pem: str, valid_token: str, count: int) -> list[str]:
    """``count`` access tokens for the user of ``valid_token``, each with its own
    ``jti``, signed with the platform's private key as auth signs them: many
    sockets of one user without as many logins."""
    claims = jwt.decode(valid_token, options={"verify_signature": False})
    now = datetime.now(UTC)
    return [
        jwt.encode(
            access_claims(
                claims["sub"],
                claims["role"],
                claims["cv"],
                now,
                3600,
                claims["iss"],
                claims["aud"],
            ),
            private_key_pem,
            algorithm="EdDSA",
        )
        for _ in range(count)
    ]
