"""Routes of dr."""

from gateway.requests import Callers
from services.common.rpc import TimedRpcProxy


class DrRoutes(Callers):
    dr_rpc = TimedRpcProxy("dr")
