"""Dashboards and reports: a site's or a portfolio's figures now, and a site's
month as a PDF (``services/monitoring/dashboards.py``)."""

from gateway.api.energy import ACCESS
from gateway.route import SIGNED_IN, Route
from services.monitoring.schemas import KpiQuerySchema, KpiSchema, ReportQuerySchema

ROUTES = (
    Route(
        "GET",
        "/api/kpis",
        SIGNED_IN,
        "monitoring.kpis",
        tag="energy",
        summary="A site's or the portfolio's figures now",
        description=(
            "What a dashboard opens with, for a ``site`` (``id``) or the caller's "
            "``portfolio``: energy, cost and CO2 today and this month (the site's "
            "own day and month; across a portfolio each site's, summed), the "
            "hour of most import today, self-consumption (the share of PV "
            "generation used on site) and self-sufficiency (the share of "
            "consumption covered by it), matched hour by hour and null without "
            "generation, the online devices' power summed, devices online and "
            "offline, alerts of the last 24 hours, the battery fleet's capacity "
            "and charge, and the flexibility available now (battery discharge "
            "for up to an hour and switchable loads' draw). A portfolio lists "
            "each site's figures in ``sites``. " + ACCESS
        ),
        query=KpiQuerySchema,
        returns=KpiSchema,
        returns_description="the figures",
        errors={404: "NotFound"},
    ),
    Route(
        "GET",
        "/api/sites/<string:site_id>/report.pdf",
        SIGNED_IN,
        "gateway.site_report",
        tag="energy",
        summary="A site's monthly report (PDF)",
        description=(
            "A site's month (``month``, ``YYYY-MM`` in its time zone; the last "
            "whole month by default) as a PDF: energy in and out, net, cost and "
            "CO2, each day as a chart and a table, the peak hour and the alerts. "
            "Its figures are ``/api/energy``'s at daily resolution. " + ACCESS
        ),
        query=ReportQuerySchema,
        returns_description="application/pdf attachment",
        errors={404: "NotFound"},
    ),
)
