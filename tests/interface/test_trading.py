"""trading in its container, on the real broker and tradingdb, with a fake
``monitoring`` service answering ``hourly_series`` for settlement and a fake
``devices`` answering ``describe_device`` for sell orders."""

import random
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import eventlet
import pytest
from kombu import Connection
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_hook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.errors import Forbidden, ValidationFailed
from services.common.topology import SYNC, WS, iso_utc
from services.devices.exceptions import DeviceNotFound
from services.trading import matching
from services.trading.exceptions import (
    HourNotOver,
    NotSellersDevice,
    OpenOrderLimitReached,
    OrderNotFound,
    OrderNotOpen,
)
from services.trading.models import LedgerEntry, Order, Trade
from services.trading.service import TradingService, match
from services.trading.storage import TradingStore

pytestmark = pytest.mark.usefixtures("clean_databases")

ADA = "6f1c9d2e-0000-4000-8000-0000000000a1"
BOB = "6f1c9d2e-0000-4000-8000-0000000000b2"
CY = "6f1c9d2e-0000-4000-8000-0000000000c3"
DAN = "6f1c9d2e-0000-4000-8000-0000000000d4"
PV = "7a2e0000-0000-4000-8000-0000000000f1"  # Ada's
PV2 = "7a2e0000-0000-4000-8000-0000000000f2"  # Dan's
PV3 = "7a2e0000-0000-4000-8000-0000000000f3"  # Bob's
METER = "7a2e0000-0000-4000-8000-0000000000f4"  # Ada's


def caller(user_id: str, role: str = "USER") -> dict:
    return {"user_id": user_id, "role": role}


def at(hour: datetime) -> dict:
    """The query naming a delivery hour."""
    return {"delivery_hour": iso_utc(hour)}


#: Any caller: the book is nobody's own.
ANYONE = caller(CY)
ADMIN = caller("6f1c9d2e-0000-4000-8000-0000000000e5", "ADMIN")


def hour_from_now(hours: int) -> datetime:
    now = datetime.now(UTC)
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours)


NEXT = hour_from_now(2)


def order(side, price, quantity, hour=NEXT, device=PV):
    body = {
        "side": side,
        "delivery_hour": iso_utc(hour),
        "price_per_kwh": price,
        "quantity_kwh": quantity,
    }
    if side == "sell":
        body["device_id"] = device
    return body


class FakeMonitoring:
    """``monitoring`` as settlement sees it: kWh per device, the same every hour."""

    name = "monitoring"
    delivered: dict[str, float] = {}
    asked: list[tuple] = []

    @rpc
    def hourly_series(self, device_id, start, end):
        FakeMonitoring.asked.append((device_id, start, end))
        # A seller delivers what its device exported; what it drew does not count.
        return [
            {
                "hour": start,
                "kwh": 0.25,
                "export_kwh": FakeMonitoring.delivered.get(device_id, 0.0),
            }
        ]


class FakeDevices:
    """``devices`` as trading sees it: each device's owner and kind."""

    name = "devices"
    devices: dict[str, dict] = {}

    @rpc(expected_exceptions=DeviceNotFound)
    def describe_device(self, device_id):
        if device_id not in FakeDevices.devices:
            raise DeviceNotFound()
        return {"id": device_id, **FakeDevices.devices[device_id]}


def own(user_id: str, kind: str = "pv") -> dict:
    return {"user_id": user_id, "kind": kind}


@pytest.fixture
def config(service_config):
    return service_config(
        "trading",
        RPC_TIMEOUT=5,
        TRADING={"penalty_factor": 1.5, "settle_delay_minutes": 15, "days_ahead": 7},
    )


@pytest.fixture
def devices(container_factory, config):
    FakeDevices.devices = {
        PV: own(ADA),
        PV2: own(DAN),
        PV3: own(BOB),
        METER: own(ADA, "meter"),
    }
    container_factory(FakeDevices, config).start()
    return FakeDevices


@pytest.fixture
def container(container_factory, config, devices):
    trading = container_factory(TradingService, config)
    trading.start()
    return trading


@pytest.fixture
def trading(container, config):
    with ServiceRpcProxy("trading", config) as proxy:
        yield proxy


@pytest.fixture
def monitoring(container_factory, config):
    FakeMonitoring.delivered, FakeMonitoring.asked = {}, []
    container_factory(FakeMonitoring, config).start()
    return FakeMonitoring


@pytest.fixture
def store(engines):
    session = Session(engines["tradingdb"], expire_on_commit=False)
    yield TradingStore(session)
    session.close()


def seed(store, hour, *orders):
    """Place ``(user, side, price, Wh[, device])`` orders for ``hour`` as the
    service does, without its check that the hour is open: how trades for an hour
    that has already passed come to exist in a test."""
    for user, side, price, quantity, *device in orders:
        store.lock_hour(hour)
        device_id = (device or [PV])[0] if side == "sell" else None
        match(store, user, side, hour, price, quantity, device_id)
        store.commit()


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


# -- orders ---------------------------------------------------------------------------


def test_a_crossing_order_trades_and_both_parties_are_told(trading, listen):
    pushes = listen(WS, "user.*.trade.executed")
    ask = trading.place_order(caller(ADA), order("sell", 0.25, 2.0))
    assert ask["trades"] == [] and ask["order"]["status"] == "open"
    assert ask["order"]["remaining_kwh"] == 2.0 and ask["order"]["device_id"] == PV

    bid = trading.place_order(caller(BOB), order("buy", 0.30, 1.5))
    [trade] = bid["trades"]
    assert trade["price_per_kwh"] == 0.25  # the resting order's price
    assert trade["quantity_kwh"] == 1.5 and trade["amount"] == 0.375
    assert (trade["buyer_id"], trade["seller_id"]) == (BOB, ADA)
    assert (trade["buy_order_id"], trade["sell_order_id"]) == (
        bid["order"]["id"],
        ask["order"]["id"],
    )
    assert trade["device_id"] == PV and trade["delivery_hour"] == iso_utc(NEXT)
    assert bid["order"]["status"] == "filled" and bid["order"]["filled_kwh"] == 1.5

    seller_order = trading.get_order(caller(ADA), ask["order"]["id"])
    assert seller_order["status"] == "open" and seller_order["remaining_kwh"] == 0.5

    received = pushes.messages(wait=5, until=2)
    assert sorted(key for key, _ in received) == sorted(
        [f"user.{ADA}.trade.executed", f"user.{BOB}.trade.executed"]
    )
    for _, body in received:
        assert body["type"] == "trade.executed" and body["data"] == trade

    assert (
        trading.list_trades(caller(ADA)) == [trade] == trading.list_trades(caller(BOB))
    )
    assert trading.list_trades(caller(CY)) == []
    assert trading.balance(caller(BOB)) == {
        "cash": -0.375,
        "bought_kwh": 1.5,
        "sold_kwh": 0.0,
        "shortfall_kwh": 0.0,
        "net_energy_kwh": 1.5,
        "penalties_paid": 0.0,
        "penalties_received": 0.0,
    }
    assert trading.balance(caller(ADA))["cash"] == 0.375
    assert trading.balance(caller(ADA))["sold_kwh"] == 1.5


def test_the_book_aggregates_open_orders_without_owners(trading):
    trading.place_order(caller(ADA), order("buy", 0.20, 1.0))
    trading.place_order(caller(BOB), order("buy", 0.20, 0.5))
    trading.place_order(caller(CY), order("buy", 0.22, 0.25))
    trading.place_order(caller(DAN), order("sell", 0.30, 2.0, device=PV2))
    trading.place_order(caller(DAN), order("sell", 0.28, 1.0, device=PV2))
    book = trading.book(ANYONE, at(NEXT))
    assert book == {
        "delivery_hour": iso_utc(NEXT),
        "bids": [
            {"price_per_kwh": 0.22, "quantity_kwh": 0.25, "orders": 1},
            {"price_per_kwh": 0.2, "quantity_kwh": 1.5, "orders": 2},
        ],
        "asks": [
            {"price_per_kwh": 0.28, "quantity_kwh": 1.0, "orders": 1},
            {"price_per_kwh": 0.3, "quantity_kwh": 2.0, "orders": 1},
        ],
    }
    assert trading.book(ANYONE, at(NEXT + timedelta(hours=1)))["bids"] == []


def test_self_trade_cancels_the_incoming_order(trading):
    trading.place_order(caller(ADA), order("sell", 0.25, 1.0))
    placed = trading.place_order(caller(ADA), order("buy", 0.30, 1.0))
    assert placed["trades"] == []
    assert placed["order"]["status"] == "cancelled"
    assert placed["order"]["cancel_reason"] == "self_trade"
    assert trading.book(ANYONE, at(NEXT))["bids"] == []


def test_only_the_owner_sees_and_cancels_an_order(trading):
    placed = trading.place_order(caller(ADA), order("buy", 0.20, 1.0))["order"]
    with pytest.raises(OrderNotFound):
        trading.get_order(caller(BOB), placed["id"])
    with pytest.raises(OrderNotFound):
        trading.cancel_order(caller(BOB), placed["id"])
    with pytest.raises(OrderNotFound):
        trading.get_order(caller(ADA), "not-an-id")
    cancelled = trading.cancel_order(caller(ADA), placed["id"])
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "user"
    with pytest.raises(OrderNotOpen):
        trading.cancel_order(caller(ADA), placed["id"])
    assert [
        o["id"] for o in trading.list_orders(caller(ADA), {"status": "cancelled"})
    ] == [placed["id"]]
    assert trading.list_orders(caller(ADA), {"status": "open"}) == []
    assert trading.list_orders(caller(BOB)) == []


def test_orders_for_closed_hours_are_refused(trading):
    for hour in (hour_from_now(0), hour_from_now(-3), hour_from_now(24 * 7 + 2)):
        with pytest.raises(ValidationFailed) as caught:
            trading.place_order(caller(ADA), order("buy", 0.2, 1.0, hour=hour))
        assert "delivery_hour" in caught.value.details
    with pytest.raises(ValidationFailed) as caught:
        trading.place_order(caller(ADA), order("buy", 0.2, 0.0001))
    assert "quantity_kwh" in caught.value.details


def test_concurrent_orders_on_one_hour_are_matched_one_at_a_time(
    trading, config, engines, devices
):
    """Six clients place 25 random orders each on the same hour at once. The
    result must be what matching the orders one by one in their ``seq`` order
    gives: the book uncrossed, every Wh accounted for, no self-trade."""
    users = [ADA, BOB, CY, DAN, str(uuid.uuid4()), str(uuid.uuid4())]
    own_device = {user: str(uuid.uuid4()) for user in users}
    devices.devices.update({own_device[user]: own(user) for user in users})
    errors = []

    def client(user, seed):
        generator = random.Random(seed)
        try:
            with ServiceRpcProxy("trading", config) as proxy:
                for _ in range(25):
                    side = generator.choice(["buy", "sell"])
                    price = generator.choice([0.20, 0.21, 0.22, 0.23, 0.24])
                    quantity = generator.randint(1, 40) / 10
                    proxy.place_order(
                        caller(user),
                        order(side, price, quantity, device=own_device[user]),
                    )
        except Exception as exc:  # reported below, with the thread's user
            errors.append((user, exc))

    threads = [
        threading.Thread(target=client, args=(user, index))
        for index, user in enumerate(users)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    with Session(engines["tradingdb"]) as session:
        orders = list(session.scalars(select(Order).order_by(Order.seq)))
        trades = list(session.scalars(select(Trade).order_by(Trade.seq)))
        ledger = session.execute(
            select(func.sum(LedgerEntry.cash), func.sum(LedgerEntry.energy))
        ).one()
    assert len(orders) == 150 and trades

    # Replaying every order in seq order through one book gives the same trades
    # and the same final orders: the hour was matched serially.
    book, replayed = matching.OrderBook(), []
    for row in orders:
        placement = book.place(
            matching.Order(
                row.id, row.user_id, row.side, row.price, row.quantity, row.seq
            )
        )
        replayed += [
            (f.buy_order_id, f.sell_order_id, f.price, f.quantity)
            for f in placement.fills
        ]
    assert replayed == [
        (t.buy_order_id, t.sell_order_id, t.price, t.quantity) for t in trades
    ]
    for row in orders:
        resting = book.get(row.id)
        assert (row.status == "open") == (resting is not None)
        if resting is not None:
            assert resting.remaining == row.remaining

    filled = {row.id: 0 for row in orders}
    for trade in trades:
        assert trade.buyer_id != trade.seller_id
        filled[trade.buy_order_id] += trade.quantity
        filled[trade.sell_order_id] += trade.quantity
    for row in orders:
        assert row.quantity == filled[row.id] + row.remaining
        assert (row.status == "filled") == (row.remaining == 0)
    traded = sum(trade.quantity for trade in trades)
    for side in ("buy", "sell"):
        placed = sum(row.quantity for row in orders if row.side == side)
        left = sum(row.remaining for row in orders if row.side == side)
        assert placed == left + traded
    assert tuple(ledger) == (Decimal(0), 0)  # every entry has its opposite

    view = trading.book(ANYONE, at(NEXT))
    if view["bids"] and view["asks"]:
        assert view["bids"][0]["price_per_kwh"] < view["asks"][0]["price_per_kwh"]


def test_a_sell_order_names_the_sellers_own_producing_device(trading):
    # ADMIN may read every device, but sells only from their own.
    for stranger in (caller(BOB), ADMIN):
        with pytest.raises(NotSellersDevice):
            trading.place_order(stranger, order("sell", 0.25, 1.0, device=PV))
    with pytest.raises(DeviceNotFound):
        trading.place_order(
            caller(ADA), order("sell", 0.25, 1.0, device=str(uuid.uuid4()))
        )
    with pytest.raises(ValidationFailed) as caught:
        trading.place_order(caller(ADA), order("sell", 0.25, 1.0, device=METER))
    assert "device_id" in caught.value.details
    assert trading.book(ANYONE, at(NEXT))["asks"] == []


# -- the open-order quota ------------------------------------------------------------


@pytest.fixture
def limited(container_factory, config, devices):
    """Two trading processes sharing tradingdb; a user may have three open orders."""
    settings = dict(config, TRADING=dict(config["TRADING"], max_open_orders_per_user=3))
    for _ in range(2):
        container_factory(TradingService, settings).start()
    return settings


def test_a_user_may_have_only_so_many_open_orders(limited):
    with ServiceRpcProxy("trading", limited) as proxy:
        placed = [
            proxy.place_order(
                caller(ADA), order("buy", 0.20, 1.0, hour=hour_from_now(2 + i))
            )
            for i in range(3)
        ]
        with pytest.raises(OpenOrderLimitReached) as caught:
            proxy.place_order(caller(ADA), order("buy", 0.20, 1.0))
        assert "at most 3 open orders" in caught.value.message
        assert int(caught.value.details["limit"]) == 3
        # Others have their own quota; a filled or cancelled order frees a place.
        proxy.place_order(
            caller(BOB), order("sell", 0.20, 1.0, hour=hour_from_now(2), device=PV3)
        )
        assert (
            proxy.get_order(caller(ADA), placed[0]["order"]["id"])["status"] == "filled"
        )
        proxy.place_order(caller(ADA), order("buy", 0.20, 1.0))
        proxy.cancel_order(caller(ADA), placed[1]["order"]["id"])
        proxy.place_order(caller(ADA), order("buy", 0.20, 1.0))
        assert len(proxy.list_orders(caller(ADA), {"status": "open"})) == 3


def test_concurrent_orders_at_the_quota_leave_exactly_the_quota(limited):
    def place(i):
        with ServiceRpcProxy("trading", limited) as proxy:
            try:
                return proxy.place_order(
                    caller(ADA), order("buy", 0.20, 1.0, hour=hour_from_now(2 + i))
                )
            except OpenOrderLimitReached:
                return None

    placed = list(eventlet.GreenPool(10).imap(place, range(10)))
    assert len([result for result in placed if result is not None]) == 3
    with ServiceRpcProxy("trading", limited) as proxy:
        assert len(proxy.list_orders(caller(ADA), {"status": "open"})) == 3


# -- settlement -----------------------------------------------------------------------


def test_a_seller_short_of_what_they_sold_pays_the_buyers(
    trading, monitoring, store, listen
):
    audit = listen(SYNC, "audit.#")
    past = hour_from_now(-3)
    seed(
        store,
        past,
        (ADA, "sell", 2500, 2000),  # 2 kWh at 0.25 from PV
        (BOB, "buy", 3000, 500),  # trades 0.5 kWh at 0.25
        (CY, "buy", 2500, 1500),  # trades 1.5 kWh at 0.25
        (DAN, "sell", 2000, 1000, PV2),  # rests: nobody buys it
    )
    monitoring.delivered = {PV: 1.2}  # 0.8 kWh short
    settled = trading.settle(ADMIN, at(past))
    assert settled == {
        "delivery_hour": iso_utc(past),
        "sellers": [
            {
                "seller_id": ADA,
                "device_id": PV,
                "sold_kwh": 2.0,
                "delivered_kwh": 1.2,
                "shortfall_kwh": 0.8,
                "penalty": 0.3,  # 0.8 kWh × 0.25 × 1.5
            }
        ],
    }
    assert monitoring.asked == [(PV, iso_utc(past), iso_utc(past + timedelta(hours=1)))]
    ada, bob, cy = (trading.balance(caller(user)) for user in (ADA, BOB, CY))
    assert ada["cash"] == 0.2 and ada["penalties_paid"] == 0.3
    assert ada["shortfall_kwh"] == 0.8 and ada["net_energy_kwh"] == -1.2
    # The buyers share the 0.8 kWh as they bought: 0.2 and 0.6 kWh.
    assert bob["penalties_received"] == 0.075 and bob["net_energy_kwh"] == 0.3
    assert cy["penalties_received"] == 0.225 and cy["net_energy_kwh"] == 0.9
    assert trading.list_orders(caller(DAN))[0]["status"] == "expired"

    assert trading.settle(ADMIN, at(past)) == settled  # again: nothing changes
    assert trading.balance(caller(ADA)) == ada and len(monitoring.asked) == 1
    # The settlement is in the audit log once, as the ADMIN's.
    ((_, record),) = audit.messages(wait=1)
    assert record["action"] == "trading.settled"
    assert record["actor"] == {"id": ADMIN["user_id"], "role": "ADMIN"}
    assert record["object"] == {"type": "settlement", "id": iso_utc(past)}
    assert record["details"] == {"trades": 2, "sellers": 1}


def test_only_admin_settles(trading, monitoring):
    past = at(hour_from_now(-2))
    for who in (caller(ADA), caller(ADA, "OPERATOR")):
        with pytest.raises(Forbidden):
            trading.settle(who, past)
    assert trading.settle(ADMIN, past)["sellers"] == []


def test_a_device_is_committed_while_it_has_open_orders_or_unsettled_trades(
    trading, monitoring, store
):
    nothing = {"open_orders": 0, "unsettled_trades": 0}
    assert trading.device_commitments(PV) == nothing
    resting = trading.place_order(caller(ADA), order("sell", 0.30, 1.0))["order"]
    assert trading.device_commitments(PV) == {"open_orders": 1, "unsettled_trades": 0}
    trading.cancel_order(caller(ADA), resting["id"])
    assert trading.device_commitments(PV) == nothing

    past = hour_from_now(-3)
    seed(store, past, (ADA, "sell", 2500, 1000), (BOB, "buy", 2500, 400))
    # The rest of the sell order still rests on the past hour's book until the
    # hour is settled (which expires it).
    assert trading.device_commitments(PV) == {"open_orders": 1, "unsettled_trades": 1}
    assert trading.device_commitments(PV2) == nothing
    monitoring.delivered = {PV: 0.4}
    trading.settle(ADMIN, at(past))
    assert trading.device_commitments(PV) == nothing


def test_an_hour_is_settled_only_once_it_has_ended(trading, monitoring):
    with pytest.raises(HourNotOver):
        trading.settle(ADMIN, at(hour_from_now(0)))
    with pytest.raises(ValidationFailed):
        trading.settle(ADMIN, {"delivery_hour": "2026-11-22T10:30:00Z"})
    assert trading.settle(ADMIN, at(hour_from_now(-1))) == {
        "delivery_hour": iso_utc(hour_from_now(-1)),
        "sellers": [],
    }


def test_the_timer_expires_and_settles_what_is_due(
    container, trading, monitoring, store, listen
):
    audit = listen(SYNC, "audit.#")
    due, recent = hour_from_now(-3), hour_from_now(0)
    seed(store, due, (ADA, "sell", 2500, 1000), (BOB, "buy", 2500, 1000))
    seed(store, recent, (ADA, "sell", 2500, 1000), (BOB, "buy", 2500, 600))
    open_later = trading.place_order(caller(CY), order("buy", 0.2, 1.0))["order"]
    monitoring.delivered = {PV: 1.0}

    with entrypoint_hook(container, "settle_due") as settle_due:
        settle_due()
        assert trading.settle(ADMIN, at(due))["sellers"][0]["shortfall_kwh"] == 0
        # The current hour has not ended: its trades wait, its open order expired.
        assert [o["status"] for o in trading.list_orders(caller(ADA))] == [
            "expired",
            "filled",
        ]
        assert trading.get_order(caller(CY), open_later["id"])["status"] == "open"
        asked = len(monitoring.asked)
        settle_due()
    assert len(monitoring.asked) == asked  # nothing was settled twice
    # The platform settled it, no one in particular: in the audit log once.
    ((_, record),) = audit.messages(wait=1)
    assert record["action"] == "trading.settled" and record["actor"] is None
    assert record["object"] == {"type": "settlement", "id": iso_utc(due)}


# -- deleted users --------------------------------------------------------------------


def test_a_deleted_users_open_orders_are_cancelled_and_trades_stay(
    trading, service_config
):
    later = NEXT + timedelta(hours=1)
    partly = trading.place_order(caller(ADA), order("sell", 0.25, 2.0))["order"]
    trade = trading.place_order(caller(BOB), order("buy", 0.25, 0.5))["trades"][0]
    trading.place_order(caller(ADA), order("buy", 0.10, 1.0, hour=later))
    kept = trading.place_order(caller(CY), order("buy", 0.10, 1.0, hour=later))["order"]

    deleted = {"user": {"id": ADA, "email": "a@b.cd", "name": "A", "role": "USER"}}
    with Connection(service_config()["AMQP_URI"]) as connection:
        producer = connection.Producer()
        for _ in range(2):  # a redelivered event changes nothing
            producer.publish(
                deleted,
                exchange=SYNC,
                routing_key="user.deleted",
                declare=[SYNC],
                serializer="json",
            )
    wait_for(lambda: trading.list_orders(caller(ADA), {"status": "open"}) == [])
    statuses = {
        o["id"]: (o["status"], o["cancel_reason"])
        for o in trading.list_orders(caller(ADA))
    }
    assert statuses[partly["id"]] == ("cancelled", "user_deleted")
    assert set(statuses.values()) == {("cancelled", "user_deleted")}
    assert trading.book(ANYONE, at(NEXT))["asks"] == []
    assert trading.book(ANYONE, at(later))["bids"] == [
        {"price_per_kwh": 0.1, "quantity_kwh": 1.0, "orders": 1}
    ]
    assert trading.get_order(caller(CY), kept["id"])["status"] == "open"
    assert trading.list_trades(caller(BOB)) == [trade] and trade["seller_id"] == ADA
