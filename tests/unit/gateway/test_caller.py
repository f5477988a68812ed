"""Who the gateway takes a request to be from: the identity auth vouched for at
Traefik's ForwardAuth, or, without one, auth's answer to the token."""

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.edge import Forwarding
from services.common.identity import VouchedIdentity, Voucher
from services.common.tokens import InvalidToken

KEY = Ed25519PrivateKey.generate()


class AuthRpc:
    """auth's ``check`` as the gateway calls it, counting the calls."""

    def __init__(self):
        self.checked = []

    def check(self, token):
        self.checked.append(token)
        if token != "good-token":
            raise InvalidToken("invalid access token")
        return {"user_id": "u-9", "role": "OPERATOR", "jti": "j"}


class Request:
    def __init__(self, headers):
        self.headers = headers


@pytest.fixture
def gateway():
    edge = Forwarding()
    edge.vouched = VouchedIdentity(KEY.public_key())
    edge.auth_rpc = AuthRpc()
    return edge


def test_a_vouched_identity_asks_auth_nothing(gateway):
    headers = Voucher(KEY).headers("u-1", "USER")
    caller = gateway.caller(Request({**headers, "Authorization": "Bearer x"}))
    assert caller == {"user_id": "u-1", "role": "USER"}
    assert gateway.auth_rpc.checked == []


def test_without_one_the_token_is_checked_by_auth(gateway):
    request = Request({"Authorization": "Bearer good-token"})
    assert gateway.caller(request) == {"user_id": "u-9", "role": "OPERATOR"}
    assert gateway.auth_rpc.checked == ["good-token"]


def test_an_identity_not_vouched_by_auth_is_checked_like_none(gateway):
    forged = Voucher(Ed25519PrivateKey.generate()).headers("u-1", "ADMIN")
    with pytest.raises(InvalidToken):
        gateway.caller(Request(forged))
    assert gateway.auth_rpc.checked == [None]
