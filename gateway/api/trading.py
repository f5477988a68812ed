"""Routes of trading: orders, the book, trades, balances and settlement, under
``/api/trading``. A user sees and cancels only their own orders and trades;
another user's order answers 404 like a missing one."""

from gateway.route import SIGNED_IN, Route, only
from gateway.schemas import ErrorSchema
from services.trading import schemas

ROUTES = (
    Route(
        "POST",
        "/api/trading/orders",
        SIGNED_IN,
        "trading.place_order",
        tag="trading",
        summary="Place an order",
        description=(
            "Place a limit order to buy or sell energy for a future UTC hour. It is "
            "matched at once against the hour's book (best price first, then "
            "oldest, at the resting order's price, partly if need be); what is "
            "left rests in the book. A sell order names the seller's own pv or "
            "battery device: what it meters in the hour is what they deliver. An "
            "order that would trade with its owner's own resting order is "
            "cancelled (``cancel_reason: self_trade``) after any fills before it. "
            "Each trade is also pushed over ``/ws`` as ``trade.executed`` to both "
            "parties. A user may have ``EMS_MAX_OPEN_ORDERS_PER_USER`` open orders "
            "at once."
        ),
        body=schemas.TradingOrderCreateSchema,
        example_body={
            "side": "sell",
            "delivery_hour": "2026-11-23T12:00:00Z",
            "price_per_kwh": 0.25,
            "quantity_kwh": 2.5,
            "device_id": "7a2e…",
        },
        status=201,
        returns=schemas.TradingPlacementSchema,
        returns_description="the order after matching, and the trades it made",
        example={
            "order": {
                "id": "3f9a…",
                "user_id": "9b2f…",
                "side": "sell",
                "delivery_hour": "2026-11-23T12:00:00Z",
                "price_per_kwh": 0.25,
                "quantity_kwh": 2.5,
                "remaining_kwh": 1.5,
                "filled_kwh": 1.0,
                "status": "open",
                "cancel_reason": None,
                "device_id": "7a2e…",
                "created_at": "2026-11-22T18:50:00Z",
                "updated_at": "2026-11-22T18:50:00Z",
            },
            "trades": [
                {
                    "id": "51c0…",
                    "delivery_hour": "2026-11-23T12:00:00Z",
                    "price_per_kwh": 0.27,
                    "quantity_kwh": 1.0,
                    "amount": 0.27,
                    "buy_order_id": "8d1e…",
                    "sell_order_id": "3f9a…",
                    "buyer_id": "4c3d…",
                    "seller_id": "9b2f…",
                    "device_id": "7a2e…",
                    "executed_at": "2026-11-22T18:50:00Z",
                }
            ],
        },
        errors={
            404: "NotFound",
            409: {
                "description": "the caller already has as many open orders as a "
                "user may (`details.limit`); cancel one or wait for one to fill",
                "content": {
                    "application/json": {
                        "schema": ErrorSchema,
                        "example": {
                            "error": "CONFLICT",
                            "details": {"limit": 100},
                            "message": "a user may have at most 100 open orders; "
                            "cancel one or wait for one to fill",
                        },
                    }
                },
            },
        },
    ),
    Route(
        "GET",
        "/api/trading/orders",
        SIGNED_IN,
        "trading.list_orders",
        tag="trading",
        summary="List my orders",
        description="The caller's orders, newest first.",
        query=schemas.TradingOrderQuerySchema,
        returns=[schemas.TradingOrderSchema],
        returns_description="the orders",
    ),
    Route(
        "GET",
        "/api/trading/orders/<string:order_id>",
        SIGNED_IN,
        "trading.get_order",
        tag="trading",
        summary="Get my order",
        description="One of the caller's orders.",
        returns=schemas.TradingOrderSchema,
        returns_description="the order",
    ),
    Route(
        "DELETE",
        "/api/trading/orders/<string:order_id>",
        SIGNED_IN,
        "trading.cancel_order",
        tag="trading",
        summary="Cancel my order",
        description=(
            "Cancel one of the caller's open orders: what is left of it leaves the "
            "book; trades it made stand."
        ),
        returns=schemas.TradingOrderSchema,
        returns_description="the cancelled order",
        example={
            "id": "3f9a…",
            "status": "cancelled",
            "cancel_reason": "user",
            "remaining_kwh": 1.5,
            "filled_kwh": 1.0,
        },
        errors={409: "Conflict"},
    ),
    Route(
        "GET",
        "/api/trading/book",
        SIGNED_IN,
        "trading.book",
        tag="trading",
        summary="Order book of an hour",
        description=(
            "The open orders of one delivery hour by price, without their owners: "
            "bids highest first, asks lowest first."
        ),
        query=schemas.TradingHourQuerySchema,
        returns=schemas.TradingBookSchema,
        returns_description="the book",
        example={
            "delivery_hour": "2026-11-23T12:00:00Z",
            "bids": [{"price_per_kwh": 0.24, "quantity_kwh": 3.0, "orders": 2}],
            "asks": [{"price_per_kwh": 0.27, "quantity_kwh": 1.5, "orders": 1}],
        },
    ),
    Route(
        "GET",
        "/api/trading/trades",
        SIGNED_IN,
        "trading.list_trades",
        tag="trading",
        summary="List my trades",
        description="The trades the caller bought or sold in, newest first.",
        query=schemas.TradingTradeQuerySchema,
        returns=[schemas.TradingTradeSchema],
        returns_description="the trades",
    ),
    Route(
        "GET",
        "/api/trading/balance",
        SIGNED_IN,
        "trading.balance",
        tag="trading",
        summary="My balance",
        description=(
            "The caller's account: money received less paid (penalties included), "
            "energy bought and sold, and what settlement found undelivered."
        ),
        returns=schemas.TradingBalanceSchema,
        returns_description="the balance",
        example={
            "cash": -0.405,
            "bought_kwh": 1.5,
            "sold_kwh": 0.0,
            "shortfall_kwh": 0.0,
            "net_energy_kwh": 1.0,
            "penalties_paid": 0.0,
            "penalties_received": 0.135,
        },
    ),
    Route(
        "POST",
        "/api/trading/settle",
        only("ADMIN"),
        "trading.settle",
        tag="trading",
        summary="Settle an hour",
        description=(
            "Settle a delivery hour that has ended, now rather than when the timer "
            "would (``settle_delay_minutes``, 15, after it ends). Each seller's "
            "delivery is what their device exported in the hour (its metered "
            "``export_kwh``, not the energy it drew); each kWh they sold "
            "beyond it costs them ``penalty_factor`` (1.5) times its trade price, "
            "paid to the buyers in proportion to what they bought. Settling an "
            "hour again answers the stored settlement. ADMIN only."
        ),
        query=schemas.TradingSettleQuerySchema,
        returns=schemas.TradingSettlementSchema,
        returns_description="the settlement of each seller's device",
        example={
            "delivery_hour": "2026-11-22T12:00:00Z",
            "sellers": [
                {
                    "seller_id": "9b2f…",
                    "device_id": "7a2e…",
                    "sold_kwh": 2.0,
                    "delivered_kwh": 1.7,
                    "shortfall_kwh": 0.3,
                    "penalty": 0.1215,
                }
            ],
        },
        errors={409: "Conflict"},
        passes=("client",),
    ),
)
