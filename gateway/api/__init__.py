"""The public API: every route as a row (``gateway/route.py``), one module per area."""

from gateway.api import consumption, dead_letters, support

ROUTES = consumption.ROUTES + dead_letters.ROUTES + support.ROUTES
