"""The public API: every route as a row (``gateway/route.py``), one module per area."""

from gateway.api import directory, dr

ROUTES = directory.ROUTES + dr.ROUTES
