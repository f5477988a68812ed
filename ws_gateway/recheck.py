"""The periodic re-check of open sockets: a missed ``session.ended`` ends them anyway.

A socket's session is checked once at its handshake and then ended by the
``session.ended`` messages auth publishes (logout, role or password changed, user
deleted). Should one be lost, a demoted user would keep receiving their old role's
messages until the token expires; so every ``interval`` seconds the gateway asks
auth's ``/internal/sessions`` about all its open sockets, a batch of identities per
request rather than a request per socket, and ends those auth no longer vouches for.
"""

import asyncio
import json
import logging

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from services.common.pushes import SESSION_ENDED
from ws_gateway.registry import Client, Registry

log = logging.getLogger(__name__)

#: Sessions per request to auth (auth takes at most 1,000).
BATCH_SIZE = 500
#: Seconds auth has to answer one batch.
CHECK_TIMEOUT = 10.0
#: The reason the client is given: its session was ended elsewhere.
REASON = "revoked"


class SessionRecheck:
    """Asks auth, batch by batch, which of the registry's sessions have ended."""

    def __init__(
        self,
        registry: Registry,
        sessions_url: str,
        interval: float,
        http_client: AsyncHTTPClient | None = None,
        batch_size: int = BATCH_SIZE,
        timeout: float = CHECK_TIMEOUT,
    ):
        self.registry = registry
        self.sessions_url = sessions_url
        self.interval = interval
        self.http_client = http_client or AsyncHTTPClient()
        self.batch_size = batch_size
        self.timeout = timeout

    async def run(self) -> None:
        """Re-check every ``interval`` seconds until cancelled."""
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check_all()
            except Exception:
                # One bad round must not end the re-checks for good.
                log.exception("session re-check failed")

    async def check_all(self) -> int:
        """End the open sockets whose sessions auth says have ended; how many."""
        clients = self.registry.clients()
        ended = 0
        for start in range(0, len(clients), self.batch_size):
            batch = clients[start : start + self.batch_size]
            jtis = await self.ended_among(batch)
            if jtis is None:
                # auth did not answer: keep the sockets, ask again next round.
                continue
            # A socket may have closed while auth was answering.
            gone = [c for c in batch if c.identity.jti in jtis and c in self.registry]
            if gone:
                message = SESSION_ENDED.message({"reason": REASON})
                self.registry.end(gone, json.dumps(message))
                ended += len(gone)
        if ended:
            log.info("re-check ended %d of %d sockets", ended, len(clients))
        return ended

    async def ended_among(self, clients: list[Client]) -> set[str] | None:
        """The jtis of ``clients`` whose sessions have ended; None if auth did not
        say."""
        body = {
            "sessions": [
                {
                    "user_id": client.identity.user_id,
                    "role": client.identity.role,
                    "jti": client.identity.jti,
                    "credential_version": client.identity.credential_version,
                }
                for client in clients
            ]
        }
        try:
            response = await self.http_client.fetch(
                self.sessions_url,
                method="POST",
                body=json.dumps(body),
                headers={"Content-Type": "application/json"},
                request_timeout=self.timeout,
                follow_redirects=False,
                raise_error=False,
            )
        except (OSError, HTTPClientError) as exc:
            log.warning("auth's session check failed: %s", exc)
            return None
        if response.code != 200:
            log.warning("auth's session check answered %d", response.code)
            return None
        try:
            ended = json.loads(response.body)["ended"]
            return {item["jti"] for item in ended}
        except (ValueError, KeyError, TypeError):
            log.warning("auth's session check answered something else")
            return None
