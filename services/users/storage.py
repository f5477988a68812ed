"""userdb access for the users service."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.common.db import Store
from services.common.schemas import is_id
from services.users.exceptions import EmailTaken, UserNotFound
from services.users.models import User


class UserStore(Store):
    def add_user(self, email: str, name: str, role: str) -> User:
        user = User(email=email, name=name, role=role)
        self.session.add(user)
        self._flush()
        return user

    def get_user(self, user_id: str) -> User:
        user = self.session.get(User, user_id) if is_id(user_id) else None
        if user is None:
            raise UserNotFound()
        return user

    def get_users(self, user_ids: list[str]) -> list[User]:
        ids = [user_id for user_id in user_ids if is_id(user_id)]
        if not ids:
            return []
        return list(self.session.scalars(select(User).where(User.id.in_(ids))))

    def find_user(self, email: str) -> User | None:
        return self.session.scalars(
            select(User).where(User.email == email)
        ).one_or_none()

    def list_users(self) -> list[User]:
        return list(
            self.session.scalars(select(User).order_by(User.created_at, User.id))
        )

    def find_users(self, text: str, limit: int) -> list[User]:
        """Users whose name or e-mail address contains ``text`` (any case; ``%``
        and ``_`` are plain characters), by name.

        ``name ILIKE '%text%' OR email ILIKE …``: each side is answered by a
        trigram index (pg_trgm, which ignores case), the order by the index on
        ``(name, email)`` (migration ``9c4f2b7d1e06``)."""
        query = select(User).order_by(User.name, User.email).limit(limit)
        if text:
            query = query.where(
                User.name.icontains(text, autoescape=True)
                | User.email.icontains(text, autoescape=True)
            )
        return list(self.session.scalars(query))

    def update_user(self, user_id: str, changes: dict) -> User:
        user = self.get_user(user_id)
        for field in ("email", "name", "role", "time_zone", "units", "theme"):
            if field in changes:
                setattr(user, field, changes[field])
        self._flush()
        return user

    def delete_user(self, user_id: str) -> User:
        user = self.get_user(user_id)
        self.session.delete(user)
        self.session.flush()
        return user

    def _flush(self) -> None:
        # The unique index on email is the arbiter between concurrent sign-ups: the
        # second one waits on the first's row and then fails here.
        try:
            self.session.flush()
        except IntegrityError as exc:
            self.session.rollback()
            raise EmailTaken() from exc
