"""The public API: every route as a row (``gateway/route.py``), one module per area."""

from gateway.api import (
    accounts,
    alarms,
    audit,
    batteries,
    consumption,
    dead_letters,
    device_status,
    devices,
    directory,
    dr,
    energy,
    generation,
    kpis,
    platform,
    sites,
    support,
    trading,
)

ROUTES = (
    accounts.ROUTES
    + directory.ROUTES
    + sites.ROUTES
    + devices.ROUTES
    + device_status.ROUTES
    + consumption.ROUTES
    + energy.ROUTES
    + kpis.ROUTES
    + alarms.ROUTES
    + generation.ROUTES
    + batteries.ROUTES
    + dr.ROUTES
    + trading.ROUTES
    + support.ROUTES
    + dead_letters.ROUTES
    + audit.ROUTES
    + platform.ROUTES
)
