"""The one token verifier refuses every forgery and accepts only what auth signs."""

import time

import jwt
import pytest

from ems.keys import ensure_keys
from harness.tokens import tampered_tokens
from services.common.tokens import InvalidToken, TokenVerifier, bearer_token

ISSUER, AUDIENCE = "ems-auth", "ems"


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    ensure_keys(folder / "private.pem", folder / "public.pem")
    return (folder / "private.pem").read_text(), (folder / "public.pem").read_text()


@pytest.fixture
def verifier(keys):
    return TokenVerifier(keys[1], ISSUER, AUDIENCE)


def claims(**changes):
    now = int(time.time())
    values = {
        "sub": "u-1",
        "role": "USER",
        "iat": now,
        "exp": now + 60,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "jti": "j-1",
        "cv": 3,
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def sign(keys, **changes):
    return jwt.encode(claims(**changes), keys[0], algorithm="EdDSA")


def test_a_valid_token_gives_its_identity(keys, verifier):
    identity = verifier.verify(sign(keys))
    assert (identity.user_id, identity.role, identity.jti) == ("u-1", "USER", "j-1")
    assert identity.credential_version == 3


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": int(time.time()) - 1},
        {"aud": "someone-else"},
        {"iss": "someone-else"},
        {"jti": None},
        {"role": None},
        {"exp": None},
        {"role": "ROOT"},
        {"cv": None},
        {"cv": "3"},
        {"cv": True},
        {"cv": -1},
    ],
    ids=[
        "expired",
        "audience",
        "issuer",
        "no-jti",
        "no-role",
        "no-exp",
        "bad-role",
        "no-cv",
        "text-cv",
        "bool-cv",
        "negative-cv",
    ],
)
def test_claims_are_checked(keys, verifier, changes):
    with pytest.raises(InvalidToken):
        verifier.verify(sign(keys, **changes))


@pytest.mark.parametrize(
    "forgery",
    [
        "alg_none",
        "hs256_with_public_key",
        "edited_payload",
        "other_key",
        "truncated_signature",
        "garbage",
        "expired_other_key",
    ],
)
def test_forgeries_are_refused(keys, verifier, forgery):
    token = tampered_tokens(sign(keys), keys[1], claims())[forgery]
    with pytest.raises(InvalidToken):
        verifier.verify(token)


def test_a_missing_token_is_refused(verifier):
    with pytest.raises(InvalidToken, match="missing"):
        verifier.verify(None)


@pytest.mark.parametrize(
    "header, token",
    [
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        (None, None),
    ],
)
def test_bearer_token(header, token):
    assert bearer_token(header) == token
