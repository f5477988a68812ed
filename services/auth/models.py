"""authdb: credentials, revoked tokens, failed logins and registrations."""

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Index, Integer, String
from sqlalchemy import true as sa_true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import utcnow


class Base(DeclarativeBase):
    pass


class Credential(Base):
    """What auth knows of a user: enough to log in and to vouch for a token."""

    __tablename__ = "credentials"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    #: Bumped when the password is set by someone else or the role changes; tokens
    #: carry the version they were issued under (``cv``) and stop working after it.
    credential_version: Mapped[int] = mapped_column(
        Integer, default=1, server_default="1"
    )
    #: Whether the owner of the address has followed a link e-mailed to it; an
    #: account that signed up while verification is required (``EMS_SIGNUP_
    #: VERIFICATION``) may log in only once it has.
    email_verified: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=sa_true()
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class RevokedToken(Base):
    """A token ended before it expired (logout). Kept until it would have expired."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Session(Base):
    """A login: the token it issued (``jti``), the browser it came from, and when
    it was last used (kept to the minute). Listed to its user, who may end it."""

    __tablename__ = "sessions"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class LoginFailure(Base):
    """One failed login, counted per client and e-mail address for rate limiting."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_key", "client", "email", "failed_at"),
        Index("ix_login_failures_client", "client", "failed_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    client: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254))
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccountLink(Base):
    """A link e-mailed to a user: a password reset, the confirmation of a new
    e-mail address, or of a new account's address. Only the SHA-256 of its token
    is kept; it works once, until ``expires_at``."""

    __tablename__ = "account_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    #: ``password_reset``, ``email_change`` or ``email_verify``.
    purpose: Mapped[str] = mapped_column(String(16))
    #: The address an ``email_change`` link moves the account to.
    new_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    used_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )


class ResetRequest(Base):
    """One password reset asked for, counted per client and e-mail address for rate
    limiting, like a failed login."""

    __tablename__ = "reset_requests"
    __table_args__ = (
        Index("ix_reset_requests_key", "client", "email", "requested_at"),
        Index("ix_reset_requests_client", "client", "requested_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    client: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Registration(Base):
    """One registration attempt, counted per client address for rate limiting."""

    __tablename__ = "registrations"
    __table_args__ = (Index("ix_registrations_key", "client", "attempted_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    client: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
