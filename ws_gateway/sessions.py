"""Whether a token may open a socket: the local check first, then auth's word.

The one ``TokenVerifier`` checks signature, claims and expiry without a round trip,
so forged and expired tokens cost nothing. Only auth knows whether the user still
exists with that role and whether the token was revoked (logout), so a token that
passes is then put to auth's ``/internal/verify``, the endpoint Traefik's ForwardAuth
calls, with ``Authorization: Bearer``.
"""

import logging

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from services.common.errors import Unavailable
from services.common.tokens import Identity, InvalidToken, TokenVerifier

log = logging.getLogger(__name__)

#: Seconds auth has to answer before the handshake is refused with 503.
VERIFY_TIMEOUT = 5.0


class AuthUnavailable(Unavailable):
    """auth could not say whether the token is usable; try again."""


class SessionChecker:
    def __init__(
        self,
        verifier: TokenVerifier,
        verify_url: str,
        http_client: AsyncHTTPClient | None = None,
        timeout: float = VERIFY_TIMEOUT,
    ):
        self.verifier = verifier
        self.verify_url = verify_url
        self.http_client = http_client or AsyncHTTPClient()
        self.timeout = timeout

    async def check(self, token: str | None) -> Identity:
        """The identity of a usable token; ``InvalidToken`` if it is not usable,
        ``AuthUnavailable`` if auth did not answer."""
        identity = self.verifier.verify(token)
        try:
            response = await self.http_client.fetch(
                self.verify_url,
                headers={"Authorization": f"Bearer {token}"},
                request_timeout=self.timeout,
                follow_redirects=False,
                raise_error=False,
            )
        except (OSError, HTTPClientError) as exc:
            log.warning("auth's verify failed: %s", exc)
            raise AuthUnavailable() from exc
        if response.code in (401, 403):
            raise InvalidToken("access token refused by auth")
        if response.code != 200:
            # 599 is Tornado's own code for a timeout or a refused connection.
            log.warning("auth's verify answered %d", response.code)
            raise AuthUnavailable()
        # auth vouches for the identity it read from the same token; a mismatch
        # means the two disagree about the user, so trust neither.
        vouched = (
            response.headers.get("X-User-Id"),
            response.headers.get("X-User-Role"),
        )
        if vouched != (identity.user_id, identity.role):
            raise InvalidToken("access token identity not confirmed by auth")
        return identity
