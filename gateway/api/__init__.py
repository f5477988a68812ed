"""The public API: every route as a row (``gateway/route.py``), one module per area."""

from gateway.api import accounts, devices, directory, dr, platform

ROUTES = (
    accounts.ROUTES + directory.ROUTES + devices.ROUTES + dr.ROUTES + platform.ROUTES
)
