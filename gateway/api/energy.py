"""Routes of energy over a range: drawn, exported, net, cost and CO2 of a device, a
room, a site or the caller's portfolio by hour, day or month
(``services/monitoring``), and the same, or a device's raw readings, as CSV files
streamed page by page (``gateway/exports.py``)."""

from gateway.route import SIGNED_IN, Route
from services.monitoring.schemas import (
    EnergyQuerySchema,
    EnergySchema,
    ReadingsExportQuerySchema,
)

ACCESS = (
    "A device's figures are its owner's; a site's, its rooms' and its devices' "
    "are its members'; ADMIN, OPERATOR and VIEWER read everything. One out of "
    "reach is missing (404)."
)

ROUTES = (
    Route(
        "GET",
        "/api/energy",
        SIGNED_IN,
        "monitoring.energy",
        tag="energy",
        summary="Energy, cost and CO2 over a range",
        description=(
            "Energy drawn (``import_kwh``) and fed to the grid (``export_kwh``), "
            "``net_kwh`` (import less export), ``cost`` and ``co2_kg`` of a "
            "``device``, ``room``, ``site`` (``id``) or the caller's "
            "``portfolio`` (every site they may read and every device they own), "
            "by ``hour`` (UTC hours) or local ``day`` or ``month`` of the site's "
            "time zone. A UTC hour counts in the local day it starts in. Cost is "
            "the import at the import price less the export at the export price "
            "of the site's tariff at that local hour; CO2 is the import times the "
            "site's intensity; both always by the site's current tariff and "
            "intensity. ``from`` and ``to`` (excluded) are local dates or "
            "datetimes; by default today (hour), this month (day), this year "
            "(month). Figures are exact decimal text. A portfolio's days are "
            "summed by date, each site's own; across time zones ``timezone`` is "
            "null and buckets are labelled by date, across currencies ``cost`` "
            "is null. " + ACCESS
        ),
        query=EnergyQuerySchema,
        returns=EnergySchema,
        returns_description="every bucket of the range, oldest first, and totals",
        example={
            "scope": "site",
            "id": "3c9e…",
            "resolution": "day",
            "timezone": "Europe/Berlin",
            "currency": "EUR",
            "from": "2026-03-29T00:00:00+01:00",
            "to": "2026-03-30T00:00:00+02:00",
            "series": [
                {
                    "start": "2026-03-29T00:00:00+01:00",
                    "import_kwh": "9.87",
                    "export_kwh": "6.12",
                    "net_kwh": "3.75",
                    "cost": "2.4714",
                    "co2_kg": "3.7506",
                }
            ],
            "totals": {
                "import_kwh": "9.87",
                "export_kwh": "6.12",
                "net_kwh": "3.75",
                "cost": "2.4714",
                "co2_kg": "3.7506",
            },
        },
        errors={404: "NotFound"},
    ),
    Route(
        "GET",
        "/api/export/energy.csv",
        SIGNED_IN,
        "gateway.export_energy",
        tag="energy",
        summary="Energy over a range as CSV",
        description=(
            "``/api/energy``'s series as a CSV file (UTF-8, a header row: start, "
            "import_kwh, export_kwh, net_kwh, cost, co2_kg), streamed as it is "
            "read, page by page. Same parameters and access as ``/api/energy``."
        ),
        query=EnergyQuerySchema,
        returns_description="text/csv attachment",
        errors={404: "NotFound"},
    ),
    Route(
        "GET",
        "/api/export/readings.csv",
        SIGNED_IN,
        "gateway.export_readings",
        tag="energy",
        summary="A device's raw readings as CSV",
        description=(
            "A device's readings stamped in ``[from, to)`` (dates or datetimes, "
            "UTC without an offset; by default the last day, at most 366 days) "
            "as a CSV file (UTF-8, a header row: timestamp, reading_id, kwh, "
            "export_kwh, power_w, soc_kwh), oldest first, streamed page by page. "
            "Raw readings are kept for the retention window only "
            "(``READINGS_RETENTION_DAYS``, 90 days by default): older ones are "
            "gone, and only their hourly totals remain (``/api/energy``). " + ACCESS
        ),
        query=ReadingsExportQuerySchema,
        returns_description="text/csv attachment",
        errors={404: "NotFound"},
    ),
)
