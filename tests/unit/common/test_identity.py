"""The identity auth vouches for at the edge: signed by auth's key, taken by the
gateway only while its signature is good and its lifetime not over."""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.common.identity import (
    EXPIRES,
    LIFETIME,
    ROLE,
    SIGNATURE,
    USER,
    VouchedIdentity,
    Voucher,
)

KEY = Ed25519PrivateKey.generate()
NOW = 1_800_000_000.0


@pytest.fixture
def vouched():
    return Voucher(KEY).headers("u-1", "USER", NOW)


def taken(headers, now=NOW, key=KEY):
    return VouchedIdentity(key.public_key()).caller(headers, now)


def test_a_vouched_identity_is_taken_while_it_lasts(vouched):
    assert taken(vouched) == {"user_id": "u-1", "role": "USER"}
    assert taken(vouched, now=NOW + LIFETIME) == {"user_id": "u-1", "role": "USER"}
    assert taken(vouched, now=NOW + LIFETIME + 1) is None


@pytest.mark.parametrize(
    ("header", "value"),
    [
        (ROLE, "ADMIN"),
        (USER, "u-2"),
        (EXPIRES, str(int(NOW) + 3600)),
        (SIGNATURE, "AAAA"),
        (SIGNATURE, "not base64!"),
        (EXPIRES, "soon"),
        (ROLE, "ROOT"),
    ],
)
def test_any_change_to_what_auth_signed_is_refused(vouched, header, value):
    assert taken({**vouched, header: value}) is None


@pytest.mark.parametrize("missing", [USER, ROLE, EXPIRES, SIGNATURE])
def test_an_identity_short_of_a_header_is_none(vouched, missing):
    assert taken({k: v for k, v in vouched.items() if k != missing}) is None


def test_only_auths_key_vouches(vouched):
    assert taken(vouched, key=Ed25519PrivateKey.generate()) is None
    forged = Voucher(Ed25519PrivateKey.generate()).headers("u-1", "ADMIN", NOW)
    assert taken(forged) is None


def test_no_headers_is_no_identity():
    assert taken({}) is None
