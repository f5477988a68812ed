"""How many orders per second the trading matching engine matches, against a naive
book that re-sorts itself on every order, on the same random order stream in one run
on one machine.

The engine (``services/trading/matching.py``) keeps each side as price levels best
first (a sorted list of prices and a dict of FIFO queues), so an order only looks at
the levels it trades with, and a cancel is O(1) (lazy: the order is marked and
skipped when matching reaches it). The baseline keeps every resting order in one
list and, for each incoming order, sorts the opposite side afresh by price and time
and walks it; a cancel removes the order from the list. Both follow the same rules
(price-time priority, trades at the resting price, self-trade cancels the incoming
order), and the script checks that they make exactly the same trades.

It measures, on the same stream of placements and cancels:

(a) the engine, one book kept in memory for the whole stream;
(b) the naive re-sorting book;
(c) the engine rebuilt for every operation from the resting orders, as the trading
    service does on each request (it loads the hour's open orders from tradingdb
    into a fresh book, then places the new order): its in-memory share of the
    per-request cost, without the database.

Each is run ``--rounds`` times in turn (a b c a b c …); operations per second pool
the rounds (total operations / total time). The stream is made once, from a fixed
seed, before any clock starts. No platform is needed: this is pure Python.

Run from the repository root::

    .venv/bin/python benchmarks/bench_matching.py [--orders N] [--rounds R]
"""

import argparse
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchkit import header, markdown_table, ratio, write_results

from services.trading.matching import BUY, SELL, Order, OrderBook

RESULTS = Path(__file__).resolve().parent / "results" / "matching.json"


# -- the order stream -------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    id: str
    user_id: str
    side: str
    price: int
    quantity: int
    seq: int


@dataclass(frozen=True)
class Cancel:
    id: str


def make_stream(count: int, users: int, cancel_share: float, seed: int) -> list:
    """``count`` placements, and a cancel after about ``cancel_share`` of them.

    Prices are around a mid that drifts (a random walk of 1 tick per order, in
    ticks of 0.0001/kWh around 0.25), each order up to 60 ticks either side of it:
    about half the orders cross and trade, the rest build a deep book. Quantities
    are 0.1 to 5 kWh in Wh. Cancels name an earlier order at random, which may
    have been filled already (then nothing happens, in both books).
    """
    generator = random.Random(seed)
    stream, placed, mid = [], [], 2500
    for seq in range(1, count + 1):
        mid = max(200, mid + generator.choice((-1, 1)))
        side = generator.choice((BUY, SELL))
        offset = generator.randint(-60, 60)
        stream.append(
            Place(
                id=f"o{seq}",
                user_id=f"u{generator.randrange(users)}",
                side=side,
                price=mid + offset,
                quantity=generator.randint(100, 5000),
                seq=seq,
            )
        )
        placed.append(f"o{seq}")
        if generator.random() < cancel_share:
            stream.append(Cancel(generator.choice(placed)))
    return stream


def as_order(step: Place) -> Order:
    return Order(step.id, step.user_id, step.side, step.price, step.quantity, step.seq)


# -- the three contestants ----------------------------------------------------------


def run_engine(stream: list) -> tuple[list, list[int]]:
    """(a) one ``OrderBook`` for the whole stream."""
    book, fills, sizes = OrderBook(), [], []
    for step in stream:
        if isinstance(step, Place):
            for fill in book.place(as_order(step)).fills:
                fills.append((fill.maker_order_id, step.id, fill.price, fill.quantity))
        else:
            book.cancel(step.id)
        sizes.append(len(book))
    return fills, sizes


class NaiveBook:
    """Every resting order in one list; each incoming order sorts the opposite
    side afresh (best price, then oldest) and walks it."""

    def __init__(self):
        self.orders: list[list] = []  # [id, user, side, price, remaining, seq]

    def place(self, step: Place) -> list[tuple]:
        if step.side == BUY:
            opposite = sorted(
                (o for o in self.orders if o[2] == SELL), key=lambda o: (o[3], o[5])
            )
        else:
            opposite = sorted(
                (o for o in self.orders if o[2] == BUY), key=lambda o: (-o[3], o[5])
            )
        fills, left, self_trade = [], step.quantity, False
        for resting in opposite:
            crosses = (
                step.price >= resting[3]
                if step.side == BUY
                else step.price <= resting[3]
            )
            if not left or not crosses:
                break
            if resting[1] == step.user_id:
                self_trade = True
                break
            quantity = min(left, resting[4])
            resting[4] -= quantity
            left -= quantity
            fills.append((resting[0], step.id, resting[3], quantity))
        if fills:
            self.orders = [o for o in self.orders if o[4]]
        if left and not self_trade:
            self.orders.append(
                [step.id, step.user_id, step.side, step.price, left, step.seq]
            )
        return fills

    def cancel(self, order_id: str) -> None:
        self.orders = [o for o in self.orders if o[0] != order_id]


def run_naive(stream: list) -> tuple[list, list[int]]:
    """(b) the naive re-sorting book."""
    book, fills, sizes = NaiveBook(), [], []
    for step in stream:
        if isinstance(step, Place):
            fills += book.place(step)
        else:
            book.cancel(step.id)
        sizes.append(len(book.orders))
    return fills, sizes


def run_rebuilt(stream: list) -> tuple[list, list[int]]:
    """(c) a fresh ``OrderBook`` per operation, loaded with the resting orders in
    time order (what the service reads from tradingdb), then the operation."""
    resting: dict[str, list] = {}  # id → [user, side, price, quantity, seq, left]
    fills, sizes = [], []
    for step in stream:
        book = OrderBook.of(
            Order(order_id, user, side, price, quantity, seq, left)
            for order_id, (user, side, price, quantity, seq, left) in resting.items()
        )
        if isinstance(step, Place):
            placement = book.place(as_order(step))
            for fill in placement.fills:
                fills.append((fill.maker_order_id, step.id, fill.price, fill.quantity))
                maker = resting[fill.maker_order_id]
                maker[5] -= fill.quantity
                if not maker[5]:
                    del resting[fill.maker_order_id]
            if placement.rested:
                resting[step.id] = [
                    step.user_id,
                    step.side,
                    step.price,
                    step.quantity,
                    step.seq,
                    placement.order.remaining,
                ]
        elif book.cancel(step.id) is not None:
            del resting[step.id]
        sizes.append(len(resting))
    return fills, sizes


CONTESTANTS = {
    "a": ("engine, one book kept in memory", run_engine),
    "b": ("naive book, re-sorted on every order", run_naive),
    "c": ("engine rebuilt per operation (as the service does)", run_rebuilt),
}


# -- measuring --------------------------------------------------------------------


def measure(stream: list, rounds: int) -> tuple[dict, list]:
    placements = sum(isinstance(step, Place) for step in stream)
    seconds = {key: [] for key in CONTESTANTS}
    outcomes = {}
    for round_number in range(1, rounds + 1):
        for key, (label, run) in CONTESTANTS.items():
            started = time.perf_counter()
            fills, sizes = run(stream)
            elapsed = time.perf_counter() - started
            seconds[key].append(elapsed)
            outcomes[key] = (fills, sizes)
            print(
                f"  round {round_number} ({key}) {label}: {elapsed:.3f} s, "
                f"{len(stream) / elapsed:,.0f} operations/s",
                flush=True,
            )
    reference_fills = outcomes["a"][0]
    for key, (fills, _) in outcomes.items():
        if fills != reference_fills:
            raise RuntimeError(f"({key}) made other trades than (a)")
    results = {}
    for key, (label, _) in CONTESTANTS.items():
        total = sum(seconds[key])
        results[key] = {
            "contestant": label,
            "operations": len(stream) * rounds,
            "orders": placements * rounds,
            "seconds": round(total, 3),
            "seconds_by_round": [round(s, 3) for s in seconds[key]],
            "operations_per_s": round(len(stream) * rounds / total, 1),
            "orders_per_s": round(placements * rounds / total, 1),
        }
    return results, outcomes["a"]


def summary(stream: list, fills: list, sizes: list[int]) -> dict:
    placements = [step for step in stream if isinstance(step, Place)]
    return {
        "placements": len(placements),
        "cancels": len(stream) - len(placements),
        "trades": len(fills),
        "traded_kwh": sum(fill[3] for fill in fills) / 1000,
        "resting_orders_mean": round(statistics.fmean(sizes), 1),
        "resting_orders_max": max(sizes),
        "resting_orders_at_end": sizes[-1],
    }


def ratios(results: dict) -> dict:
    return {
        "a_over_b": ratio(results, "operations_per_s", "a", "b", 1),
        "c_over_b": ratio(results, "operations_per_s", "c", "b", 2),
        "a_over_c": ratio(results, "operations_per_s", "a", "c", 1),
    }


# -- the report -------------------------------------------------------------------


def report(args, stream, results, outcome) -> dict:
    fills, sizes = outcome
    document = {
        **header("matching"),
        "stream": {
            "seed": args.seed,
            "users": args.users,
            "cancel_share": args.cancel_share,
            **summary(stream, fills, sizes),
        },
        "rounds": args.rounds,
        "aggregation": "each contestant once per round, rounds in turn (abc abc …); "
        "operations and seconds pooled over the rounds",
        "check": "(a), (b) and (c) made identical trades",
        "results": results,
        "ratios": ratios(results),
    }
    return write_results(RESULTS, document)


def print_report(document: dict) -> None:
    print()
    headings = ["", "contestant", "operations", "seconds", "operations/s", "orders/s"]
    rows = [
        [f"({key})", r["contestant"], r["operations"], r["seconds"]]
        + [f"{r['operations_per_s']:,.0f}", f"{r['orders_per_s']:,.0f}"]
        for key, r in document["results"].items()
    ]
    print(markdown_table(headings, rows))
    stream, rates = document["stream"], document["ratios"]
    print()
    print(
        f"Stream: {stream['placements']} orders, {stream['cancels']} cancels, "
        f"{stream['trades']} trades; resting orders mean "
        f"{stream['resting_orders_mean']}, max {stream['resting_orders_max']}."
    )
    print(
        f"(a)/(b): {rates['a_over_b']}x   (c)/(b): {rates['c_over_b']}x   "
        f"(a)/(c): {rates['a_over_c']}x"
    )
    print(
        f"{document['machine']['nproc']} cores, Python "
        f"{document['machine']['python']}, {document['rounds']} rounds pooled. "
        "All three made identical trades."
    )
    print(f"Written to {RESULTS}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--orders", type=int, default=10_000, help="orders in the stream (10000)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="times each contestant runs (3)"
    )
    parser.add_argument("--users", type=int, default=50, help="distinct users (50)")
    parser.add_argument(
        "--cancel-share",
        type=float,
        default=0.1,
        help="cancels per order, on average (0.1)",
    )
    parser.add_argument("--seed", type=int, default=2026, help="random seed (2026)")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    stream = make_stream(args.orders, args.users, args.cancel_share, args.seed)
    print(
        f"Stream of {len(stream)} operations ({args.orders} orders); "
        f"{args.rounds} rounds of (a) (b) (c)",
        flush=True,
    )
    results, outcome = measure(stream, args.rounds)
    print_report(report(args, stream, results, outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
