"""trading's rules: which delivery hours are open, what a trade costs, and how a
delivery hour is settled against what the sellers' devices exported.

Units are those of the matching engine (``services.trading.matching``): energy in
whole Wh, prices in whole ten-thousandths of the currency per kWh. Money is a
``Decimal`` with 7 places, which holds every trade's value exactly
(``price × Wh / 10⁷``); penalties, which multiply by a factor, are rounded half-even
to those 7 places. Nothing here touches the database or the broker.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from services.common.errors import ValidationFailed
from services.trading.exceptions import (
    HourNotOver,
    NotSellersDevice,
    OpenOrderLimitReached,
)
from services.trading.policies import SELL_FROM_DEVICE

HOUR = timedelta(hours=1)
#: Price scale: ten-thousandths of the currency per kWh.
PRICE_PLACES = 4
#: Energy scale: Wh, thousandths of a kWh.
ENERGY_PLACES = 3
MONEY_PLACES = PRICE_PLACES + ENERGY_PLACES
MONEY = Decimal(1).scaleb(-MONEY_PLACES)

#: Device kinds that export energy to the grid: only these may sell.
SELLING_KINDS = ("pv", "battery")

DEFAULT_PENALTY_FACTOR = Decimal("1.5")
DEFAULT_SETTLE_DELAY = timedelta(minutes=15)
DEFAULT_DAYS_AHEAD = 7
DEFAULT_MAX_OPEN_ORDERS = 100

#: Why an order was cancelled.
CANCELLED_BY_USER = "user"
CANCELLED_SELF_TRADE = "self_trade"
CANCELLED_USER_DELETED = "user_deleted"


@dataclass(frozen=True)
class Rules:
    """The market's settings (``TRADING`` of the ``trading`` settings, ``config``)."""

    #: A seller pays this many times the trade price for each kWh not delivered.
    penalty_factor: Decimal = DEFAULT_PENALTY_FACTOR
    #: How long after a delivery hour ends it is settled by the timer, for late
    #: readings to arrive.
    settle_delay: timedelta = DEFAULT_SETTLE_DELAY
    #: How far ahead an order's delivery hour may be.
    days_ahead: int = DEFAULT_DAYS_AHEAD
    #: Open orders one user may have at once.
    max_open_orders: int = DEFAULT_MAX_OPEN_ORDERS

    @classmethod
    def from_config(cls, config: dict) -> "Rules":
        settings = config.get("TRADING") or {}
        return cls(
            penalty_factor=Decimal(
                str(settings.get("penalty_factor", DEFAULT_PENALTY_FACTOR))
            ),
            settle_delay=timedelta(
                minutes=float(
                    settings.get(
                        "settle_delay_minutes",
                        DEFAULT_SETTLE_DELAY.total_seconds() / 60,
                    )
                )
            ),
            days_ahead=int(settings.get("days_ahead", DEFAULT_DAYS_AHEAD)),
            max_open_orders=int(
                settings.get("max_open_orders_per_user", DEFAULT_MAX_OPEN_ORDERS)
            ),
        )


# -- delivery hours ----------------------------------------------------------------


def is_hour_start(moment: datetime) -> bool:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0) == moment


def check_open(hour: datetime, now: datetime, rules: Rules) -> None:
    """``hour`` can still be traded: it starts after ``now`` (trading for an hour
    closes when it begins) and within ``rules.days_ahead`` days."""
    if hour <= now:
        raise ValidationFailed(
            "trading for this hour has closed",
            {"delivery_hour": ["must be an hour that has not begun"]},
        )
    if hour - now > timedelta(days=rules.days_ahead):
        raise ValidationFailed(
            "the delivery hour is too far ahead",
            {"delivery_hour": [f"must be within {rules.days_ahead} days"]},
        )


def check_open_orders(open_orders: int, rules: Rules) -> None:
    """A user with ``open_orders`` open orders may place one more."""
    if open_orders >= rules.max_open_orders:
        raise OpenOrderLimitReached(
            f"a user may have at most {rules.max_open_orders} open orders; "
            "cancel one or wait for one to fill",
            {"limit": rules.max_open_orders},
        )


def check_over(hour: datetime, now: datetime) -> None:
    """A delivery hour is settled only once it has ended."""
    if hour > now - HOUR:  # not hour + HOUR > now: 9999-12-31T23:00 has no end
        raise HourNotOver()


def started_hour(now: datetime) -> datetime:
    """The start of the hour ``now`` is in: orders for it or before are closed."""
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def check_selling_device(device: dict, caller: dict) -> None:
    """A sell order names a device of the seller's own that produces energy.

    Another user's device answers like a missing one (404), even to ADMIN and
    OPERATOR, who may read every device but sell only from their own.
    """
    SELL_FROM_DEVICE.require(caller, device["user_id"], refusal=NotSellersDevice())
    if device["kind"] not in SELLING_KINDS:
        raise ValidationFailed(
            "this device cannot deliver energy",
            {"device_id": [f"must be a {' or '.join(SELLING_KINDS)} device"]},
        )


# -- money and energy --------------------------------------------------------------


def trade_amount(price: int, quantity: int) -> Decimal:
    """What the buyer pays the seller: exact, no rounding."""
    return Decimal(price * quantity).scaleb(-MONEY_PLACES)


def penalty_amount(price: int, shortfall: int, factor: Decimal) -> Decimal:
    """What a seller pays for ``shortfall`` Wh not delivered of a trade at
    ``price``: ``factor`` times its value, rounded half-even to the money scale."""
    return (trade_amount(price, shortfall) * factor).quantize(
        MONEY, rounding=ROUND_HALF_EVEN
    )


def kwh_to_wh(kwh) -> int:
    """Metered kWh (a JSON number, to the micro-kWh) as whole Wh, half-even."""
    return int((Decimal(repr(kwh)) * 1000).to_integral_value(rounding=ROUND_HALF_EVEN))


def exported_wh(series: list[dict]) -> int:
    """What a device delivered, in whole Wh: the energy it exported to the grid
    (``export_kwh`` of monitoring's hourly series), never what it drew (``kwh``),
    since a seller sells generation."""
    return sum(kwh_to_wh(point["export_kwh"]) for point in series)


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights``, in whole units that add up to
    ``total`` exactly (largest remainder; ties go to the earlier weight)."""
    whole = sum(weights)
    if total < 0 or any(weight < 0 for weight in weights):
        raise ValueError("allocate needs non-negative numbers")
    if not whole:
        if total:
            raise ValueError("cannot allocate to nothing")
        return [0] * len(weights)
    shares = [total * weight // whole for weight in weights]
    remainders = [total * weight % whole for weight in weights]
    left = total - sum(shares)
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        shares[index] += 1
    return shares


# -- settlement --------------------------------------------------------------------


@dataclass(frozen=True)
class SoldTrade:
    """What settlement needs of a trade."""

    id: str
    buyer_id: str
    seller_id: str
    device_id: str
    price: int
    quantity: int


@dataclass(frozen=True)
class Penalty:
    """A seller's shortfall on one trade, paid to its buyer."""

    trade: SoldTrade
    shortfall: int
    amount: Decimal


@dataclass(frozen=True)
class SellerSettlement:
    """One seller's delivery from one device in one hour."""

    seller_id: str
    device_id: str
    sold: int
    delivered: int
    penalties: list[Penalty]

    @property
    def shortfall(self) -> int:
        return max(0, self.sold - self.delivered)

    @property
    def penalty(self) -> Decimal:
        return sum((penalty.amount for penalty in self.penalties), Decimal(0))


def settle_seller(
    trades: list[SoldTrade], delivered: int, factor: Decimal
) -> SellerSettlement:
    """Settle the trades one seller sold from one device in one hour.

    ``delivered`` is what the device exported in the hour. The shortfall (what was
    sold beyond it, if anything) is shared among the trades in proportion to their
    quantity, in whole Wh; each trade's share costs the seller ``factor`` times
    that trade's price, paid to that trade's buyer. Energy delivered beyond what
    was sold is not the market's business.
    """
    first = trades[0]
    if any(
        (t.seller_id, t.device_id) != (first.seller_id, first.device_id) for t in trades
    ):
        raise ValueError("settle one seller's device at a time")
    sold = sum(trade.quantity for trade in trades)
    shares = allocate(max(0, sold - delivered), [t.quantity for t in trades])
    penalties = [
        Penalty(trade, share, penalty_amount(trade.price, share, factor))
        for trade, share in zip(trades, shares, strict=True)
        if share
    ]
    return SellerSettlement(
        first.seller_id, first.device_id, sold, delivered, penalties
    )


def sellers(trades: list[SoldTrade]) -> dict[tuple[str, str], list[SoldTrade]]:
    """An hour's trades by seller and device, in the order given."""
    grouped: dict[tuple[str, str], list[SoldTrade]] = {}
    for trade in trades:
        grouped.setdefault((trade.seller_id, trade.device_id), []).append(trade)
    return grouped


def settle_hour(
    trades: list[SoldTrade], delivered: dict[str, int], factor: Decimal
) -> list[SellerSettlement]:
    """Settle every seller of an hour; ``delivered`` is Wh per device."""
    return [
        settle_seller(group, delivered[device_id], factor)
        for (_, device_id), group in sellers(trades).items()
    ]
