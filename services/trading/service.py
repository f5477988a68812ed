"""trading: a peer-to-peer market for delivery hours.

Users place limit orders to buy or sell energy for a future UTC hour; each hour has
its own book, matched continuously with price-time priority
(``services/trading/matching.py``). Every trade is pushed over ``ems.ws`` as
``trade.executed`` to its buyer and its seller. Once an hour has ended it is settled
against what the sellers' devices exported (``export_kwh`` of monitoring's
``hourly_series``): a seller who delivered less than they sold pays a penalty to
the buyers.

Every call made for someone takes their ``caller`` (``{"user_id", "role"}``, from
the verified token) first; what it may do is in ``policies.py``. A user's orders,
trades and balance are their own: another user's order answers ``OrderNotFound``,
exactly like a missing one. A sell order's device is asked of devices, and must be
the seller's own pv or battery.
"""

import logging
from datetime import UTC, datetime

from nameko.dependency_providers import Config
from nameko.rpc import rpc
from nameko.timer import timer

from services.common import pushes
from services.common.audit import Audit
from services.common.db import Database
from services.common.errors import EXPECTED
from services.common.health import HealthMixin
from services.common.messaging import TRANSIENT_ERRORS, Pusher, consume, describe
from services.common.rpc import TimedRpcProxy
from services.common.schemas import load
from services.common.topology import TRADING_USER_DELETED, iso_utc
from services.trading import logic, matching, policies
from services.trading.exceptions import OrderNotFound, OrderNotOpen
from services.trading.schemas import (
    TradingBalanceSchema,
    TradingBookSchema,
    TradingHourQuerySchema,
    TradingOrderCreateSchema,
    TradingOrderQuerySchema,
    TradingOrderSchema,
    TradingPlacementSchema,
    TradingSettlementSchema,
    TradingSettleQuerySchema,
    TradingTradeQuerySchema,
    TradingTradeSchema,
)
from services.trading.storage import TradingStore

log = logging.getLogger(__name__)

order_schema = TradingOrderSchema()
trade_schema = TradingTradeSchema()
placement_schema = TradingPlacementSchema()
book_schema = TradingBookSchema()
balance_schema = TradingBalanceSchema()
settlement_schema = TradingSettlementSchema()

#: Seconds between the timer's rounds of expiry and settlement.
SETTLE_INTERVAL = 60


def now() -> datetime:
    return datetime.now(UTC)


def book_order(row) -> matching.Order:
    """The matching engine's view of a stored order."""
    return matching.Order(
        id=row.id,
        user_id=row.user_id,
        side=row.side,
        price=row.price,
        quantity=row.quantity,
        seq=row.seq,
        remaining=row.remaining,
    )


def match(
    storage: TradingStore,
    user_id: str,
    side: str,
    hour: datetime,
    price: int,
    quantity: int,
    device_id: str | None = None,
):
    """Add an order to its hour's book and match it: ``(order, trades)``, stored
    but not committed. The caller holds the hour's lock and has checked that the
    hour is open."""
    resting = {row.id: row for row in storage.open_orders(hour)}
    book = matching.OrderBook.of(book_order(row) for row in resting.values())
    order = storage.add_order(user_id, side, hour, price, quantity, device_id)
    placement = book.place(book_order(order))
    return order, storage.record_placement(order, resting, placement)


class TradingService(HealthMixin):
    name = "trading"

    storage = Database(TradingStore)
    push = Pusher()
    audit = Audit()
    monitoring_rpc = TimedRpcProxy("monitoring")
    devices_rpc = TimedRpcProxy("devices")
    config = Config()

    # -- orders -------------------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def place_order(self, caller, body):
        """Place a limit order for the caller and match it: ``{"order", "trades"}``.

        A sell order's device is asked of devices before any lock is taken: it
        must be the caller's own, and deliver energy (``check_selling_device``).

        The hour is locked before its book is read and until the trades are
        committed (``TradingStore.lock_hour``), so one hour's orders are matched
        one at a time by whichever worker or process holds the lock. Whether the
        hour is still open is checked once the lock is held: a request that waited
        for it across the start of the hour must not trade in it. A user with
        ``max_open_orders_per_user`` open orders gets ``OpenOrderLimitReached``
        (409), counted under the user's lock (``TradingStore.lock_user``).
        """
        policies.PLACE_ORDER.require(caller)
        data = load(TradingOrderCreateSchema(), body)
        if data["side"] == matching.SELL:
            device = self.devices_rpc.describe_device(data["device_id"])
            logic.check_selling_device(device, caller)
        user_id = caller["user_id"]
        hour = data["delivery_hour"]
        rules = self._rules()
        self.storage.lock_user(user_id)
        logic.check_open_orders(self.storage.count_open_orders(user_id), rules)
        self.storage.lock_hour(hour)
        logic.check_open(hour, now(), rules)
        order, trades = match(
            self.storage,
            user_id,
            data["side"],
            hour,
            data["price"],
            data["quantity"],
            data.get("device_id"),
        )
        result = placement_schema.dump({"order": order, "trades": trades})
        self.storage.commit()
        # Pushed once committed: a trade that was rolled back is never announced.
        for trade in trades:
            self.push(pushes.TRADE_EXECUTED, trade, trade.buyer_id, trade.seller_id)
        return result

    @rpc(expected_exceptions=EXPECTED)
    def get_order(self, caller, order_id):
        return order_schema.dump(self._order(caller, order_id, policies.READ_ORDER))

    @rpc(expected_exceptions=EXPECTED)
    def list_orders(self, caller, query=None):
        """The caller's orders, newest first."""
        query = load(TradingOrderQuerySchema(), query or {})
        orders = self.storage.list_orders(
            caller["user_id"],
            query.get("status"),
            query.get("delivery_hour"),
            query["limit"],
        )
        return order_schema.dump(orders, many=True)

    @rpc(expected_exceptions=EXPECTED)
    def cancel_order(self, caller, order_id):
        """Cancel the caller's open order; ``OrderNotOpen`` once it is not."""
        order = self._order(caller, order_id, policies.CANCEL_ORDER)
        self.storage.lock_hour(order.delivery_hour)
        order = self.storage.refresh(order)  # a fill may have come first
        if order.status != "open":
            raise OrderNotOpen()
        order = self.storage.cancel(order, logic.CANCELLED_BY_USER)
        payload = order_schema.dump(order)
        self.storage.commit()
        return payload

    @rpc(expected_exceptions=EXPECTED)
    def book(self, caller, query):
        """The hour's open orders aggregated by price, without their owners: the
        same for every caller."""
        hour = load(TradingHourQuerySchema(), query)["delivery_hour"]
        return book_schema.dump({"delivery_hour": hour, **self.storage.book(hour)})

    # -- trades and balances --------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def list_trades(self, caller, query=None):
        """The trades the caller bought or sold in, newest first."""
        query = load(TradingTradeQuerySchema(), query or {})
        trades = self.storage.list_trades(
            caller["user_id"], query.get("delivery_hour"), query["limit"]
        )
        return trade_schema.dump(trades, many=True)

    @rpc(expected_exceptions=EXPECTED)
    def balance(self, caller):
        return balance_schema.dump(self.storage.balance(caller["user_id"]))

    @rpc(expected_exceptions=EXPECTED)
    def device_commitments(self, device_id):
        """``{"open_orders", "unsettled_trades"}`` of a device: while either is
        not zero, what the device is (its kind) must not change, since the
        orders were accepted and the trades will be settled for what it was."""
        return self.storage.device_commitments(device_id)

    # -- settlement -----------------------------------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def settle(self, caller, query, client=None):
        """Settle an hour that has ended (again: the stored settlement)."""
        policies.SETTLE.require(caller)
        hour = load(TradingSettleQuerySchema(), query)["delivery_hour"]
        logic.check_over(hour, now())
        return settlement_schema.dump(
            {"delivery_hour": hour, "sellers": self._settle(hour, caller, client)}
        )

    @timer(interval=SETTLE_INTERVAL)
    def settle_due(self):
        """Expire the open orders of hours that have begun, and settle the hours
        that ended ``settle_delay`` ago (late readings have had time to arrive).

        Every trading process runs this; the hour locks and the check for a stored
        settlement make a second run, here or elsewhere, change nothing.
        """
        started = now()
        for hour in self.storage.hours_with_open_orders(
            before=logic.started_hour(started) + logic.HOUR
        ):
            self.storage.lock_hour(hour)
            expired = self.storage.expire_orders(hour)
            self.storage.commit()
            log.info("expired %d open orders of %s", expired, iso_utc(hour))
        rules = self._rules()
        for hour in self.storage.unsettled_hours(started - rules.settle_delay):
            try:
                self._settle(hour)
            except TRANSIENT_ERRORS as exc:
                # Monitoring or the database is away: the next round tries again.
                log.warning("could not settle %s: %s", iso_utc(hour), describe(exc))
                return

    def _settle(self, hour: datetime, caller=None, client=None) -> list:
        """Settle ``hour`` once; the stored rows if it already was. The settlement
        is recorded in the audit log, as ``caller``'s, or the platform's (None)
        when the timer settles it.

        The lock is held while monitoring is asked for the devices' export. Only
        other settlements of the same (past) hour wait for it: orders for an hour
        that has begun are refused, so no trade can join the hour meanwhile.
        """
        self.storage.lock_hour(hour)
        stored = self.storage.settlements(hour)
        if stored:
            self.storage.commit()
            return stored
        self.storage.expire_orders(hour)
        trades = self.storage.sold_trades(hour)
        end = iso_utc(hour + logic.HOUR)
        delivered = {
            device_id: logic.exported_wh(
                self.monitoring_rpc.hourly_series(device_id, iso_utc(hour), end)
            )
            for device_id in {trade.device_id for trade in trades}
        }
        results = logic.settle_hour(trades, delivered, self._rules().penalty_factor)
        rows = self.storage.record_settlement(hour, results)
        if rows:
            # An hour without trades stores nothing, so nothing was settled.
            self.audit(
                caller,
                "trading.settled",
                "settlement",
                iso_utc(hour),
                {"trades": len(trades), "sellers": len(rows)},
                client,
            )
        self.storage.commit()
        log.info("settled %s: %d sellers", iso_utc(hour), len(rows))
        return rows

    # -- deleted users --------------------------------------------------------------

    @consume(TRADING_USER_DELETED)
    def handle_user_deleted(self, body):
        """A deleted user's open orders are cancelled; their trades stay, with
        their id, on the counterparties' records (and are settled as any other).

        Each hour with such orders is locked first, in time order (so two
        deliveries of the event cannot deadlock), and the list is read again
        until no new hour turned up: an order placed while the cascade ran is
        cancelled too.
        """
        user_id = body["user"]["id"]
        locked: set[datetime] = set()
        while hours := [
            hour
            for hour in self.storage.hours_with_open_orders(user_id=user_id)
            if hour not in locked
        ]:
            for hour in hours:
                self.storage.lock_hour(hour)
                locked.add(hour)
        if locked:
            self.storage.cancel_open_orders_of(
                user_id, sorted(locked), logic.CANCELLED_USER_DELETED
            )
        self.storage.commit()

    # -- helpers --------------------------------------------------------------------

    def _order(self, caller, order_id, policy):
        """The order, if ``policy`` lets the caller act on it; ``OrderNotFound``
        otherwise, as for a missing one."""
        order = self.storage.get_order(order_id)
        policy.require(caller, order.user_id, refusal=OrderNotFound())
        return order

    def _rules(self) -> logic.Rules:
        return logic.Rules.from_config(self.config)
