"""Routes of the consumption forecasts."""

from gateway.requests import Callers


class ForecastRoutes(Callers):
    pass
