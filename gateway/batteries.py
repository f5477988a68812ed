"""Routes of batteries."""

from gateway.requests import Callers
from services.common.rpc import TimedRpcProxy


class BatteryRoutes(Callers):
    batteries_rpc = TimedRpcProxy("batteries")
