"""The matching engine of one delivery hour: a continuous double auction with
price-time priority, in memory and free of I/O.

**Units.** Quantities are whole watt-hours and prices whole ten-thousandths of the
currency per kWh (``0.2512``/kWh is ``2512``); both are ``int``, so matching never
rounds. The service converts at its edges (``services.trading.schemas``).

**Priority.** Each side keeps its price levels best first (bids highest, asks
lowest), each level a FIFO queue in the order its orders were given to the book,
which is their ``seq``. An incoming order trades with the head of the best opposite
level while the prices cross, in as many partial fills as it takes; every fill is at
the resting order's price. What is left of the incoming order rests at its price,
behind the orders already there.

**Self-trade prevention: cancel the incoming order.** When the next resting order
the incoming one would trade with belongs to the same user, matching stops and the
incoming order's remainder is cancelled instead of resting; fills it made before
stand. Nothing the user placed earlier is undone behind their back, the user learns
it in the answer to their own request, and the book stays uncrossed (skipping the
own order and resting would leave a bid at or above an ask).

**Cancellation is lazy.** A cancelled order leaves its level's quantity at once but
stays in the queue until matching reaches it, so a cancel costs O(1) and never
scans a queue.
"""

from bisect import insort
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

BUY = "buy"
SELL = "sell"
SIDES = (BUY, SELL)


@dataclass(slots=True, eq=False)
class Order:
    """An order as the book knows it. ``remaining`` is what is still to trade
    (all of ``quantity`` unless given)."""

    id: str
    user_id: str
    side: str
    price: int
    quantity: int
    seq: int
    remaining: int | None = None
    cancelled: bool = False

    def __post_init__(self):
        if self.side not in SIDES:
            raise ValueError(f"side must be buy or sell, not {self.side!r}")
        if self.price <= 0 or self.quantity <= 0:
            raise ValueError("price and quantity must be positive")
        if self.remaining is None:
            self.remaining = self.quantity
        if not 0 < self.remaining <= self.quantity:
            raise ValueError("an order in the book has something left to trade")


@dataclass(frozen=True, slots=True)
class Fill:
    """One trade: ``quantity`` Wh at the resting (maker) order's ``price``."""

    buy_order_id: str
    sell_order_id: str
    buyer_id: str
    seller_id: str
    price: int
    quantity: int
    maker_order_id: str


@dataclass(slots=True)
class Placement:
    """What placing an order did."""

    order: Order
    fills: list[Fill] = field(default_factory=list)
    #: Its remainder rests in the book.
    rested: bool = False
    #: Its remainder was cancelled: the next order to trade with was its owner's.
    self_trade: bool = False


@dataclass(frozen=True, slots=True)
class Level:
    """A price level as seen from outside: total quantity and live orders."""

    price: int
    quantity: int
    orders: int


class _Level:
    __slots__ = ("price", "queue", "quantity")

    def __init__(self, price: int):
        self.price = price
        self.queue: deque[Order] = deque()
        #: The remaining quantity of the live (not cancelled) orders queued here.
        self.quantity = 0


class _Side:
    """One side of the book. ``keys`` is sorted ascending with the best price
    last, so the best level is found and dropped in O(1)."""

    def __init__(self, side: str):
        self.side = side
        # Bids: the highest price is best, the key is the price. Asks: the lowest
        # is best, the key is the negated price.
        self.sign = 1 if side == BUY else -1
        self.keys: list[int] = []
        self.levels: dict[int, _Level] = {}

    def best(self) -> _Level | None:
        return self.levels[self.sign * self.keys[-1]] if self.keys else None

    def add(self, order: Order) -> None:
        """Queue ``order`` last at its price."""
        if self.enqueue(order):
            insort(self.keys, self.sign * order.price)

    def enqueue(self, order: Order) -> bool:
        """Queue ``order`` last at its price; whether that opened a level (whose
        key the caller then sorts in)."""
        level = self.levels.get(order.price)
        opened = level is None
        if opened:
            level = self.levels[order.price] = _Level(order.price)
        level.queue.append(order)
        level.quantity += order.remaining
        return opened

    def sort(self) -> None:
        self.keys = sorted(self.sign * price for price in self.levels)

    def drop(self, level: _Level) -> None:
        """Remove a level whose live quantity is zero."""
        del self.levels[level.price]
        key = self.sign * level.price
        if self.keys[-1] == key:
            self.keys.pop()
        else:
            self.keys.remove(key)

    def in_order(self) -> Iterator[_Level]:
        for key in reversed(self.keys):
            yield self.levels[self.sign * key]


def crosses(incoming: Order, resting_price: int) -> bool:
    """Whether ``incoming`` is willing to trade at ``resting_price``."""
    if incoming.side == BUY:
        return incoming.price >= resting_price
    return incoming.price <= resting_price


class OrderBook:
    """The book of one delivery hour.

    Orders must reach it in ``seq`` order: those already resting (loaded from
    storage) through ``of``, then ``place`` for each new one.
    """

    def __init__(self):
        self._sides = {BUY: _Side(BUY), SELL: _Side(SELL)}
        self._live: dict[str, Order] = {}

    @classmethod
    def of(cls, resting) -> "OrderBook":
        """A book of orders that already rest, given in ``seq`` order (as stored):
        built in one pass, with each side's prices sorted once.

        Refuses orders that cross: stored orders never do, and matching them
        again here would make trades nobody stores.
        """
        book = cls()
        for order in resting:
            if order.id in book._live:
                raise ValueError(f"order {order.id} is given twice")
            book._sides[order.side].enqueue(order)
            book._live[order.id] = order
        for side in book._sides.values():
            side.sort()
        bid, ask = book.best_bid(), book.best_ask()
        if bid is not None and ask is not None and bid >= ask:
            raise ValueError(f"the orders cross: bid {bid} >= ask {ask}")
        return book

    # -- changing the book --------------------------------------------------------

    def place(self, order: Order) -> Placement:
        """Match an incoming order; rest what is left of it (see the module)."""
        if order.id in self._live:
            raise ValueError(f"order {order.id} is already in the book")
        placement = Placement(order)
        opposite = self._sides[_opposite(order.side)]
        while order.remaining:
            level = opposite.best()
            if level is None or not crosses(order, level.price):
                break
            maker = level.queue[0]
            if maker.cancelled:
                level.queue.popleft()
                continue
            if maker.user_id == order.user_id:
                placement.self_trade = True
                break
            quantity = min(order.remaining, maker.remaining)
            maker.remaining -= quantity
            order.remaining -= quantity
            level.quantity -= quantity
            placement.fills.append(_fill(order, maker, level.price, quantity))
            if not maker.remaining:
                level.queue.popleft()
                del self._live[maker.id]
            if not level.quantity:
                opposite.drop(level)
        if placement.self_trade:
            order.cancelled = True
        elif order.remaining:
            self._sides[order.side].add(order)
            self._live[order.id] = order
            placement.rested = True
        return placement

    def cancel(self, order_id: str) -> Order | None:
        """Take a resting order out of the book; None if it does not rest here."""
        order = self._live.pop(order_id, None)
        if order is None:
            return None
        order.cancelled = True
        side = self._sides[order.side]
        level = side.levels[order.price]
        level.quantity -= order.remaining
        if not level.quantity:
            side.drop(level)
        return order

    # -- reading the book -----------------------------------------------------------

    def best_bid(self) -> int | None:
        level = self._sides[BUY].best()
        return None if level is None else level.price

    def best_ask(self) -> int | None:
        level = self._sides[SELL].best()
        return None if level is None else level.price

    def levels(self, side: str) -> list[Level]:
        """The side's price levels, best first."""
        return [
            Level(
                level.price,
                level.quantity,
                sum(1 for order in level.queue if not order.cancelled),
            )
            for level in self._sides[side].in_order()
        ]

    def resting(self, side: str) -> list[Order]:
        """The side's live orders in priority order: best price, then oldest."""
        return [
            order
            for level in self._sides[side].in_order()
            for order in level.queue
            if not order.cancelled
        ]

    def get(self, order_id: str) -> Order | None:
        return self._live.get(order_id)

    def __contains__(self, order_id: str) -> bool:
        return order_id in self._live

    def __len__(self) -> int:
        return len(self._live)


def _opposite(side: str) -> str:
    return SELL if side == BUY else BUY


def _fill(taker: Order, maker: Order, price: int, quantity: int) -> Fill:
    buy, sell = (taker, maker) if taker.side == BUY else (maker, taker)
    return Fill(
        buy_order_id=buy.id,
        sell_order_id=sell.id,
        buyer_id=buy.user_id,
        seller_id=sell.user_id,
        price=price,
        quantity=quantity,
        maker_order_id=maker.id,
    )
