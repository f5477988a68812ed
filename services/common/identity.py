"""The identity auth vouches for at the edge, so that a request's token is checked
once.

Traefik's ForwardAuth asks auth's ``/internal/verify`` before every request it
routes to the gateway. Auth answers with the caller's identity in headers, signed
with its token key (Ed25519) over a short lifetime; Traefik copies them onto the
request (``authResponseHeaders``) after removing whatever the client sent under the
same names. The gateway takes the identity when the signature is good and the
lifetime not over, with the public key every process already has, and asks auth
nothing more. A request without them (one that did not come through Traefik) gets
the full check, over RPC, as before.

The signed text says what it is (``ems-identity/1``), so it can never pass for a
token or anything else the key signs.
"""

import base64
import binascii
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from nameko.extensions import DependencyProvider

from services.common.policy import ROLES

USER = "X-User-Id"
ROLE = "X-User-Role"
EXPIRES = "X-Identity-Expires"
SIGNATURE = "X-Identity-Signature"
#: Every header of a vouched identity: what Traefik copies from auth's answer and
#: removes from the client's request.
HEADERS = (USER, ROLE, EXPIRES, SIGNATURE)
#: Seconds a vouched identity may be used: enough for Traefik to hand the request
#: on, short enough that a copy of the headers is soon worthless.
LIFETIME = 30
#: What the signature is of, and its version.
PURPOSE = "ems-identity/1"


def _text(user_id: str, role: str, expires: int) -> bytes:
    return f"{PURPOSE}\n{user_id}\n{role}\n{expires}".encode()


@dataclass(frozen=True)
class Voucher:
    """Auth's side: signs an identity into its headers."""

    private_key: Ed25519PrivateKey

    @classmethod
    def from_pem(cls, pem: bytes) -> "Voucher":
        return cls(serialization.load_pem_private_key(pem, password=None))

    def headers(self, user_id: str, role: str, now: float | None = None) -> dict:
        expires = int(now if now is not None else time.time()) + LIFETIME
        signature = self.private_key.sign(_text(user_id, role, expires))
        return {
            USER: user_id,
            ROLE: role,
            EXPIRES: str(expires),
            SIGNATURE: base64.urlsafe_b64encode(signature).decode().rstrip("="),
        }


@dataclass(frozen=True)
class VouchedIdentity:
    """The gateway's side: the identity of a request's headers, if auth vouched
    for it."""

    public_key: Ed25519PublicKey

    @classmethod
    def from_pem(cls, pem: bytes) -> "VouchedIdentity":
        return cls(serialization.load_pem_public_key(pem))

    def caller(self, headers, now: float | None = None) -> dict | None:
        """``{"user_id", "role"}`` when the headers carry a good, current
        signature; None when there is none, or it is bad or over."""
        user_id, role = headers.get(USER), headers.get(ROLE)
        expires, signature = headers.get(EXPIRES), headers.get(SIGNATURE)
        if not (user_id and role and expires and signature) or role not in ROLES:
            return None
        try:
            until = int(expires)
            raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        except (ValueError, binascii.Error):
            return None
        if until < (now if now is not None else time.time()):
            return None
        try:
            self.public_key.verify(raw, _text(user_id, role, until))
        except InvalidSignature:
            return None
        return {"user_id": user_id, "role": role}


class Vouching(DependencyProvider):
    """Gives a worker the process's ``Voucher`` (auth, which has the private key,
    ``JWT.private_key_file``) or ``VouchedIdentity`` (``public``: the gateway)."""

    def __init__(self, public: bool = False):
        self.public = public

    def setup(self):
        settings = self.container.config["JWT"]
        if self.public:
            pem = Path(settings["public_key_file"]).read_bytes()
            self.vouching = VouchedIdentity.from_pem(pem)
        else:
            self.vouching = Voucher.from_pem(
                Path(settings["private_key_file"]).read_bytes()
            )

    def get_dependency(self, worker_ctx):
        return self.vouching
