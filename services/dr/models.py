"""drdb: the dr service's tables."""

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
