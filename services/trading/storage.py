"""tradingdb access for the trading service."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select, text, update

from services.common.db import Store, utcnow
from services.common.schemas import is_id
from services.common.topology import iso_utc
from services.trading import logic, matching
from services.trading.exceptions import OrderNotFound
from services.trading.models import LedgerEntry, Order, Settlement, Trade


class TradingStore(Store):
    # -- the book of one delivery hour ------------------------------------------------

    def lock_hour(self, hour: datetime) -> None:
        """Match, cancel, expire and settle one delivery hour at a time, until the
        transaction ends.

        Each request loads the hour's open orders, matches in memory and writes
        the result. Two doing that at once would both see the same resting order
        and fill it twice, or both rest and leave the book crossed. Row locks
        would not do: an incoming order that only rests touches no existing row,
        and the next one could not see it. Every change to an hour's orders takes
        this lock first, before it reads them; other hours are not held up.
        """
        self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"trading:hour:{iso_utc(hour)}"},
        )

    def lock_user(self, user_id: str) -> None:
        """Serialise one user's new orders until the transaction ends, in every
        trading process, so that two placed at once cannot both fit under the
        open-order quota.

        Taken before the hour's lock, and nothing that holds an hour's lock asks
        for a user's, so the two cannot deadlock. Only new orders need it: the
        count can fall meanwhile (fills, cancels, expiry) but not rise.
        """
        self.advisory_lock(f"trading:user:{user_id}")

    def count_open_orders(self, user_id: str) -> int:
        return self.session.scalar(
            select(func.count())
            .select_from(Order)
            .where(Order.user_id == user_id, Order.status == "open")
        )

    def open_orders(self, hour: datetime) -> list[Order]:
        """The hour's book, in time priority."""
        return list(
            self.session.scalars(
                select(Order)
                .where(Order.delivery_hour == hour, Order.status == "open")
                .order_by(Order.seq)
                .execution_options(populate_existing=True)
            )
        )

    def add_order(
        self,
        user_id: str,
        side: str,
        hour: datetime,
        price: int,
        quantity: int,
        device_id: str | None = None,
    ) -> Order:
        order = Order(
            user_id=user_id,
            side=side,
            delivery_hour=hour,
            price=price,
            quantity=quantity,
            remaining=quantity,
            status="open",
            device_id=device_id,
        )
        self.session.add(order)
        self.session.flush()
        return order

    def record_placement(
        self, order: Order, resting: dict[str, Order], placement: matching.Placement
    ) -> list[Trade]:
        """Store what matching ``order`` against ``resting`` (the hour's open
        orders by id) did: the trades, their ledger entries, and every order's
        remaining quantity and status."""
        now = utcnow()
        orders = dict(resting)
        orders[order.id] = order
        trades = []
        for fill in placement.fills:
            maker = orders[fill.maker_order_id]
            maker.remaining -= fill.quantity
            if not maker.remaining:
                maker.status = "filled"
            trades.append(self._add_trade(order.delivery_hour, fill, orders, now))
        order.remaining = placement.order.remaining
        if placement.self_trade:
            order.status = "cancelled"
            order.cancel_reason = logic.CANCELLED_SELF_TRADE
        elif not order.remaining:
            order.status = "filled"
        self.session.flush()
        return trades

    def _add_trade(
        self, hour: datetime, fill: matching.Fill, orders: dict, now: datetime
    ) -> Trade:
        trade = Trade(
            delivery_hour=hour,
            buy_order_id=fill.buy_order_id,
            sell_order_id=fill.sell_order_id,
            buyer_id=fill.buyer_id,
            seller_id=fill.seller_id,
            device_id=orders[fill.sell_order_id].device_id,
            price=fill.price,
            quantity=fill.quantity,
            executed_at=now,
        )
        self.session.add(trade)
        self.session.flush()
        amount = logic.trade_amount(fill.price, fill.quantity)
        self._entries(trade, "trade", amount, fill.quantity)
        return trade

    def _entries(self, trade: Trade, kind: str, amount: Decimal, energy: int) -> None:
        """The pair of ledger entries of a trade (the buyer pays ``amount`` and is
        owed ``energy``) or of a penalty (the same, reversed)."""
        sign = 1 if kind == "trade" else -1
        for user_id, direction in ((trade.buyer_id, 1), (trade.seller_id, -1)):
            self.session.add(
                LedgerEntry(
                    user_id=user_id,
                    kind=kind,
                    trade_id=trade.id,
                    delivery_hour=trade.delivery_hour,
                    cash=-direction * sign * amount,
                    energy=direction * sign * energy,
                )
            )

    def book(self, hour: datetime) -> dict:
        """The hour's open orders by side and price: ``{bids, asks}`` of
        ``{price, quantity, orders}``, best first."""
        rows = self.session.execute(
            select(
                Order.side,
                Order.price,
                func.sum(Order.remaining).label("quantity"),
                func.count().label("orders"),
            )
            .where(Order.delivery_hour == hour, Order.status == "open")
            .group_by(Order.side, Order.price)
        ).all()
        levels = {
            side: sorted(
                (
                    {"price": r.price, "quantity": int(r.quantity), "orders": r.orders}
                    for r in rows
                    if r.side == side
                ),
                key=lambda level: level["price"],
                reverse=side == matching.BUY,
            )
            for side in matching.SIDES
        }
        return {"bids": levels[matching.BUY], "asks": levels[matching.SELL]}

    # -- one user's orders and trades ---------------------------------------------

    def get_order(self, order_id: str) -> Order:
        """An order, whoever's: the service asks its policies who may see it."""
        order = self.session.get(Order, order_id) if is_id(order_id) else None
        if order is None:
            raise OrderNotFound()
        return order

    def refresh(self, order: Order) -> Order:
        """Read ``order`` again: it may have changed while a lock was awaited."""
        self.session.refresh(order)
        return order

    def cancel(self, order: Order, reason: str) -> Order:
        order.status = "cancelled"
        order.cancel_reason = reason
        self.session.flush()
        return order

    def list_orders(
        self,
        user_id: str,
        status: str | None = None,
        hour: datetime | None = None,
        limit: int = 100,
    ) -> list[Order]:
        """The user's orders, newest first."""
        query = select(Order).where(Order.user_id == user_id)
        if status is not None:
            query = query.where(Order.status == status)
        if hour is not None:
            query = query.where(Order.delivery_hour == hour)
        return list(self.session.scalars(query.order_by(Order.seq.desc()).limit(limit)))

    def list_trades(
        self, user_id: str, hour: datetime | None = None, limit: int = 100
    ) -> list[Trade]:
        """The trades the user bought or sold in, newest first."""
        query = select(Trade).where(
            (Trade.buyer_id == user_id) | (Trade.seller_id == user_id)
        )
        if hour is not None:
            query = query.where(Trade.delivery_hour == hour)
        return list(self.session.scalars(query.order_by(Trade.seq.desc()).limit(limit)))

    def balance(self, user_id: str) -> dict:
        """The user's ledger, summed (see ``LedgerEntry``)."""
        is_trade = LedgerEntry.kind == "trade"
        is_penalty = LedgerEntry.kind == "penalty"
        energy, cash = LedgerEntry.energy, LedgerEntry.cash

        def total(expression):
            return func.coalesce(func.sum(expression), 0)

        row = self.session.execute(
            select(
                total(cash).label("cash"),
                total(case((is_trade & (energy > 0), energy))).label("bought"),
                total(case((is_trade & (energy < 0), -energy))).label("sold"),
                total(case((is_penalty & (energy > 0), energy))).label("shortfall"),
                total(energy).label("net_energy"),
                total(case((is_penalty & (cash < 0), -cash))).label("penalties_paid"),
                total(case((is_penalty & (cash > 0), cash))).label(
                    "penalties_received"
                ),
            ).where(LedgerEntry.user_id == user_id)
        ).one()
        return dict(row._mapping)

    # -- expiry, settlement, deleted users -----------------------------------------

    def hours_with_open_orders(
        self, before: datetime | None = None, user_id: str | None = None
    ) -> list[datetime]:
        """Delivery hours that still have open orders (starting before ``before``,
        of ``user_id``), earliest first."""
        query = select(Order.delivery_hour).where(Order.status == "open").distinct()
        if before is not None:
            query = query.where(Order.delivery_hour < before)
        if user_id is not None:
            query = query.where(Order.user_id == user_id)
        return sorted(self.session.scalars(query))

    def expire_orders(self, hour: datetime) -> int:
        """The hour's open orders expire; how many did."""
        result = self.session.execute(
            update(Order)
            .where(Order.delivery_hour == hour, Order.status == "open")
            .values(status="expired", updated_at=utcnow())
        )
        return result.rowcount

    def cancel_open_orders_of(
        self, user_id: str, hours: list[datetime], reason: str
    ) -> int:
        """Cancel the user's open orders of ``hours`` (locked by the caller)."""
        result = self.session.execute(
            update(Order)
            .where(
                Order.user_id == user_id,
                Order.status == "open",
                Order.delivery_hour.in_(hours),
            )
            .values(status="cancelled", cancel_reason=reason, updated_at=utcnow())
        )
        return result.rowcount

    def unsettled_hours(self, ended_before: datetime) -> list[datetime]:
        """Hours with trades that ended before ``ended_before`` and are not settled,
        earliest first."""
        settled = select(Settlement.id).where(
            Settlement.delivery_hour == Trade.delivery_hour
        )
        return sorted(
            self.session.scalars(
                select(Trade.delivery_hour)
                .where(
                    Trade.delivery_hour <= ended_before - logic.HOUR,
                    ~settled.exists(),
                )
                .distinct()
            )
        )

    def sold_trades(self, hour: datetime) -> list[logic.SoldTrade]:
        """The hour's trades, oldest first, as settlement needs them."""
        return [
            logic.SoldTrade(
                t.id, t.buyer_id, t.seller_id, t.device_id, t.price, t.quantity
            )
            for t in self.session.scalars(
                select(Trade).where(Trade.delivery_hour == hour).order_by(Trade.seq)
            )
        ]

    def device_commitments(self, device_id: str) -> dict[str, int]:
        """How many open sell orders name the device, and how many of its trades
        belong to hours not settled yet."""
        open_orders = self.session.scalar(
            select(func.count())
            .select_from(Order)
            .where(Order.device_id == device_id, Order.status == "open")
        )
        settled = select(Settlement.id).where(
            Settlement.delivery_hour == Trade.delivery_hour
        )
        unsettled_trades = self.session.scalar(
            select(func.count())
            .select_from(Trade)
            .where(Trade.device_id == device_id, ~settled.exists())
        )
        return {"open_orders": open_orders, "unsettled_trades": unsettled_trades}

    def settlements(self, hour: datetime) -> list[Settlement]:
        return list(
            self.session.scalars(
                select(Settlement)
                .where(Settlement.delivery_hour == hour)
                .order_by(Settlement.id)
            )
        )

    def record_settlement(
        self, hour: datetime, results: list[logic.SellerSettlement]
    ) -> list[Settlement]:
        """Store an hour's settlement: a row per seller's device and a pair of
        ledger entries per penalty."""
        now = utcnow()
        rows = []
        for result in results:
            row = Settlement(
                delivery_hour=hour,
                seller_id=result.seller_id,
                device_id=result.device_id,
                sold=result.sold,
                delivered=result.delivered,
                shortfall=result.shortfall,
                penalty=result.penalty,
                settled_at=now,
            )
            self.session.add(row)
            rows.append(row)
            for penalty in result.penalties:
                trade = self.session.get(Trade, penalty.trade.id)
                self._entries(trade, "penalty", penalty.amount, penalty.shortfall)
        self.session.flush()
        return rows
