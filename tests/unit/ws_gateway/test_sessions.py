"""The session check: the local verifier first, then auth's ``/internal/verify``."""

import asyncio
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tornado.httpclient import HTTPRequest, HTTPResponse
from tornado.httputil import HTTPHeaders
from tornado.simple_httpclient import HTTPTimeoutError

from services.common.tokens import InvalidToken, TokenVerifier
from ws_gateway.sessions import AuthUnavailable, SessionChecker

VERIFY_URL = "http://auth.test/internal/verify"
KEY = Ed25519PrivateKey.generate()
PUBLIC_PEM = (
    KEY.public_key()
    .public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    .decode()
)


def token(sub="alice", role="USER", expires_in=600) -> str:
    now = int(time.time())
    claims = {
        "sub": sub,
        "role": role,
        "iat": now,
        "exp": now + expires_in,
        "iss": "ems-auth",
        "aud": "ems",
        "jti": uuid.uuid4().hex,
        "cv": 1,
    }
    return jwt.encode(claims, KEY, algorithm="EdDSA")


class FakeHttp:
    """Answers every fetch with ``code`` and ``headers``, or raises ``error``."""

    def __init__(self, code=200, headers=None, error=None):
        self.code, self.headers, self.error = code, headers or {}, error
        self.requests = []

    async def fetch(self, url, **options):
        self.requests.append((url, options))
        if self.error is not None:
            raise self.error
        return HTTPResponse(
            HTTPRequest(url), self.code, headers=HTTPHeaders(self.headers)
        )


def check(http, value):
    checker = SessionChecker(
        TokenVerifier(PUBLIC_PEM, "ems-auth", "ems"), VERIFY_URL, http
    )
    return asyncio.run(checker.check(value))


def vouching(user_id="alice", role="USER") -> FakeHttp:
    return FakeHttp(200, {"X-User-Id": user_id, "X-User-Role": role})


def test_a_token_auth_vouches_for_gives_its_identity():
    http, value = vouching(), token()
    identity = check(http, value)
    assert (identity.user_id, identity.role) == ("alice", "USER")
    ((url, options),) = http.requests
    assert url == VERIFY_URL
    assert options["headers"] == {"Authorization": f"Bearer {value}"}


@pytest.mark.parametrize("value", [None, "", "garbage", "a.b.c"])
def test_a_bad_token_is_refused_without_asking_auth(value):
    http = vouching()
    with pytest.raises(InvalidToken):
        check(http, value)
    assert http.requests == []


def test_an_expired_token_is_refused_without_asking_auth():
    http = vouching()
    with pytest.raises(InvalidToken):
        check(http, token(expires_in=-5))
    assert http.requests == []


@pytest.mark.parametrize("code", [401, 403])
def test_a_token_auth_refuses_is_invalid(code):
    with pytest.raises(InvalidToken):
        check(FakeHttp(code), token())


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-User-Id": "bob", "X-User-Role": "USER"},
        {"X-User-Id": "alice", "X-User-Role": "ADMIN"},
    ],
)
def test_an_identity_auth_does_not_confirm_is_invalid(headers):
    with pytest.raises(InvalidToken):
        check(FakeHttp(200, headers), token())


@pytest.mark.parametrize(
    "http",
    [
        FakeHttp(500),
        FakeHttp(302),
        FakeHttp(error=ConnectionRefusedError()),
        FakeHttp(error=HTTPTimeoutError("Timeout")),
    ],
)
def test_auth_failing_is_unavailable_not_invalid(http):
    with pytest.raises(AuthUnavailable):
        check(http, token())
