"""tradingdb: orders, trades, the ledger, and the settlements of delivery hours.

Energy is stored in whole Wh and prices in whole ten-thousandths of the currency per
kWh (``BigInteger``/``Integer``), money as ``Numeric`` with 7 places: every trade's
value is exact, and sums never drift (see ``services.trading.logic``).
"""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import utcnow
from services.trading.logic import trade_amount

MONEY = Numeric(20, 7)
#: An order's life: it rests ``open`` until ``filled``, ``cancelled`` (by its user,
#: to prevent a self-trade, or with its user's account) or ``expired`` (its
#: delivery hour began).
STATUSES = ("open", "filled", "cancelled", "expired")


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    pass


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    #: Time priority: orders of one delivery hour are inserted one at a time (under
    #: that hour's lock), so this is their arrival order.
    seq: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    user_id: Mapped[str] = mapped_column(String(36))
    side: Mapped[str] = mapped_column(String(4))
    #: The start of the UTC hour the energy is delivered in.
    delivery_hour: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    price: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(9), default="open")
    #: ``user``, ``self_trade`` or ``user_deleted`` for a cancelled order.
    cancel_reason: Mapped[str | None] = mapped_column(String(16))
    #: A sell order's device: what it meters in the hour is what was delivered.
    device_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    @property
    def filled(self) -> int:
        return self.quantity - self.remaining

    __table_args__ = (
        CheckConstraint("side IN ('buy', 'sell')", name="ck_orders_side"),
        CheckConstraint(
            "status IN ('open', 'filled', 'cancelled', 'expired')",
            name="ck_orders_status",
        ),
        CheckConstraint(
            "price > 0 AND quantity > 0 AND remaining >= 0 AND remaining <= quantity",
            name="ck_orders_quantities",
        ),
        CheckConstraint(
            "(side = 'sell') = (device_id IS NOT NULL)", name="ck_orders_device"
        ),
        Index("ix_orders_user_created", "user_id", "created_at"),
        # The book of an hour: its open orders, in time priority.
        Index(
            "ix_orders_open_hour",
            "delivery_hour",
            "seq",
            postgresql_where=text("status = 'open'"),
        ),
    )


class Trade(Base):
    """A fill between two orders. Trades are never deleted: a user's deletion
    leaves their trades (and their id) on the counterparty's record."""

    __tablename__ = "trades"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    seq: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    delivery_hour: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    buy_order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    sell_order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    buyer_id: Mapped[str] = mapped_column(String(36))
    seller_id: Mapped[str] = mapped_column(String(36))
    #: The sell order's device, kept here for settlement.
    device_id: Mapped[str] = mapped_column(String(36))
    price: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(BigInteger)
    executed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )

    @property
    def amount(self) -> Decimal:
        """What the buyer pays the seller."""
        return trade_amount(self.price, self.quantity)

    __table_args__ = (
        CheckConstraint("buyer_id <> seller_id", name="ck_trades_no_self_trade"),
        CheckConstraint("price > 0 AND quantity > 0", name="ck_trades_positive"),
        Index("ix_trades_buyer", "buyer_id", "seq"),
        Index("ix_trades_seller", "seller_id", "seq"),
        Index("ix_trades_hour", "delivery_hour"),
    )


class LedgerEntry(Base):
    """A credit or debit of one user. Entries come in pairs that cancel out (a
    trade: the buyer pays, the seller is paid; a penalty: the seller pays, the
    buyer is paid), so the ledger always sums to zero.

    ``energy`` is what the user is owed (+) or owes (−) in Wh: a trade's buyer
    +quantity and seller −quantity; a penalty gives back the shortfall, the buyer
    −shortfall and the seller +shortfall.
    """

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36))
    #: ``trade`` or ``penalty``.
    kind: Mapped[str] = mapped_column(String(8))
    trade_id: Mapped[str] = mapped_column(ForeignKey("trades.id"))
    delivery_hour: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cash: Mapped[Decimal] = mapped_column(MONEY)
    energy: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )

    __table_args__ = (
        CheckConstraint("kind IN ('trade', 'penalty')", name="ck_ledger_kind"),
        Index("ix_ledger_user", "user_id"),
    )


class Settlement(Base):
    """How one seller's device delivered in one hour. An hour with rows here is
    settled: they are written in one transaction, all of them or none."""

    __tablename__ = "settlements"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    delivery_hour: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seller_id: Mapped[str] = mapped_column(String(36))
    device_id: Mapped[str] = mapped_column(String(36))
    sold: Mapped[int] = mapped_column(BigInteger)
    delivered: Mapped[int] = mapped_column(BigInteger)
    shortfall: Mapped[int] = mapped_column(BigInteger)
    penalty: Mapped[Decimal] = mapped_column(MONEY)
    settled_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )

    __table_args__ = (
        UniqueConstraint(
            "delivery_hour", "seller_id", "device_id", name="uq_settlements_seller"
        ),
        Index("ix_settlements_seller", "seller_id"),
    )
