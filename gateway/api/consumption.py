"""Routes of a device's consumption: a day hour by hour, the forecast of its next
hours and how well that forecast would have done (``services/monitoring``), and the
caller's overconsumption notifications."""

from gateway.route import SIGNED_IN, Route
from services.monitoring.schemas import (
    BacktestQuerySchema,
    BacktestSchema,
    ConsumptionDaySchema,
    ConsumptionQuerySchema,
    ForecastQuerySchema,
    ForecastSchema,
    NotificationQuerySchema,
    NotificationSchema,
)

ROUTES = (
    Route(
        "GET",
        "/api/consumption/day",
        SIGNED_IN,
        "monitoring.consumption_day",
        tag="consumption",
        summary="Hourly consumption of one day",
        description=(
            "A device's energy in each UTC hour of a day: its owner's, or any "
            "device's for ADMIN, OPERATOR and VIEWER. ``kwh`` is the energy drawn "
            "from the grid, ``export_kwh`` the energy generated or fed to it, "
            "counted apart. Hours without readings are 0."
        ),
        query=ConsumptionQuerySchema,
        returns=ConsumptionDaySchema,
        returns_description="24 hours, oldest first",
        example={
            "device_id": "7a2e…",
            "date": "2026-11-22",
            "unit": "kWh",
            "hours": [
                {"hour": "2026-11-22T00:00:00Z", "kwh": 0.42, "export_kwh": 0.0},
                {"hour": "2026-11-22T12:00:00Z", "kwh": 0.05, "export_kwh": 1.3},
            ],
            "total_kwh": 9.87,
            "total_export_kwh": 6.12,
        },
        errors={404: "NotFound"},
    ),
    Route(
        "GET",
        "/api/forecast/consumption",
        SIGNED_IN,
        "monitoring.forecast",
        tag="consumption",
        summary="Hourly consumption forecast",
        description=(
            "A device's forecast energy in each of the next UTC hours, from the "
            "current one on: its owner's, or any device's for ADMIN, OPERATOR and "
            "VIEWER. Learned from the device's last 28 days; with less than two "
            "days of history a simpler method is used and ``fallback`` is true."
        ),
        query=ForecastQuerySchema,
        returns=ForecastSchema,
        returns_description="one entry per hour, oldest first",
        example={
            "device_id": "7a2e…",
            "unit": "kWh",
            "method": "profile",
            "fallback": False,
            "note": "weighted median of the same hour of the day …",
            "history_hours": 672,
            "generated_at": "2026-11-22T10:37:12Z",
            "hours": [
                {"hour": "2026-11-22T10:00:00Z", "kwh": 0.11},
                {"hour": "2026-11-22T11:00:00Z", "kwh": 0.14},
            ],
        },
        errors={404: "NotFound"},
    ),
    Route(
        "GET",
        "/api/forecast/backtest",
        SIGNED_IN,
        "monitoring.backtest",
        tag="consumption",
        summary="Backtest of the consumption forecast",
        description=(
            "How the forecast would have done on the device's last six weeks, "
            "against seasonal-naive (the same hour a week earlier, or a day with "
            "less than a week): each forecasts ``horizon`` hours from up to 14 "
            "origins a day apart, seeing only the hours before. MAE in kWh; MAPE "
            "in percent over the hours whose actual is above zero. Same access as "
            "the forecast."
        ),
        query=BacktestQuerySchema,
        returns=BacktestSchema,
        returns_description="the errors of both forecasts on the same hours",
        example={
            "device_id": "7a2e…",
            "unit": "kWh",
            "horizon": 24,
            "folds": 14,
            "hours_evaluated": 336,
            "hours_excluded_from_mape": 0,
            "history_hours": 1008,
            "min_history_hours": 192,
            "seasonal_period_hours": 168,
            "model": {"method": "profile", "mae": 0.038, "mape": 7.6},
            "seasonal_naive": {
                "method": "same hour 168 h earlier",
                "mae": 0.072,
                "mape": 23.6,
            },
            "skill": 0.47,
            "note": "14 forecasts of 24 h, issued a day apart, …",
            "generated_at": "2026-11-22T10:37:12Z",
        },
        errors={404: "NotFound"},
    ),
    Route(
        "GET",
        "/api/notifications",
        SIGNED_IN,
        "monitoring.list_notifications",
        tag="consumption",
        summary="Notifications",
        description="The caller's overconsumption notifications, newest first.",
        query=NotificationQuerySchema,
        returns=[NotificationSchema],
        returns_description="the notifications",
        example=[
            {
                "id": "51c0…",
                "device_id": "7a2e…",
                "hour": "2026-11-22T18:00:00Z",
                "kwh": 0.61,
                "limit_kwh": 0.5,
                "reason": "hourly",
                "created_at": "2026-11-22T18:47:02Z",
            }
        ],
    ),
)
