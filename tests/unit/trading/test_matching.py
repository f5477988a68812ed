"""The matching engine by example: priority, partial fills, cancel, self-trade."""

import itertools

import pytest

from services.trading.matching import BUY, SELL, Fill, Level, Order, OrderBook

ADA, BOB, CY = "ada", "bob", "cy"
_seq = itertools.count(1)


def order(user, side, price, quantity, id=None):
    seq = next(_seq)
    return Order(id or f"{user}-{seq}", user, side, price, quantity, seq)


def trades(placement):
    return [(f.maker_order_id, f.price, f.quantity) for f in placement.fills]


@pytest.fixture
def book():
    return OrderBook()


def test_orders_that_do_not_cross_rest(book):
    bid = book.place(order(ADA, BUY, 24, 1000))
    ask = book.place(order(BOB, SELL, 27, 500))
    assert bid.rested and ask.rested and not bid.fills and not ask.fills
    assert (book.best_bid(), book.best_ask()) == (24, 27)
    assert book.levels(BUY) == [Level(24, 1000, 1)]
    assert book.levels(SELL) == [Level(27, 500, 1)]


def test_a_crossing_order_trades_at_the_resting_price(book):
    book.place(order(BOB, SELL, 25, 1000, id="ask"))
    placement = book.place(order(ADA, BUY, 30, 1000, id="bid"))
    assert placement.fills == [Fill("bid", "ask", ADA, BOB, 25, 1000, "ask")]
    assert placement.order.remaining == 0 and not placement.rested
    assert len(book) == 0 and book.best_ask() is None


def test_a_sell_into_bids_trades_at_the_bid_price(book):
    book.place(order(ADA, BUY, 30, 1000, id="bid"))
    placement = book.place(order(BOB, SELL, 20, 400, id="ask"))
    assert placement.fills == [Fill("bid", "ask", ADA, BOB, 30, 400, "bid")]
    assert book.levels(BUY) == [Level(30, 600, 1)]


def test_partial_fills_walk_the_book_best_price_first(book):
    book.place(order(BOB, SELL, 27, 300, id="a27"))
    book.place(order(CY, SELL, 25, 200, id="a25"))
    book.place(order(BOB, SELL, 26, 400, id="a26"))
    placement = book.place(order(ADA, BUY, 26, 1000, id="bid"))
    assert trades(placement) == [("a25", 25, 200), ("a26", 26, 400)]
    # The rest of the buy order rests at its own price, below the ask left.
    assert placement.rested and placement.order.remaining == 400
    assert book.levels(BUY) == [Level(26, 400, 1)]
    assert book.levels(SELL) == [Level(27, 300, 1)]


def test_a_resting_order_can_be_filled_in_parts(book):
    book.place(order(BOB, SELL, 25, 1000, id="ask"))
    book.place(order(ADA, BUY, 25, 300))
    book.place(order(CY, BUY, 25, 300))
    assert book.get("ask").remaining == 400
    assert book.levels(SELL) == [Level(25, 400, 1)]


def test_at_one_price_the_oldest_order_trades_first(book):
    book.place(order(BOB, SELL, 25, 300, id="first"))
    book.place(order(CY, SELL, 25, 300, id="second"))
    book.place(order(BOB, SELL, 25, 300, id="third"))
    placement = book.place(order(ADA, BUY, 25, 500))
    assert trades(placement) == [("first", 25, 300), ("second", 25, 200)]
    assert [o.id for o in book.resting(SELL)] == ["second", "third"]


def test_a_better_price_beats_an_earlier_order(book):
    book.place(order(ADA, BUY, 24, 100, id="early"))
    book.place(order(CY, BUY, 26, 100, id="better"))
    placement = book.place(order(BOB, SELL, 20, 150))
    assert trades(placement) == [("better", 26, 100), ("early", 24, 50)]


def test_cancel_takes_an_order_out_of_the_queue(book):
    book.place(order(BOB, SELL, 25, 300, id="first"))
    book.place(order(CY, SELL, 25, 300, id="second"))
    cancelled = book.cancel("first")
    assert cancelled.id == "first" and cancelled.cancelled
    assert book.levels(SELL) == [Level(25, 300, 1)]
    placement = book.place(order(ADA, BUY, 25, 500))
    assert trades(placement) == [("second", 25, 300)]
    assert book.cancel("first") is None  # already gone
    assert book.cancel("unknown") is None


def test_cancelling_a_whole_level_removes_it(book):
    book.place(order(BOB, SELL, 25, 300, id="cheap"))
    book.place(order(BOB, SELL, 28, 300, id="dear"))
    book.cancel("cheap")
    assert book.best_ask() == 28
    placement = book.place(order(ADA, BUY, 27, 100))
    assert not placement.fills and placement.rested
    assert book.best_bid() == 27


def test_an_order_meeting_its_owners_own_is_cancelled(book):
    """Self-trade prevention cancels the incoming order's rest; earlier fills
    stand and the owner's resting order is untouched."""
    book.place(order(CY, SELL, 24, 200, id="other"))
    book.place(order(ADA, SELL, 25, 300, id="own"))
    book.place(order(BOB, SELL, 26, 300, id="behind"))
    placement = book.place(order(ADA, BUY, 30, 1000, id="bid"))
    assert trades(placement) == [("other", 24, 200)]
    assert placement.self_trade and not placement.rested
    assert placement.order.cancelled and placement.order.remaining == 800
    assert [o.id for o in book.resting(SELL)] == ["own", "behind"]
    assert book.best_bid() is None
    assert "bid" not in book


def test_an_own_order_that_does_not_cross_is_no_self_trade(book):
    book.place(order(ADA, SELL, 30, 200))
    placement = book.place(order(ADA, BUY, 25, 200))
    assert placement.rested and not placement.self_trade
    assert (book.best_bid(), book.best_ask()) == (25, 30)


def test_a_book_of_resting_orders_is_the_book_they_were_placed_in(book):
    for step in [
        order(ADA, BUY, 24, 100),
        order(BOB, BUY, 25, 200),
        order(CY, BUY, 24, 300),
        order(ADA, SELL, 27, 100),
        order(BOB, SELL, 26, 100),
    ]:
        book.place(step)
    rebuilt = OrderBook.of(
        sorted(book.resting(BUY) + book.resting(SELL), key=lambda o: o.seq)
    )
    for side in (BUY, SELL):
        assert rebuilt.levels(side) == book.levels(side)
        assert rebuilt.resting(side) == book.resting(side)
    with pytest.raises(ValueError):  # stored orders never cross
        OrderBook.of([order(ADA, BUY, 26, 100), order(BOB, SELL, 26, 100)])
    with pytest.raises(ValueError):
        OrderBook.of([order(ADA, BUY, 26, 100, id="x")] * 2)


@pytest.mark.parametrize(
    "changes",
    [{"price": 0}, {"quantity": 0}, {"side": "hold"}, {"remaining": 0}],
)
def test_orders_must_make_sense(changes):
    fields = {
        "id": "o",
        "user_id": ADA,
        "side": BUY,
        "price": 25,
        "quantity": 100,
        "seq": 1,
    }
    with pytest.raises(ValueError):
        Order(**{**fields, **changes})


def test_an_order_cannot_be_placed_twice(book):
    resting = order(ADA, BUY, 20, 100, id="twice")
    book.place(resting)
    with pytest.raises(ValueError):
        book.place(order(ADA, BUY, 20, 100, id="twice"))
