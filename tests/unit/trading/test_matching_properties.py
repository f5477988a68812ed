"""Properties of the matching engine over random sequences of orders and cancels.

Three users place and cancel orders at a handful of prices, so books cross, queue
and self-trade often. After every step:

- **Not crossed**: with bids and asks both present, best bid < best ask.
- **Quantity conserved**: every order's quantity is exactly its fills plus what
  is left of it, which is resting (in the book), cancelled, or nothing. Summed per
  side: placed = resting + cancelled + traded, where traded counts each trade's
  quantity once (so over both sides placed = resting + cancelled + 2 × traded).
  Each level's quantity is the sum of its resting orders'.
- **Price-time priority**: each fill took the resting opposite order with the best
  price and, among those, the lowest ``seq``, as a plain list sorted afresh shows;
  it trades at that order's price, within both limits. The fills of a placement
  are exactly those the list predicts.
- **No self-trade**: no fill has the same buyer and seller; an order stopped by
  its owner's own resting order is cancelled, never rests.
"""

import itertools
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from services.trading.matching import BUY, SELL, Order, OrderBook

USERS = ("ada", "bob", "cy")

places = st.tuples(
    st.just("place"),
    st.sampled_from(USERS),
    st.sampled_from((BUY, SELL)),
    st.integers(min_value=1, max_value=8),  # price: few levels, frequent crossing
    st.integers(min_value=1, max_value=60),  # quantity
)
cancels = st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=200))
steps = st.lists(st.one_of(places, places, places, cancels), max_size=80)


class Reference:
    """The book as a plain list, sorted afresh for each question: what the engine
    must agree with. ``live`` maps an order id to its resting Order copy."""

    def __init__(self):
        self.live: dict[str, Order] = {}

    def best_opposite(self, incoming: Order) -> Order | None:
        opposite = [o for o in self.live.values() if o.side != incoming.side]
        if incoming.side == BUY:
            opposite.sort(key=lambda o: (o.price, o.seq))
        else:
            opposite.sort(key=lambda o: (-o.price, o.seq))
        return opposite[0] if opposite else None

    def expected_fills(self, incoming: Order) -> tuple[list[tuple], bool]:
        """(maker id, price, quantity) of each fill, and whether a self-trade
        stops the order; consumes the reference's resting orders as it goes."""
        fills, left = [], incoming.quantity
        while left:
            best = self.best_opposite(incoming)
            if best is None:
                break
            crossing = (
                incoming.price >= best.price
                if incoming.side == BUY
                else incoming.price <= best.price
            )
            if not crossing:
                break
            if best.user_id == incoming.user_id:
                return fills, True
            quantity = min(left, best.remaining)
            fills.append((best.id, best.price, quantity))
            left -= quantity
            best.remaining -= quantity
            if not best.remaining:
                del self.live[best.id]
        return fills, False


def check_book(book: OrderBook) -> None:
    bid, ask = book.best_bid(), book.best_ask()
    if bid is not None and ask is not None:
        assert bid < ask, f"crossed book: bid {bid} >= ask {ask}"
    for side in (BUY, SELL):
        for level in book.levels(side):
            resting = [o for o in book.resting(side) if o.price == level.price]
            assert level.quantity == sum(o.remaining for o in resting) > 0
            assert level.orders == len(resting)


@settings(max_examples=400, deadline=None)
@given(steps)
def test_matching_keeps_its_invariants(script):
    book, reference = OrderBook(), Reference()
    seq = itertools.count(1)
    placed: dict[str, Order] = {}
    filled: dict[str, int] = defaultdict(int)
    cancelled: dict[str, int] = {}
    traded = 0

    for step in script:
        if step[0] == "cancel":
            if not placed:
                continue
            ids = list(placed)
            order_id = ids[step[1] % len(ids)]
            order = book.cancel(order_id)
            assert (order is not None) == (order_id in reference.live)
            if order is not None:
                cancelled[order_id] = order.remaining
                del reference.live[order_id]
        else:
            _, user, side, price, quantity = step
            number = next(seq)
            order = Order(f"o{number}", user, side, price, quantity, number)
            placed[order.id] = order
            expected, stopped = reference.expected_fills(order)
            placement = book.place(order)

            got = [(f.maker_order_id, f.price, f.quantity) for f in placement.fills]
            assert got == expected, "fills differ from price-time priority"
            assert placement.self_trade == stopped
            for fill in placement.fills:
                assert fill.buyer_id != fill.seller_id, "self-trade"
                maker = placed[fill.maker_order_id]
                assert maker.side != side and fill.price == maker.price
                assert price >= fill.price if side == BUY else price <= fill.price, (
                    "traded beyond the incoming order's limit"
                )
                filled[fill.buy_order_id] += fill.quantity
                filled[fill.sell_order_id] += fill.quantity
                traded += fill.quantity
            if placement.self_trade:
                assert not placement.rested and order.id not in book
                cancelled[order.id] = order.remaining
            elif order.remaining:
                assert placement.rested and order.id in book
                reference.live[order.id] = Order(
                    order.id, user, side, price, quantity, number, order.remaining
                )
            else:
                assert not placement.rested

        check_book(book)
        assert set(reference.live) == {
            o.id for side in (BUY, SELL) for o in book.resting(side)
        }
        for order_id, order in placed.items():
            resting = book.get(order_id)
            left = resting.remaining if resting else cancelled.get(order_id, 0)
            assert order.quantity == filled[order_id] + left, order_id
        for side in (BUY, SELL):
            placed_qty = sum(o.quantity for o in placed.values() if o.side == side)
            resting_qty = sum(o.remaining for o in book.resting(side))
            cancelled_qty = sum(
                left for oid, left in cancelled.items() if placed[oid].side == side
            )
            assert placed_qty == resting_qty + cancelled_qty + traded


@settings(max_examples=200, deadline=None)
@given(steps)
def test_the_book_is_the_same_whether_rebuilt_or_kept(script):
    """Loading the resting orders into a fresh book (``OrderBook.of``, as the
    service does for every request) gives the same book and the same next match
    as keeping it."""
    kept, seq = OrderBook(), itertools.count(1)
    for step in script:
        if step[0] == "place":
            _, user, side, price, quantity = step
            number = next(seq)
            kept.place(Order(f"o{number}", user, side, price, quantity, number))
    resting = sorted(kept.resting(BUY) + kept.resting(SELL), key=lambda o: o.seq)
    copies = [
        Order(o.id, o.user_id, o.side, o.price, o.quantity, o.seq, o.remaining)
        for o in resting
    ]
    rebuilt = OrderBook.of(copies)
    for side in (BUY, SELL):
        assert rebuilt.levels(side) == kept.levels(side)
    # A buy that sweeps every ask, then a sell that sweeps every bid.
    for side, price, user in ((BUY, 8, "probe-buyer"), (SELL, 1, "probe-seller")):
        number = next(seq)
        fills = [
            book.place(Order(f"p{number}", user, side, price, 10_000, number)).fills
            for book in (kept, rebuilt)
        ]
        assert fills[0] == fills[1]
