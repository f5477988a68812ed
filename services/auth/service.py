"""auth: logs users in and out, and vouches for access tokens.

Credentials are set by the users service, which owns the accounts; auth keeps what it
needs to check a password and to decide, on every request, whether a token may still
be used (the user exists, has the role the token names, and did not log out).
"""

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from nameko.dependency_providers import Config
from nameko.rpc import rpc
from sqlalchemy.exc import IntegrityError

from services.auth import logic
from services.auth.dependencies import Passwords, SessionUse, Signer
from services.auth.exceptions import (
    BadCredentials,
    EmailInUse,
    EmailNotVerified,
    LinkExpired,
    LinkInvalid,
    LinkUsed,
    SessionNotFound,
    TooManyFailures,
    TooManyRegistrations,
    TooManyResetRequests,
    TooManyVerificationRequests,
    WrongPassword,
)
from services.auth.identities import IdentityCache
from services.auth.schemas import (
    LoginSchema,
    PasswordResetConfirmSchema,
    PasswordResetSchema,
    SessionSchema,
    VerificationResendSchema,
)
from services.auth.storage import AuthStore
from services.common import pushes
from services.common.audit import Audit
from services.common.db import Database
from services.common.errors import EXPECTED, ValidationFailed
from services.common.health import HealthMixin
from services.common.http import http, json_response
from services.common.identity import Vouching
from services.common.mail import outgoing
from services.common.messaging import Dispatcher, Pusher
from services.common.schemas import load
from services.common.tokens import Identity, InvalidToken, Tokens, bearer_token
from services.common.topology import MAIL_SEND, SYNC

#: What a link that may not be used raises, by ``logic.link_problem``'s answer.
LINK_ERRORS = {"invalid": LinkInvalid, "used": LinkUsed, "expired": LinkExpired}

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
    push = Pusher()
    mail = Dispatcher(SYNC)
    audit = Audit()
    session_use = SessionUse()
    vouch = Vouching()
    identities = IdentityCache()

    @rpc(expected_exceptions=EXPECTED)
    def set_credentials(self, user_id, email, role, password=None, signup=False):
        """Create or update a user's credentials: ``{"email_verified": …}``.

        A changed role or a new password ends the user's sessions: the credential
        version goes up, so every token issued before stops working, and the
        WebSocket gateways are told to close the user's sockets. Setting the
        password the user already has (how an installation's ADMIN is kept as
        configured at every start) changes nothing.

        An account someone made for themselves (``signup``) while sign-up
        verification is on (``EMS_SIGNUP_VERIFICATION``) starts unverified, and
        a link to confirm its address is e-mailed to it; every other account
        (made by an ADMIN, or by ``ems bootstrap``) is verified.
        """
        previous = self.storage.get_credential(user_id)
        unverified = (
            previous is None and signup and bool(self.config["SIGNUP_VERIFICATION"])
        )
        password_hash = None
        if password is not None and not (
            previous and self.passwords.verify(previous.password_hash, password)
        ):
            password_hash = self.passwords.hash(password)
        reason = None
        if previous is not None:
            if previous.role != role:
                reason = "role_changed"
            elif password_hash is not None:
                reason = "password_changed"
        try:
            credential = self.storage.put_credential(
                user_id,
                logic.normalize_email(email),
                role,
                password_hash,
                new_version=reason is not None,
                verified=False if unverified else None,
            )
            answer = {"email_verified": credential.email_verified}
            token = self._add_link(user_id, logic.EMAIL_VERIFY) if unverified else None
            self._commit()
        except IntegrityError as exc:
            raise EmailInUse() from exc
        if reason is not None:
            self._end_sessions(user_id, reason)
        if token is not None:
            self._send_link(
                logic.normalize_email(email), logic.verification_mail, token
            )
        return answer

    @rpc(expected_exceptions=EXPECTED)
    def remove_credentials(self, user_id):
        """Forget a user: every token of theirs stops working now."""
        self.storage.remove_credential(user_id)
        self.storage.remove_links(user_id)
        self.storage.remove_sessions(user_id)
        self._commit()
        self._end_sessions(user_id, "user_deleted")

    @rpc(expected_exceptions=EXPECTED)
    def login(self, body, client, user_agent=None):
        credentials = load(LoginSchema(), body)
        email, password = credentials["email"], credentials["password"]
        now = datetime.now(UTC)
        limits = self.config["LOGIN_RATE_LIMIT"]
        window_seconds = int(limits["window_seconds"])
        window = timedelta(seconds=window_seconds)
        since = now - window
        # Per address and e-mail (guessing one password), then per address across
        # e-mails (trying a few passwords on many accounts).
        waits = [
            logic.retry_after(
                self.storage.recent_failures(client, email, since),
                int(limits["max_failures"]),
                window_seconds,
                now,
            ),
            logic.retry_after(
                self.storage.recent_failures_from(client, since),
                int(limits["max_failures_per_client"]),
                window_seconds,
                now,
            ),
        ]
        waits = [wait for wait in waits if wait is not None]
        if waits:
            raise TooManyFailures(details={"retry_after": max(waits)})

        credential = self.storage.find_credential(email)
        password_hash = credential.password_hash if credential else DUMMY_HASH
        if not self.passwords.verify(password_hash, password) or credential is None:
            self.storage.record_failure(client, email, now, window)
            self._commit()
            raise BadCredentials()

        self.storage.clear_failures(client, email)
        if not credential.email_verified:
            # Said only to whoever knows the password: to anyone else the account
            # answers as any other does.
            self._commit()
            raise EmailNotVerified(details={"email": ["not verified"]})
        signer = self.signer
        claims = logic.access_claims(
            credential.user_id,
            credential.role,
            credential.credential_version,
            now,
            signer.ttl_seconds,
            signer.issuer,
            signer.audience,
        )
        self.storage.add_session(
            claims["jti"],
            credential.user_id,
            (user_agent or "")[:500],
            now,
            datetime.fromtimestamp(claims["exp"], UTC),
        )
        self._commit()
        return {
            "access_token": signer.sign(claims),
            "token_type": "Bearer",
            "expires_in": signer.ttl_seconds,
        }

    @rpc(expected_exceptions=EXPECTED)
    def request_password_reset(self, body, client):
        """E-mail a password reset link to ``email`` if it is an account's.

        The answer is the same whether it is or not, and so is the path: the
        request is counted (rate-limited like a failed login, per client and
        address, then per client), a token is made, and only the insert of its
        hash and the e-mail, both queued work, depend on the account existing.
        """
        data = load(PasswordResetSchema(), body)
        email = data["email"]
        self._admit_link_request(client, email, TooManyResetRequests)
        credential = self.storage.find_credential(email)
        token = self._add_link(
            credential.user_id if credential else None, logic.PASSWORD_RESET
        )
        self._commit()
        if credential is not None:
            self._send_link(credential.email, logic.password_reset_mail, token)
        return {"message": logic.RESET_REQUESTED}

    @rpc(expected_exceptions=EXPECTED)
    def resend_verification(self, body, client):
        """E-mail a new sign-up confirmation link to ``email`` if it is an account
        still to be confirmed; the one sent before stops working.

        Answered, counted and worked through as a password reset request is
        (``request_password_reset``), and counted with them: both e-mail an
        address anyone may type.
        """
        data = load(VerificationResendSchema(), body)
        email = data["email"]
        self._admit_link_request(client, email, TooManyVerificationRequests)
        credential = self.storage.find_credential(email)
        if credential is not None and credential.email_verified:
            credential = None
        token = self._add_link(
            credential.user_id if credential else None, logic.EMAIL_VERIFY
        )
        self._commit()
        if credential is not None:
            self._send_link(credential.email, logic.verification_mail, token)
        return {"message": logic.VERIFICATION_REQUESTED}

    def _admit_link_request(self, client, email, refusal) -> None:
        """Count a request for an e-mailed link to ``email`` from ``client``,
        limited like failed logins (per client and address, then per client);
        ``refusal`` (429) once over the limit."""
        now = datetime.now(UTC)
        limits = self.config["LOGIN_RATE_LIMIT"]
        window_seconds = int(limits["window_seconds"])
        window = timedelta(seconds=window_seconds)
        since = now - window
        waits = [
            logic.retry_after(
                self.storage.recent_reset_requests(client, email, since),
                int(limits["max_failures"]),
                window_seconds,
                now,
            ),
            logic.retry_after(
                self.storage.recent_reset_requests(client, None, since),
                int(limits["max_failures_per_client"]),
                window_seconds,
                now,
            ),
        ]
        waits = [wait for wait in waits if wait is not None]
        if waits:
            raise refusal(details={"retry_after": max(waits)})
        self.storage.record_reset_request(client, email, now, window)

    def _add_link(self, user_id, purpose, new_email=None) -> str:
        """A new link's token; the link is kept (with the caller's commit) only
        for an account (``user_id``), though the token is made either way so
        that an unknown address takes the same path."""
        token = logic.new_link_token()
        if user_id is not None:
            now = datetime.now(UTC)
            ttl = timedelta(minutes=int(self.config["ACCOUNT_LINKS"]["ttl_minutes"]))
            self.storage.add_link(
                logic.token_hash(token),
                user_id,
                purpose,
                now,
                now + ttl,
                new_email=new_email,
            )
        return token

    def _send_link(self, email, mail, token) -> None:
        """E-mail ``token``'s link to ``email``, written by ``mail`` (a
        ``logic.*_mail``)."""
        links = self.config["ACCOUNT_LINKS"]
        content = mail(links["public_url"], token, int(links["ttl_minutes"]))
        self.mail(MAIL_SEND, outgoing(email, **content))

    @rpc(expected_exceptions=EXPECTED)
    def confirm_password_reset(self, body, client=None):
        """Set the password of the account a reset link was sent to, and end every
        session of theirs. The link works once, until it expires. Following it
        proves the address is the account's: one still to be confirmed is.
        Recorded in the audit log as the account's own act, from ``client``."""
        data = load(PasswordResetConfirmSchema(), body)
        link = self._use_link(data["token"], (logic.PASSWORD_RESET,))
        credential = self.storage.get_credential(link.user_id)
        if credential is None:
            raise LinkInvalid(details={"token": ["invalid"]})
        password_hash = self.passwords.hash(data["password"])
        self.storage.put_credential(
            credential.user_id,
            credential.email,
            credential.role,
            password_hash,
            new_version=True,
            verified=True,
        )
        self.audit(
            {"user_id": credential.user_id, "role": credential.role},
            "auth.password_reset",
            "user",
            credential.user_id,
            None,
            client,
        )
        self._commit()
        self._end_sessions(credential.user_id, "password_changed")

    @rpc(expected_exceptions=EXPECTED)
    def check_password(self, user_id, password, field="password"):
        """``WrongPassword`` (400, naming ``field``) unless ``password`` is the
        user's: what a user confirms a change of their own account with. Wrong
        ones are limited as failed logins are (``TooManyFailures``, 429)."""
        # Counted as failed logins are, under the account rather than a client
        # address: a stolen token cannot be used to guess the password.
        key = f"account:{user_id}"
        now = datetime.now(UTC)
        limits = self.config["LOGIN_RATE_LIMIT"]
        window_seconds = int(limits["window_seconds"])
        window = timedelta(seconds=window_seconds)
        wait = logic.retry_after(
            self.storage.recent_failures(key, field, now - window),
            int(limits["max_failures"]),
            window_seconds,
            now,
        )
        if wait is not None:
            raise TooManyFailures(details={"retry_after": wait})
        credential = self.storage.get_credential(user_id)
        password_hash = credential.password_hash if credential else DUMMY_HASH
        if not self.passwords.verify(password_hash, password) or credential is None:
            self.storage.record_failure(key, field, now, window)
            self._commit()
            raise WrongPassword(details={field: ["wrong password"]})
        self.storage.clear_failures(key, field)
        self._commit()

    @rpc(expected_exceptions=EXPECTED)
    def change_password(self, token, current_password, password, client=None):
        """The caller's new password, given their current one. Their other
        sessions end; the one of ``token`` goes on. Recorded in the audit log,
        from ``client``."""
        identity = self._identify(token)
        self.check_password(identity.user_id, current_password, "current_password")
        credential = self.storage.get_credential(identity.user_id)
        self.storage.put_credential(
            credential.user_id,
            credential.email,
            credential.role,
            self.passwords.hash(password),
        )
        ended = self._revoke_sessions(identity.user_id, keep=identity.jti)
        self.audit(
            {"user_id": identity.user_id, "role": identity.role},
            "auth.password_changed",
            "user",
            identity.user_id,
            None,
            client,
        )
        self._commit()
        for jti in ended:
            self._end_sessions(identity.user_id, "password_changed", jti=jti)

    @rpc(expected_exceptions=EXPECTED)
    def request_email_change(self, user_id, email):
        """E-mail a link to ``email`` that moves the user's account to it; until
        it is followed, the account keeps its address."""
        email = logic.normalize_email(email)
        existing = self.storage.find_credential(email)
        if existing is not None and existing.user_id != user_id:
            raise EmailInUse()
        token = self._add_link(user_id, logic.EMAIL_CHANGE, new_email=email)
        self._commit()
        self._send_link(email, logic.email_change_mail, token)

    @rpc(expected_exceptions=EXPECTED)
    def use_email_link(self, token):
        """Use a link that confirms an address: ``{user_id, email}``, the account
        and, for an e-mail change, the address it moves to (which users then
        sets), or None for the confirmation of a new account's address, which
        is now verified."""
        link = self._use_link(token, (logic.EMAIL_CHANGE, logic.EMAIL_VERIFY))
        result = {"user_id": link.user_id, "email": link.new_email}
        if link.purpose == logic.EMAIL_VERIFY:
            credential = self.storage.get_credential(link.user_id)
            if credential is None:
                raise LinkInvalid(details={"token": ["invalid"]})
            credential.email_verified = True
        self._commit()
        return result

    def _revoke_sessions(self, user_id: str, keep: str | None = None) -> list[str]:
        """Revoke every listed session of the user but ``keep``; their jtis."""
        ended = []
        for session in self.storage.sessions_of(user_id, datetime.now(UTC)):
            if session.jti == keep:
                continue
            self.storage.revoke(session.jti, user_id, session.expires_at)
            self.storage.remove_session(session.jti)
            ended.append(session.jti)
        return ended

    def _use_link(self, token: str, purposes: tuple[str, ...]):
        """The link of ``token``, for one of ``purposes``, locked and marked used
        (committed with the caller's change); ``LinkInvalid`` (400), ``LinkUsed``
        or ``LinkExpired`` (410) when it may not be used."""
        now = datetime.now(UTC)
        link = self.storage.lock_link(logic.token_hash(token))
        problem = logic.link_problem(
            link.purpose if link else None,
            purposes,
            link.used_at if link else None,
            link.expires_at if link else None,
            now,
        )
        if problem:
            raise LINK_ERRORS[problem](details={"token": [problem]})
        link.used_at = now
        return link

    @rpc(expected_exceptions=EXPECTED)
    def admit_registration(self, client):
        """Count a registration from ``client``; ``TooManyRegistrations`` (429)
        once the address has registered its allowance within the window."""
        now = datetime.now(UTC)
        limits = self.config["REGISTRATION_RATE_LIMIT"]
        window_seconds = int(limits["window_seconds"])
        window = timedelta(seconds=window_seconds)
        wait = logic.retry_after(
            self.storage.recent_registrations(client, now - window),
            int(limits["max_per_client"]),
            window_seconds,
            now,
        )
        if wait is not None:
            raise TooManyRegistrations(details={"retry_after": wait})
        self.storage.record_registration(client, now, window)
        self._commit()

    @rpc(expected_exceptions=EXPECTED)
    def logout(self, caller, token):
        """End the session of ``token``, the caller's own."""
        identity = self._identify(token)
        expires_at = datetime.fromtimestamp(identity.expires_at, UTC)
        self.storage.revoke(identity.jti, identity.user_id, expires_at)
        self.storage.remove_session(identity.jti)
        self.storage.purge_expired_revocations(datetime.now(UTC))
        self._commit()
        self._end_sessions(identity.user_id, "logout", jti=identity.jti)

    @rpc(expected_exceptions=EXPECTED)
    def list_sessions(self, caller, token):
        """The caller's sessions that have not ended, most recently used first;
        ``current`` marks the one of this request."""
        identity = self._identify(token)
        sessions = self.storage.sessions_of(caller["user_id"], datetime.now(UTC))
        return [
            SessionSchema().dump(
                {
                    "jti": session.jti,
                    "browser": logic.browser(session.user_agent),
                    "user_agent": session.user_agent,
                    "created_at": session.created_at,
                    "last_used_at": session.last_used_at,
                    "expires_at": session.expires_at,
                    "current": session.jti == identity.jti,
                }
            )
            for session in sessions
        ]

    @rpc(expected_exceptions=EXPECTED)
    def revoke_session(self, caller, session_id):
        """End one of the caller's sessions: its token stops working at once and
        its sockets close. Another user's session is not found (404)."""
        session = self.storage.get_session(session_id)
        if session is None or session.user_id != caller["user_id"]:
            raise SessionNotFound()
        self.storage.revoke(session.jti, session.user_id, session.expires_at)
        self.storage.remove_session(session.jti)
        self._commit()
        self._end_sessions(session.user_id, "revoked", jti=session.jti)

    @rpc(expected_exceptions=EXPECTED)
    def check(self, token):
        """The identity of a usable token, or ``InvalidToken``."""
        return self._identify(token).to_dict()

    @http("GET", "/internal/verify", expected_exceptions=EXPECTED)
    def verify(self, request):
        """Traefik ForwardAuth: 200 with the identity headers, signed so that the
        gateway need not ask again (``services/common/identity.py``), or 401.

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
            headers=self.vouch.headers(identity.user_id, identity.role),
        )

    @http("POST", "/internal/sessions", expected_exceptions=EXPECTED)
    def check_sessions(self, request):
        """Which of the open sessions a WebSocket gateway holds have ended.

        The gateway re-checks its sockets periodically with the identities it
        verified at their handshakes, many at once, in case it missed a
        ``session.ended`` message::

            {"sessions": [{"user_id": "…", "role": "USER", "jti": "…",
                           "credential_version": 1}, …]}
            → 200 {"ended": [{"jti": "…", "reason": "role changed; log in again"}]}
        """
        sessions = logic.read_sessions(request.get_data(cache=False))
        if sessions is None:
            raise ValidationFailed(
                "expected {sessions: [{user_id, role, jti, credential_version}]}",
                {"sessions": ["invalid"]},
            )
        if not sessions:
            return json_response(200, {"ended": []})
        credentials = self.storage.get_credentials(
            sorted({identity.user_id for identity in sessions})
        )
        revoked = self.storage.revoked_among(
            sorted({identity.jti for identity in sessions})
        )
        ended = []
        for identity in sessions:
            credential = credentials.get(identity.user_id)
            problem = logic.session_problem(
                identity,
                credential.role if credential else None,
                credential.credential_version if credential else None,
                identity.jti in revoked,
            )
            if problem:
                ended.append({"jti": identity.jti, "reason": problem})
        return json_response(200, {"ended": ended})

    def _identify(self, token) -> Identity:
        identity = self.tokens.verify(token)
        role, version = self.identities.credential(
            identity.user_id, lambda: self._credential(identity.user_id)
        ) or (None, None)
        problem = logic.session_problem(
            identity,
            role,
            version,
            self.identities.is_revoked(
                identity.jti, lambda: self.storage.is_revoked(identity.jti)
            ),
        )
        if problem:
            raise InvalidToken(problem)
        if self.session_use.due(identity.jti, time.monotonic()):
            self.storage.touch_session(
                identity.jti,
                datetime.now(UTC),
                timedelta(seconds=SessionUse.EVERY_SECONDS),
            )
            self._commit()
        return identity

    def _commit(self) -> None:
        """Commit, and forget at once what the transaction changed of the users
        and tokens this process remembers; the other auth processes hear of it
        from authdb (``services/auth/identities.py``)."""
        self.storage.commit()
        for change in self.storage.identity_changes:
            self.identities.forget(change)
        self.storage.identity_changes.clear()

    def _credential(self, user_id: str) -> tuple[str, int] | None:
        """What a token check needs of a user's credential: role and version."""
        credential = self.storage.get_credential(user_id)
        if credential is None:
            return None
        return credential.role, credential.credential_version

    def _end_sessions(self, user_id, reason, jti=None):
        """Tell the WebSocket gateways to close the user's sockets."""
        data = {"reason": reason}
        if jti:
            data["jti"] = jti
        self.push(pushes.SESSION_ENDED, data, user_id)
