"""The public API: every route as a row (``gateway/route.py``), one module per area."""

from gateway.api import accounts, devices, platform, trading

ROUTES = accounts.ROUTES + devices.ROUTES + trading.ROUTES + platform.ROUTES
