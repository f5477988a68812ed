"""Routes of trading."""

from gateway.requests import Callers
from services.common.rpc import TimedRpcProxy


class TradingRoutes(Callers):
    trading_rpc = TimedRpcProxy("trading")
