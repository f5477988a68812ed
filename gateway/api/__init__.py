"""The public API: every route as a row (``gateway/route.py``), one module per area."""

from gateway.api import accounts, batteries, devices, platform, trading

ROUTES = (
    accounts.ROUTES
    + devices.ROUTES
    + batteries.ROUTES
    + trading.ROUTES
    + platform.ROUTES
)
