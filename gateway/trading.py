"""Routes of trading: orders, the book, trades, balances and settlement, under
``/api/trading``. A user sees and cancels only their own orders and trades;
another user's order answers 404 like a missing one.
"""

# Imported so that RPC hands trading's exceptions back as themselves.
import services.trading.exceptions  # noqa: F401
from gateway.requests import Callers, read_json, read_query
from services.common.errors import EXPECTED
from services.common.http import http, json_response
from services.common.rpc import TimedRpcProxy
from services.common.topology import iso_utc
from services.trading import logic
from services.trading.schemas import (
    TradingHourQuerySchema,
    TradingOrderCreateSchema,
    TradingOrderQuerySchema,
    TradingTradeQuerySchema,
)


def _hour(query: dict) -> str | None:
    hour = query.get("delivery_hour")
    return None if hour is None else iso_utc(hour)


class TradingRoutes(Callers):
    trading_rpc = TimedRpcProxy("trading")

    @http("POST", "/api/trading/orders", expected_exceptions=EXPECTED)
    def place_trading_order(self, request):
        """Place a limit order to buy or sell energy for a future UTC hour. It is
        matched at once against the hour's book (best price first, then oldest, at
        the resting order's price, partly if need be); what is left rests in the
        book. A sell order names the seller's own pv or battery device: what it
        meters in the hour is what they deliver. An order that would trade with
        its owner's own resting order is cancelled (``cancel_reason:
        self_trade``) after any fills before it. Each trade is also pushed over
        ``/ws`` as ``trade.executed`` to both parties. A user may have
        ``EMS_MAX_OPEN_ORDERS_PER_USER`` open orders at once.
        ---
        post:
          tags: [trading]
          summary: Place an order
          requestBody:
            required: true
            content:
              application/json:
                schema: TradingOrderCreateSchema
                example: {side: sell, delivery_hour: "2026-11-23T12:00:00Z",
                          price_per_kwh: 0.25, quantity_kwh: 2.5, device_id: 7a2e…}
          responses:
            201:
              description: the order after matching, and the trades it made
              content:
                application/json:
                  schema: TradingPlacementSchema
                  example: {order: {id: 3f9a…, user_id: 9b2f…, side: sell,
                                    delivery_hour: "2026-11-23T12:00:00Z",
                                    price_per_kwh: 0.25, quantity_kwh: 2.5,
                                    remaining_kwh: 1.5, filled_kwh: 1.0,
                                    status: open, cancel_reason: null,
                                    device_id: 7a2e…,
                                    created_at: "2026-11-22T18:50:00Z",
                                    updated_at: "2026-11-22T18:50:00Z"},
                            trades: [{id: 51c0…, delivery_hour: "2026-11-23T12:00:00Z",
                                      price_per_kwh: 0.27, quantity_kwh: 1.0,
                                      amount: 0.27, buy_order_id: 8d1e…,
                                      sell_order_id: 3f9a…, buyer_id: 4c3d…,
                                      seller_id: 9b2f…, device_id: 7a2e…,
                                      executed_at: "2026-11-22T18:50:00Z"}]}
            400: BadRequest
            401: Unauthorized
            404: NotFound
            409:
              description: the caller already has as many open orders as a user may
                (`details.limit`); cancel one or wait for one to fill
              content:
                application/json:
                  schema: ErrorSchema
                  example: {error: CONFLICT, details: {limit: 100},
                            message: "a user may have at most 100 open orders; cancel
                              one or wait for one to fill"}
        """
        caller = self._caller(request)
        schema = TradingOrderCreateSchema()
        order = read_json(request, schema)
        if order["side"] == "sell":
            device = self.devices_rpc.get_device(caller, order["device_id"])
            logic.check_selling_device(device, caller["user_id"])
        return json_response(
            201, self.trading_rpc.place_order(schema.dump(order), caller["user_id"])
        )

    @http("GET", "/api/trading/orders", expected_exceptions=EXPECTED)
    def list_trading_orders(self, request):
        """The caller's orders, newest first.
        ---
        get:
          tags: [trading]
          summary: List my orders
          parameters:
            - {in: query, name: status,
               schema: {type: string, enum: [open, filled, cancelled, expired]}}
            - {in: query, name: delivery_hour, schema: {type: string,
               format: date-time}, description: "start of a UTC hour, e.g.
               2026-11-23T12:00:00Z"}
            - {in: query, name: limit, schema: {type: integer, minimum: 1,
                                                maximum: 500, default: 100}}
          responses:
            200:
              description: the orders
              content:
                application/json:
                  schema: {type: array, items: TradingOrderSchema}
            400: BadRequest
            401: Unauthorized
        """
        caller = self._caller(request)
        query = read_query(request, TradingOrderQuerySchema())
        return json_response(
            200,
            self.trading_rpc.list_orders(
                caller["user_id"], query.get("status"), _hour(query), query["limit"]
            ),
        )

    @http("GET", "/api/trading/orders/<string:order_id>", expected_exceptions=EXPECTED)
    def get_trading_order(self, request, order_id):
        """One of the caller's orders.
        ---
        get:
          tags: [trading]
          summary: Get my order
          parameters:
            - {in: path, name: order_id, required: true, schema: {type: string}}
          responses:
            200:
              description: the order
              content: {application/json: {schema: TradingOrderSchema}}
            401: Unauthorized
            404: NotFound
        """
        caller = self._caller(request)
        return json_response(
            200, self.trading_rpc.get_order(order_id, caller["user_id"])
        )

    @http(
        "DELETE", "/api/trading/orders/<string:order_id>", expected_exceptions=EXPECTED
    )
    def cancel_trading_order(self, request, order_id):
        """Cancel one of the caller's open orders: what is left of it leaves the
        book; trades it made stand.
        ---
        delete:
          tags: [trading]
          summary: Cancel my order
          parameters:
            - {in: path, name: order_id, required: true, schema: {type: string}}
          responses:
            200:
              description: the cancelled order
              content:
                application/json:
                  schema: TradingOrderSchema
                  example: {id: 3f9a…, status: cancelled, cancel_reason: user,
                            remaining_kwh: 1.5, filled_kwh: 1.0}
            401: Unauthorized
            404: NotFound
            409: Conflict
        """
        caller = self._caller(request)
        return json_response(
            200, self.trading_rpc.cancel_order(order_id, caller["user_id"])
        )

    @http("GET", "/api/trading/book", expected_exceptions=EXPECTED)
    def trading_book(self, request):
        """The open orders of one delivery hour by price, without their owners:
        bids highest first, asks lowest first.
        ---
        get:
          tags: [trading]
          summary: Order book of an hour
          parameters:
            - {in: query, name: delivery_hour, required: true,
               schema: {type: string, format: date-time},
               description: "start of a UTC hour, e.g. 2026-11-23T12:00:00Z"}
          responses:
            200:
              description: the book
              content:
                application/json:
                  schema: TradingBookSchema
                  example: {delivery_hour: "2026-11-23T12:00:00Z",
                            bids: [{price_per_kwh: 0.24, quantity_kwh: 3.0,
                                    orders: 2}],
                            asks: [{price_per_kwh: 0.27, quantity_kwh: 1.5,
                                    orders: 1}]}
            400: BadRequest
            401: Unauthorized
        """
        self._caller(request)
        query = read_query(request, TradingHourQuerySchema())
        return json_response(200, self.trading_rpc.book(_hour(query)))

    @http("GET", "/api/trading/trades", expected_exceptions=EXPECTED)
    def list_trading_trades(self, request):
        """The trades the caller bought or sold in, newest first.
        ---
        get:
          tags: [trading]
          summary: List my trades
          parameters:
            - {in: query, name: delivery_hour, schema: {type: string,
               format: date-time}}
            - {in: query, name: limit, schema: {type: integer, minimum: 1,
                                                maximum: 500, default: 100}}
          responses:
            200:
              description: the trades
              content:
                application/json:
                  schema: {type: array, items: TradingTradeSchema}
            400: BadRequest
            401: Unauthorized
        """
        caller = self._caller(request)
        query = read_query(request, TradingTradeQuerySchema())
        return json_response(
            200,
            self.trading_rpc.list_trades(
                caller["user_id"], _hour(query), query["limit"]
            ),
        )

    @http("GET", "/api/trading/balance", expected_exceptions=EXPECTED)
    def trading_balance(self, request):
        """The caller's account: money received less paid (penalties included),
        energy bought and sold, and what settlement found undelivered.
        ---
        get:
          tags: [trading]
          summary: My balance
          responses:
            200:
              description: the balance
              content:
                application/json:
                  schema: TradingBalanceSchema
                  example: {cash: -0.405, bought_kwh: 1.5, sold_kwh: 0.0,
                            shortfall_kwh: 0.0, net_energy_kwh: 1.0,
                            penalties_paid: 0.0, penalties_received: 0.135}
            401: Unauthorized
        """
        caller = self._caller(request)
        return json_response(200, self.trading_rpc.balance(caller["user_id"]))

    @http("POST", "/api/trading/settle", expected_exceptions=EXPECTED)
    def settle_trading_hour(self, request):
        """Settle a delivery hour that has ended, now rather than when the timer
        would (``settle_delay_minutes``, 15, after it ends). Each seller's
        delivery is what their device metered in the hour; each kWh they sold
        beyond it costs them ``penalty_factor`` (1.5) times its trade price, paid
        to the buyers in proportion to what they bought.
        Settling an hour again answers the stored settlement. ADMIN only.
        ---
        post:
          tags: [trading]
          summary: Settle an hour
          parameters:
            - {in: query, name: delivery_hour, required: true,
               schema: {type: string, format: date-time},
               description: "start of a UTC hour that has ended"}
          responses:
            200:
              description: the settlement of each seller's device
              content:
                application/json:
                  schema: TradingSettlementSchema
                  example: {delivery_hour: "2026-11-22T12:00:00Z",
                            sellers: [{seller_id: 9b2f…, device_id: 7a2e…,
                                       sold_kwh: 2.0, delivered_kwh: 1.7,
                                       shortfall_kwh: 0.3, penalty: 0.1215}]}
            400: BadRequest
            401: Unauthorized
            403: Forbidden
            409: Conflict
        """
        self._caller(request, "ADMIN")
        query = read_query(request, TradingHourQuerySchema())
        return json_response(200, self.trading_rpc.settle(_hour(query)))
