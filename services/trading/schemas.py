"""How orders, trades, books, balances and settlements are loaded from requests and
dumped on the wire.

On the wire energy is ``*_kwh`` and prices ``*_per_kwh``, JSON numbers; inside they
are whole Wh and whole ten-thousandths of the currency per kWh (``FixedPoint``).
Money is a JSON number to 7 decimal places. Schema names start with ``Trading``:
apispec finds schemas by class name, shared by every service.
"""

import math
from datetime import UTC
from decimal import Decimal

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from services.common.schemas import ID, InputSchema, UtcDateTime
from services.trading.logic import (
    ENERGY_PLACES,
    MONEY_PLACES,
    PRICE_PLACES,
    is_hour_start,
)
from services.trading.matching import BUY, SELL, SIDES
from services.trading.models import STATUSES

#: The largest order: 1000 kWh at 100 per kWh.
MAX_WH = 1_000_000
MAX_PRICE = 100 * 10**PRICE_PLACES
DEFAULT_LIMIT = 100
LIMIT = validate.Range(min=1, max=500)


class FixedPoint(fields.Field):
    """A JSON number with at most ``places`` decimals, held as a whole number of
    ``10**-places`` units: ``0.2512`` with 4 places is ``2512``.

    Input must be a number (not text, not a boolean) that needs no rounding, so
    nothing a user asked for is changed silently.
    """

    default_error_messages = {
        "invalid": "Not a valid number.",
        "places": "At most {places} decimal places.",
    }

    def __init__(self, places: int, **kwargs):
        self.places = places
        kwargs["metadata"] = {"type": "number", **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return float(Decimal(value).scaleb(-self.places))

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.make_error("invalid")
        # repr() is the shortest text that reads back as the same float, so 0.1
        # becomes Decimal("0.1"), not the binary fraction nearest to it.
        scaled = Decimal(repr(value) if isinstance(value, float) else value).scaleb(
            self.places
        )
        if scaled != scaled.to_integral_value():
            raise self.make_error("places", places=self.places)
        return int(scaled)


class Money(fields.Field):
    """An amount of money as a JSON number, to the 7 places it is kept with."""

    def __init__(self, **kwargs):
        kwargs["metadata"] = {"type": "number", **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else round(float(value), MONEY_PLACES)


def energy(**kwargs) -> FixedPoint:
    """kWh on the wire, with 3 decimals (whole Wh) inside."""
    kwargs.setdefault("metadata", {"description": "kWh, at most 3 decimals"})
    return FixedPoint(ENERGY_PLACES, **kwargs)


def price(**kwargs) -> FixedPoint:
    """Currency per kWh on the wire, with 4 decimals inside."""
    kwargs.setdefault(
        "metadata", {"description": "currency per kWh, at most 4 decimals"}
    )
    return FixedPoint(PRICE_PLACES, **kwargs)


class DeliveryHour(UtcDateTime):
    """The start of a UTC hour, ISO-8601 with a time zone; loaded in UTC."""

    default_error_messages = {
        "hour": "Must be the start of an hour (minutes and seconds 0).",
        "range": "Out of range.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "metadata", {"description": "start of the UTC delivery hour, ISO-8601"}
        )
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            hour = moment.astimezone(UTC)
        except OverflowError as exc:  # 0001-01-01T00:00+01:00 is before year 1
            raise self.make_error("range") from exc
        if not is_hour_start(hour):
            raise self.make_error("hour")
        return hour


# -- input -------------------------------------------------------------------------


class TradingOrderCreateSchema(InputSchema):
    """``POST /api/trading/orders``. A sell order names the seller's device (pv or
    battery) whose metered energy in the hour is what they deliver."""

    side = fields.String(required=True, validate=validate.OneOf(SIDES))
    delivery_hour = DeliveryHour(required=True)
    price = price(
        data_key="price_per_kwh",
        required=True,
        validate=validate.Range(
            min=1,
            max=MAX_PRICE,
            error=f"must be more than 0 and at most {MAX_PRICE // 10**PRICE_PLACES}",
        ),
    )
    quantity = energy(
        data_key="quantity_kwh",
        required=True,
        validate=validate.Range(
            min=1,
            max=MAX_WH,
            error=f"must be more than 0 and at most {MAX_WH // 10**ENERGY_PLACES}",
        ),
    )
    device_id = fields.String(
        validate=ID, metadata={"description": "required for sell, refused for buy"}
    )

    @validates_schema
    def device_for_sellers(self, data, **kwargs):
        if data.get("side") == SELL and "device_id" not in data:
            raise ValidationError(
                "a sell order names the device that delivers", "device_id"
            )
        if data.get("side") == BUY and "device_id" in data:
            raise ValidationError("only sell orders name a device", "device_id")


#: How a query names an hour, in the OpenAPI document.
AN_HOUR = {"description": "start of a UTC hour, e.g. 2026-11-23T12:00:00Z"}


class TradingOrderQuerySchema(InputSchema):
    """``GET /api/trading/orders``."""

    status = fields.String(validate=validate.OneOf(STATUSES))
    delivery_hour = DeliveryHour(metadata=AN_HOUR)
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=LIMIT)


class TradingTradeQuerySchema(InputSchema):
    """``GET /api/trading/trades``."""

    delivery_hour = DeliveryHour()
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=LIMIT)


class TradingHourQuerySchema(InputSchema):
    """``GET /api/trading/book``."""

    delivery_hour = DeliveryHour(required=True, metadata=AN_HOUR)


class TradingSettleQuerySchema(InputSchema):
    """``POST /api/trading/settle``."""

    delivery_hour = DeliveryHour(
        required=True, metadata={"description": "start of a UTC hour that has ended"}
    )


# -- output ------------------------------------------------------------------------


class TradingOrderSchema(Schema):
    id = fields.String()
    user_id = fields.String()
    side = fields.String(metadata={"enum": list(SIDES)})
    delivery_hour = UtcDateTime()
    price = price(data_key="price_per_kwh")
    quantity = energy(data_key="quantity_kwh")
    remaining = energy(data_key="remaining_kwh")
    filled = energy(data_key="filled_kwh")
    status = fields.String(metadata={"enum": list(STATUSES)})
    cancel_reason = fields.String(
        allow_none=True,
        metadata={"enum": ["user", "self_trade", "user_deleted", None]},
    )
    device_id = fields.String(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class TradingTradeSchema(Schema):
    """A trade, and ``data`` of the ``trade.executed`` push to both parties."""

    id = fields.String()
    delivery_hour = UtcDateTime()
    price = price(data_key="price_per_kwh")
    quantity = energy(data_key="quantity_kwh")
    amount = Money(metadata={"description": "what the buyer pays the seller"})
    buy_order_id = fields.String()
    sell_order_id = fields.String()
    buyer_id = fields.String()
    seller_id = fields.String()
    device_id = fields.String(metadata={"description": "the seller's device"})
    executed_at = UtcDateTime()


class TradingPlacementSchema(Schema):
    """The placed order as it stands after matching, and the trades it made."""

    order = fields.Nested(TradingOrderSchema)
    trades = fields.List(fields.Nested(TradingTradeSchema))


class TradingLevelSchema(Schema):
    price = price(data_key="price_per_kwh")
    quantity = energy(data_key="quantity_kwh")
    orders = fields.Integer()


class TradingBookSchema(Schema):
    """One delivery hour's open orders by price: bids highest first, asks lowest
    first; no user ids."""

    delivery_hour = UtcDateTime()
    bids = fields.List(fields.Nested(TradingLevelSchema))
    asks = fields.List(fields.Nested(TradingLevelSchema))


class TradingBalanceSchema(Schema):
    cash = Money(metadata={"description": "received − paid, penalties included"})
    bought = energy(data_key="bought_kwh")
    sold = energy(data_key="sold_kwh")
    shortfall = energy(
        data_key="shortfall_kwh",
        metadata={"description": "kWh sold but not delivered (settled hours)"},
    )
    net_energy = energy(
        data_key="net_energy_kwh",
        metadata={"description": "bought − sold, less shortfalls on either side"},
    )
    penalties_paid = Money()
    penalties_received = Money()


class TradingSellerSettlementSchema(Schema):
    seller_id = fields.String()
    device_id = fields.String()
    sold = energy(data_key="sold_kwh")
    delivered = energy(data_key="delivered_kwh")
    shortfall = energy(data_key="shortfall_kwh")
    penalty = Money()


class TradingSettlementSchema(Schema):
    delivery_hour = UtcDateTime()
    sellers = fields.List(fields.Nested(TradingSellerSettlementSchema))
