"""Routes of a PV device's generation: the forecast of its export in its next
hours, and how well that forecast would have done (``services/monitoring``)."""

from gateway.route import SIGNED_IN, Route
from services.monitoring.schemas import (
    BacktestQuerySchema,
    ForecastQuerySchema,
    GenerationBacktestSchema,
    GenerationForecastSchema,
)

ROUTES = (
    Route(
        "GET",
        "/api/forecast/generation",
        SIGNED_IN,
        "monitoring.generation_forecast",
        tag="consumption",
        summary="Hourly generation forecast of a PV device",
        description=(
            "A PV device's expected export in each of the next UTC hours, from the "
            "current one on: its owner's, or any device's for ADMIN, OPERATOR and "
            "VIEWER. pvlib's clear sky at the device's place (the installation's "
            "when it has none; ``location.source``) times the median ratio of its "
            "metered export to the clear sky over its last 28 days. With a weather "
            "provider configured and a week of history, the cloud cover of each "
            "hour scales the clear sky of its sunniest days instead "
            "(``weather.status``: used). ``fallback`` is true with no whole day of "
            "export history (the clear sky of a system whose peak in kW is the "
            "device's hourly limit, under the cloud cover when the weather is "
            "known; without it an upper bound), or when the weather provider "
            "failed or timed out (the forecast went on without it). A device of "
            "another kind answers 400."
        ),
        query=ForecastQuerySchema,
        returns=GenerationForecastSchema,
        returns_description="one entry per hour, oldest first",
        example={
            "device_id": "7a2e…",
            "unit": "kWh",
            "method": "clear_sky_scaled",
            "fallback": False,
            "note": "pvlib's clear sky at the device's place, times the median …",
            "history_hours": 672,
            "scale": 3.41,
            "location": {"latitude": 51.48, "longitude": 0.0, "source": "device"},
            "weather": {"provider": None, "status": "off", "detail": None},
            "generated_at": "2026-06-22T10:37:12Z",
            "hours": [
                {"hour": "2026-06-22T10:00:00Z", "kwh": 2.31},
                {"hour": "2026-06-22T11:00:00Z", "kwh": 2.52},
            ],
        },
        errors={404: "NotFound"},
    ),
    Route(
        "GET",
        "/api/forecast/generation/backtest",
        SIGNED_IN,
        "monitoring.generation_backtest",
        tag="consumption",
        summary="Backtest of a PV device's generation forecast",
        description=(
            "How the generation forecast (without weather: past weather forecasts "
            "are not kept) would have done on the device's last six weeks of "
            "export, against seasonal-naive: the same hour a day earlier. Each "
            "forecasts ``horizon`` hours from up to 14 origins a day apart, seeing "
            "only the hours before. MAE in kWh; MAPE in percent over the hours "
            "whose actual is above zero (night hours are left out of it). Same "
            "access as the forecast; a device of another kind answers 400."
        ),
        query=BacktestQuerySchema,
        returns=GenerationBacktestSchema,
        returns_description="the errors of both forecasts on the same hours",
        example={
            "device_id": "7a2e…",
            "unit": "kWh",
            "horizon": 24,
            "folds": 14,
            "hours_evaluated": 336,
            "hours_excluded_from_mape": 170,
            "history_hours": 1008,
            "min_history_hours": 48,
            "seasonal_period_hours": 24,
            "model": {"method": "clear_sky_scaled", "mae": 0.21, "mape": 38.2},
            "seasonal_naive": {
                "method": "same hour 24 h earlier",
                "mae": 0.29,
                "mape": 51.0,
            },
            "skill": 0.28,
            "note": "14 forecasts of 24 h, issued a day apart, …",
            "generated_at": "2026-06-22T10:37:12Z",
        },
        errors={404: "NotFound"},
    ),
)
