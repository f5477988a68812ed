"""authdb access for the auth service."""

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert

from services.auth.models import (
    AccountLink,
    Credential,
    LoginFailure,
    Registration,
    ResetRequest,
    RevokedToken,
    Session,
)
from services.common.db import Store


class AuthStore(Store):
    def __init__(self, session):
        super().__init__(session)
        #: What this transaction changed that a token check reads: ``user:<id>``
        #: of a credential, ``jti:<jti>`` of a revocation (the payloads of
        #: authdb's ``auth_identity`` notifications).
        self.identity_changes: list[str] = []

    def get_credential(self, user_id: str) -> Credential | None:
        return self.session.get(Credential, user_id)

    def find_credential(self, email: str) -> Credential | None:
        return self.session.scalars(
            select(Credential).where(Credential.email == email)
        ).one_or_none()

    def put_credential(
        self,
        user_id: str,
        email: str,
        role: str,
        password_hash: str | None,
        new_version: bool = False,
        verified: bool | None = None,
    ) -> Credential:
        """Create or update; ``new_version`` ends every token issued before.
        ``verified`` sets whether the address is confirmed (a new credential's
        is unless told otherwise)."""
        credential = self.get_credential(user_id)
        if credential is None:
            credential = Credential(
                user_id=user_id, credential_version=1, email_verified=True
            )
            self.session.add(credential)
        elif new_version:
            credential.credential_version += 1
        credential.email = email
        credential.role = role
        if password_hash is not None:
            credential.password_hash = password_hash
        if verified is not None:
            credential.email_verified = verified
        self.session.flush()
        self.identity_changes.append(f"user:{user_id}")
        return credential

    def get_credentials(self, user_ids: list[str]) -> dict[str, Credential]:
        """The credentials of those of ``user_ids`` that exist, by user id."""
        rows = self.session.scalars(
            select(Credential).where(Credential.user_id.in_(user_ids))
        )
        return {credential.user_id: credential for credential in rows}

    def remove_credential(self, user_id: str) -> bool:
        result = self.session.execute(
            delete(Credential).where(Credential.user_id == user_id)
        )
        self.identity_changes.append(f"user:{user_id}")
        return result.rowcount > 0

    def revoke(self, jti: str, user_id: str, expires_at: datetime) -> None:
        # A token revoked twice (a repeated logout) stays revoked once.
        self.session.execute(
            insert(RevokedToken)
            .values(jti=jti, user_id=user_id, expires_at=expires_at)
            .on_conflict_do_nothing(index_elements=["jti"])
        )
        self.identity_changes.append(f"jti:{jti}")

    def is_revoked(self, jti: str) -> bool:
        return self.session.get(RevokedToken, jti) is not None

    def revoked_among(self, jtis: list[str]) -> set[str]:
        return set(
            self.session.scalars(
                select(RevokedToken.jti).where(RevokedToken.jti.in_(jtis))
            )
        )

    def purge_expired_revocations(self, now: datetime) -> None:
        self.session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))

    def recent_failures(
        self, client: str, email: str, since: datetime
    ) -> list[datetime]:
        return list(
            self.session.scalars(
                select(LoginFailure.failed_at)
                .where(
                    LoginFailure.client == client,
                    LoginFailure.email == email,
                    LoginFailure.failed_at >= since,
                )
                .order_by(LoginFailure.failed_at)
            )
        )

    def recent_failures_from(self, client: str, since: datetime) -> list[datetime]:
        """The client's failed logins since ``since``, whatever the e-mail address.

        Only the newest ones matter to the limit; the query reads at most a
        window's worth, which ``record_failure`` keeps short.
        """
        return list(
            self.session.scalars(
                select(LoginFailure.failed_at)
                .where(LoginFailure.client == client, LoginFailure.failed_at >= since)
                .order_by(LoginFailure.failed_at)
            )
        )

    def record_failure(
        self, client: str, email: str, at: datetime, window: timedelta
    ) -> None:
        self.session.execute(
            delete(LoginFailure).where(
                LoginFailure.client == client, LoginFailure.failed_at < at - window
            )
        )
        self.session.add(LoginFailure(client=client, email=email, failed_at=at))

    def clear_failures(self, client: str, email: str) -> None:
        self.session.execute(
            delete(LoginFailure).where(
                LoginFailure.client == client, LoginFailure.email == email
            )
        )

    def recent_registrations(self, client: str, since: datetime) -> list[datetime]:
        return list(
            self.session.scalars(
                select(Registration.attempted_at)
                .where(
                    Registration.client == client, Registration.attempted_at >= since
                )
                .order_by(Registration.attempted_at)
            )
        )

    def record_registration(self, client: str, at: datetime, window: timedelta) -> None:
        self.session.execute(
            delete(Registration).where(
                Registration.client == client, Registration.attempted_at < at - window
            )
        )
        self.session.add(Registration(client=client, attempted_at=at))

    def recent_reset_requests(
        self, client: str, email: str | None, since: datetime
    ) -> list[datetime]:
        """The client's password reset requests since ``since``, for ``email`` or
        (None) whatever the address, oldest first."""
        query = select(ResetRequest.requested_at).where(
            ResetRequest.client == client, ResetRequest.requested_at >= since
        )
        if email is not None:
            query = query.where(ResetRequest.email == email)
        return list(self.session.scalars(query.order_by(ResetRequest.requested_at)))

    def record_reset_request(
        self, client: str, email: str, at: datetime, window: timedelta
    ) -> None:
        self.session.execute(
            delete(ResetRequest).where(
                ResetRequest.client == client, ResetRequest.requested_at < at - window
            )
        )
        self.session.add(ResetRequest(client=client, email=email, requested_at=at))

    def add_link(
        self,
        token_hash: str,
        user_id: str,
        purpose: str,
        now: datetime,
        expires_at: datetime,
        new_email: str | None = None,
    ) -> None:
        """A new link; the user's earlier unused links of that purpose stop
        working (the newest e-mail is the one to use), and expired ones go."""
        self.session.execute(
            delete(AccountLink).where(
                (AccountLink.expires_at < now)
                | (
                    (AccountLink.user_id == user_id)
                    & (AccountLink.purpose == purpose)
                    & AccountLink.used_at.is_(None)
                )
            )
        )
        self.session.add(
            AccountLink(
                token_hash=token_hash,
                user_id=user_id,
                purpose=purpose,
                new_email=new_email,
                created_at=now,
                expires_at=expires_at,
            )
        )

    def lock_link(self, token_hash: str) -> AccountLink | None:
        """The link, locked until the commit: of two uses at once, the second
        finds it used."""
        return self.session.scalars(
            select(AccountLink)
            .where(AccountLink.token_hash == token_hash)
            .with_for_update()
        ).one_or_none()

    def remove_links(self, user_id: str) -> None:
        self.session.execute(delete(AccountLink).where(AccountLink.user_id == user_id))

    def add_session(
        self,
        jti: str,
        user_id: str,
        user_agent: str,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        """A new login's session; the user's expired ones go."""
        self.session.execute(
            delete(Session).where(Session.user_id == user_id, Session.expires_at < now)
        )
        self.session.add(
            Session(
                jti=jti,
                user_id=user_id,
                user_agent=user_agent,
                created_at=now,
                last_used_at=now,
                expires_at=expires_at,
            )
        )

    def get_session(self, jti: str) -> Session | None:
        return self.session.get(Session, jti)

    def sessions_of(self, user_id: str, now: datetime) -> list[Session]:
        """The user's sessions that have not expired, most recently used first."""
        return list(
            self.session.scalars(
                select(Session)
                .where(Session.user_id == user_id, Session.expires_at >= now)
                .order_by(Session.last_used_at.desc(), Session.jti)
            )
        )

    def touch_session(self, jti: str, now: datetime, every: timedelta) -> None:
        """Note the session's use, unless it was noted less than ``every`` ago."""
        self.session.execute(
            update(Session)
            .where(Session.jti == jti, Session.last_used_at < now - every)
            .values(last_used_at=now)
        )

    def remove_session(self, jti: str) -> None:
        self.session.execute(delete(Session).where(Session.jti == jti))

    def remove_sessions(self, user_id: str) -> None:
        self.session.execute(delete(Session).where(Session.user_id == user_id))
