"""The public API: every route as a row (``gateway/route.py``), one module per area."""

from gateway.api import directory

ROUTES = directory.ROUTES
