"""authdb access for the auth service."""

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from services.auth.models import Credential, LoginFailure, RevokedToken
from services.common.db import Store


class AuthStore(Store):
    def get_credential(self, user_id: str) -> Credential | None:
        return self.session.get(Credential, user_id)

    def find_credential(self, email: str) -> Credential | None:
        return self.session.scalars(
            select(Credential).where(Credential.email == email)
        ).one_or_none()

    def put_credential(
        self, user_id: str, email: str, role: str, password_hash: str | None
    ) -> Credential:
        credential = self.get_credential(user_id)
        if credential is None:
            credential = Credential(user_id=user_id)
            self.session.add(credential)
        credential.email = email
        credential.role = role
        if password_hash is not None:
            credential.password_hash = password_hash
        self.session.flush()
        return credential

    def remove_credential(self, user_id: str) -> bool:
        result = self.session.execute(
            delete(Credential).where(Credential.user_id == user_id)
        )
        return result.rowcount > 0

    def revoke(self, jti: str, user_id: str, expires_at: datetime) -> None:
        # A token revoked twice (a repeated logout) stays revoked once.
        self.session.execute(
            insert(RevokedToken)
            .values(jti=jti, user_id=user_id, expires_at=expires_at)
            .on_conflict_do_nothing(index_elements=["jti"])
        )

    def is_revoked(self, jti: str) -> bool:
        return self.session.get(RevokedToken, jti) is not None

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

    def record_failure(
        self, client: str, email: str, at: datetime, window: timedelta
    ) -> None:
        self.session.execute(
            delete(LoginFailure).where(
                LoginFailure.client == client,
                LoginFailure.email == email,
                LoginFailure.failed_at < at - window,
            )
        )
        self.session.add(LoginFailure(client=client, email=email, failed_at=at))

    def clear_failures(self, client: str, email: str) -> None:
        self.session.execute(
            delete(LoginFailure).where(
                LoginFailure.client == client, LoginFailure.email == email
            )
        )
