"""Routes of the consumption forecasts: a device's next hours, and how well the
forecast would have done on its past (``services/monitoring/forecast.py``)."""

from gateway.requests import Callers, read_query
from services.common.errors import EXPECTED
from services.common.http import http, json_response
from services.monitoring.schemas import BacktestQuerySchema, ForecastQuerySchema


class ForecastRoutes(Callers):
    @http("GET", "/api/forecast/consumption", expected_exceptions=EXPECTED)
    def forecast_consumption(self, request):
        """A device's forecast energy in each of the next UTC hours, from the
        current one on: its owner's, or any device's for ADMIN and OPERATOR. Learned
        from the device's last 28 days; with less than two days of history a simpler
        method is used and ``fallback`` is true.
        ---
        get:
          tags: [consumption]
          summary: Hourly consumption forecast
          parameters:
            - {in: query, name: device_id, required: true, schema: {type: string}}
            - {in: query, name: hours,
               schema: {type: integer, minimum: 1, maximum: 48, default: 24},
               description: "hours to forecast, the current one first"}
          responses:
            200:
              description: one entry per hour, oldest first
              content:
                application/json:
                  schema: ForecastSchema
                  example: {device_id: 7a2e…, unit: kWh, method: profile,
                            fallback: false,
                            note: "weighted median of the same hour of the day …",
                            history_hours: 672,
                            generated_at: "2026-11-22T10:37:12Z",
                            hours: [{hour: "2026-11-22T10:00:00Z", kwh: 0.11},
                                    {hour: "2026-11-22T11:00:00Z", kwh: 0.14}]}
            400: BadRequest
            401: Unauthorized
            404: NotFound
        """
        caller = self._caller(request)
        query = read_query(request, ForecastQuerySchema())
        self.devices_rpc.get_device(caller, query["device_id"])  # 404 unless visible
        return json_response(
            200,
            self.monitoring_rpc.forecast_consumption(
                query["device_id"], query["hours"]
            ),
        )

    @http("GET", "/api/forecast/backtest", expected_exceptions=EXPECTED)
    def forecast_backtest(self, request):
        """How the forecast would have done on the device's last six weeks, against
        seasonal-naive (the same hour a week earlier, or a day with less than a
        week): each forecasts ``horizon`` hours from up to 14 origins a day apart,
        seeing only the hours before. MAE in kWh; MAPE in percent over the hours
        whose actual is above zero. Same access as the forecast.
        ---
        get:
          tags: [consumption]
          summary: Backtest of the consumption forecast
          parameters:
            - {in: query, name: device_id, required: true, schema: {type: string}}
            - {in: query, name: horizon,
               schema: {type: integer, minimum: 1, maximum: 48, default: 24}}
          responses:
            200:
              description: the errors of both forecasts on the same hours
              content:
                application/json:
                  schema: BacktestSchema
                  example: {device_id: 7a2e…, unit: kWh, horizon: 24, folds: 14,
                            hours_evaluated: 336, hours_excluded_from_mape: 0,
                            history_hours: 1008, min_history_hours: 192,
                            seasonal_period_hours: 168,
                            model: {method: profile, mae: 0.038, mape: 7.6},
                            seasonal_naive: {method: same hour 168 h earlier,
                                             mae: 0.072, mape: 23.6},
                            skill: 0.47,
                            note: "14 forecasts of 24 h, issued a day apart, …",
                            generated_at: "2026-11-22T10:37:12Z"}
            400: BadRequest
            401: Unauthorized
            404: NotFound
        """
        caller = self._caller(request)
        query = read_query(request, BacktestQuerySchema())
        self.devices_rpc.get_device(caller, query["device_id"])  # 404 unless visible
        return json_response(
            200,
            self.monitoring_rpc.backtest_consumption(
                query["device_id"], query["horizon"]
            ),
        )
