"""The public API: every route as a row (``gateway/route.py``), one module per area."""

from gateway.api import accounts, batteries, devices, platform

ROUTES = accounts.ROUTES + devices.ROUTES + platform.ROUTES + batteries.ROUTES
