"""auth: logs users in and out, and vouches for access tokens.

Credentials are set by the users service, which owns the accounts; auth keeps what it
needs to check a password and to decide, on every request, whether a token may still
be used (the user exists, has the role the token names, and did not log out).
"""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from nameko.dependency_providers import Config
from nameko.rpc import rpc
from sqlalchemy.exc import IntegrityError

from services.auth import logic
from services.auth.dependencies import Passwords, Signer
from services.auth.exceptions import BadCredentials, EmailInUse, TooManyFailures
from services.auth.storage import AuthStore
from services.common.db import Database
from services.common.errors import EXPECTED
from services.common.health import HealthMixin
from services.common.http import http, json_response
from services.common.messaging import Dispatcher
from services.common.tokens import Identity, InvalidToken, Tokens, bearer_token
from services.common.topology import WS, client_message, user_message_key

# Argon2id of a random password, verified when the e-mail address is unknown so that
# a wrong address takes as long to refuse as a wrong password.
DUMMY_HASH = (
    "$argon2id$v=19$m=19456,t=2,p=1$gVpy5WvT+RhI8kMzEdP02Q$"
    "T4TkkjKuxCQIWcyp5QM23Zjb4Jq4dUxyYFR4l1jRhiw"
)


class AuthService(HealthMixin):
    name = "auth"

    storage = Database(AuthStore)
    passwords = Passwords()
    signer = Signer()
    tokens = Tokens()
    config = Config()
    dispatch = Dispatcher(WS)

    @rpc(expected_exceptions=EXPECTED)
    def set_credentials(self, user_id, email, role, password=None):
        """Create or update a user's credentials; a changed role ends their sessions."""
        password_hash = self.passwords.hash(password) if password is not None else None
        previous = self.storage.get_credential(user_id)
        previous_role = previous.role if previous else None
        try:
            self.storage.put_credential(
                user_id, logic.normalize_email(email), role, password_hash
            )
            self.storage.commit()
        except IntegrityError as exc:
            raise EmailInUse() from exc
        if previous_role is not None and previous_role != role:
            self._end_sessions(user_id, "role_changed")

    @rpc(expected_exceptions=EXPECTED)
    def remove_credentials(self, user_id):
        """Forget a user: every token of theirs stops working now."""
        self.storage.remove_credential(user_id)
        self.storage.commit()
        self._end_sessions(user_id, "user_deleted")

    @rpc(expected_exceptions=EXPECTED)
    def login(self, email, password, client):
        now = datetime.now(UTC)
        email = logic.normalize_email(email)
        limits = self.config["LOGIN_RATE_LIMIT"]
        window = timedelta(seconds=int(limits["window_seconds"]))
        wait = logic.retry_after(
            self.storage.recent_failures(client, email, now - window),
            int(limits["max_failures"]),
            int(limits["window_seconds"]),
            now,
        )
        if wait is not None:
            raise TooManyFailures(details={"retry_after": wait})

        credential = self.storage.find_credential(email)
        password_hash = credential.password_hash if credential else DUMMY_HASH
        if not self.passwords.verify(password_hash, password) or credential is None:
            self.storage.record_failure(client, email, now, window)
            self.storage.commit()
            raise BadCredentials()

        self.storage.clear_failures(client, email)
        self.storage.commit()
        signer = self.signer
        claims = logic.access_claims(
            credential.user_id,
            credential.role,
            now,
            signer.ttl_seconds,
            signer.issuer,
            signer.audience,
        )
        return {
            "access_token": signer.sign(claims),
            "token_type": "Bearer",
            "expires_in": signer.ttl_seconds,
        }

    @rpc(expected_exceptions=EXPECTED)
    def logout(self, token):
        identity = self._identify(token)
        expires_at = datetime.fromtimestamp(identity.expires_at, UTC)
        self.storage.revoke(identity.jti, identity.user_id, expires_at)
        self.storage.purge_expired_revocations(datetime.now(UTC))
        self.storage.commit()
        self._end_sessions(identity.user_id, "logout", jti=identity.jti)

    @rpc(expected_exceptions=EXPECTED)
    def check(self, token):
        """The identity of a usable token, or ``InvalidToken``."""
        return self._identify(token).to_dict()

    @http("GET", "/internal/verify", expected_exceptions=EXPECTED)
    def verify(self, request):
        """Traefik ForwardAuth: 200 with the identity headers, or 401.

        A WebSocket client cannot send headers, so its token may come as the
        ``token`` query parameter of the original URI instead.
        """
        token = bearer_token(request.headers.get("Authorization"))
        if token is None:
            query = urlsplit(request.headers.get("X-Forwarded-Uri", "")).query
            token = (parse_qs(query).get("token") or [None])[0]
        identity = self._identify(token)
        return json_response(
            200,
            {"user_id": identity.user_id, "role": identity.role},
            headers={"X-User-Id": identity.user_id, "X-User-Role": identity.role},
        )

    def _identify(self, token) -> Identity:
        identity = self.tokens.verify(token)
        credential = self.storage.get_credential(identity.user_id)
        problem = logic.session_problem(
            identity,
            credential.role if credential else None,
            self.storage.is_revoked(identity.jti),
        )
        if problem:
            raise InvalidToken(problem)
        return identity

    def _end_sessions(self, user_id, reason, jti=None):
        """Tell the WebSocket gateways to close the user's sockets."""
        data = {"reason": reason}
        if jti:
            data["jti"] = jti
        self.dispatch(
            user_message_key(user_id, "session.ended"),
            client_message("session.ended", data),
        )
