"""trading: the peer-to-peer energy market."""

from services.common.health import HealthMixin


class TradingService(HealthMixin):
    name = "trading"
