"""Routes of batteries: a battery on a ``battery`` device, its commands, its optimal
schedule.

The gateway checks a new battery's device with devices, and asks monitoring for
the load forecast a schedule may use; the batteries service itself asks no other
service.
"""

# The service's exceptions, imported so that RPC hands them back as themselves.
import services.batteries.exceptions  # noqa: F401
from gateway.requests import Callers, read_json
from services.batteries.schemas import (
    BatteryCommandSchema,
    BatteryCreateSchema,
    BatteryScheduleRequestSchema,
)
from services.common.errors import EXPECTED, Forbidden, Unavailable, ValidationFailed
from services.common.http import http, json_response
from services.common.rpc import TimedRpcProxy

#: The kind of device a battery sits on.
BATTERY_KIND = "battery"


class BatteryRoutes(Callers):
    batteries_rpc = TimedRpcProxy("batteries")

    @http("GET", "/api/batteries", expected_exceptions=EXPECTED)
    def list_batteries(self, request):
        """The caller's batteries, with their state now; every battery for ADMIN
        and OPERATOR.
        ---
        get:
          tags: [batteries]
          summary: List batteries
          responses:
            200:
              description: the batteries, oldest first
              content:
                application/json:
                  schema: {type: array, items: BatterySchema}
            401: Unauthorized
        """
        caller = self._caller(request)
        return json_response(200, self.batteries_rpc.list_batteries(caller))

    @http("POST", "/api/batteries", expected_exceptions=EXPECTED)
    def create_battery(self, request):
        """Add the battery of a ``battery`` device (one per device). It starts idle,
        holding ``soc_kwh`` or else its minimum charge.
        ---
        post:
          tags: [batteries]
          summary: Add a battery
          requestBody:
            required: true
            content:
              application/json:
                schema: BatteryCreateSchema
                example: {device_id: 3d0c…, capacity_kwh: 10, max_charge_kw: 5,
                          max_discharge_kw: 5, efficiency: 0.9, min_soc: 0.1,
                          max_soc: 0.9, soc_kwh: 5}
          responses:
            201:
              description: the battery
              content:
                application/json:
                  schema: BatterySchema
                  example: {id: 51c0…, user_id: 9b2f…, device_id: 3d0c…,
                            capacity_kwh: 10, max_charge_kw: 5, max_discharge_kw: 5,
                            efficiency: 0.9, min_soc: 0.1, max_soc: 0.9, soc_kwh: 5,
                            soc_fraction: 0.5, mode: idle, power_kw: 0,
                            updated_at: "2026-11-22T18:00:00Z",
                            created_at: "2026-11-22T18:00:00Z"}
            400: BadRequest
            401: Unauthorized
            403: Forbidden
            404: NotFound
            409: Conflict
        """
        caller = self._caller(request)
        data = read_json(request, BatteryCreateSchema())
        # Another user's device answers 404, like a missing one.
        device = self.devices_rpc.get_device(caller, data["device_id"])
        if device["user_id"] != caller["user_id"] and caller["role"] != "ADMIN":
            raise Forbidden("only the device's owner or ADMIN adds its battery")
        if device["kind"] != BATTERY_KIND:
            raise ValidationFailed(
                "not a battery device",
                {"device_id": [f"a device of kind battery, not {device['kind']}"]},
            )
        return json_response(
            201, self.batteries_rpc.create_battery(data, device["user_id"])
        )

    @http("GET", "/api/batteries/<string:battery_id>", expected_exceptions=EXPECTED)
    def get_battery(self, request, battery_id):
        """One battery, with its state now.
        ---
        get:
          tags: [batteries]
          summary: Get a battery
          parameters:
            - {in: path, name: battery_id, required: true, schema: {type: string}}
          responses:
            200:
              description: the battery
              content: {application/json: {schema: BatterySchema}}
            401: Unauthorized
            404: NotFound
        """
        caller = self._caller(request)
        return json_response(200, self.batteries_rpc.get_battery(battery_id, caller))

    @http("DELETE", "/api/batteries/<string:battery_id>", expected_exceptions=EXPECTED)
    def delete_battery(self, request, battery_id):
        """Delete a battery (its device stays).
        ---
        delete:
          tags: [batteries]
          summary: Delete a battery
          parameters:
            - {in: path, name: battery_id, required: true, schema: {type: string}}
          responses:
            204: {description: deleted}
            401: Unauthorized
            404: NotFound
        """
        caller = self._caller(request)
        self.batteries_rpc.delete_battery(battery_id, caller)
        return 204, ""

    @http(
        "POST",
        "/api/batteries/<string:battery_id>/commands",
        expected_exceptions=EXPECTED,
    )
    def command_battery(self, request, battery_id):
        """Charge or discharge at a power within the battery's limits, or stop.
        The new state is also pushed over ``/ws`` as ``battery.state``.
        ---
        post:
          tags: [batteries]
          summary: Command a battery
          parameters:
            - {in: path, name: battery_id, required: true, schema: {type: string}}
          requestBody:
            required: true
            content:
              application/json:
                schema: BatteryCommandSchema
                example: {action: charge, power_kw: 3}
          responses:
            200:
              description: the battery, commanded
              content:
                application/json:
                  schema: BatterySchema
                  example: {id: 51c0…, soc_kwh: 5, soc_fraction: 0.5,
                            mode: charging, power_kw: 3,
                            updated_at: "2026-11-22T18:05:00Z"}
            400: BadRequest
            401: Unauthorized
            404: NotFound
        """
        caller = self._caller(request)
        command = read_json(request, BatteryCommandSchema())
        return json_response(
            200, self.batteries_rpc.command_battery(battery_id, command, caller)
        )

    @http(
        "POST",
        "/api/batteries/<string:battery_id>/schedule",
        expected_exceptions=EXPECTED,
    )
    def schedule_battery(self, request, battery_id):
        """The charge/discharge plan that costs least for the given hourly prices
        and load: exact, by dynamic programming over a grid of charge levels.
        Without ``load_kwh``, the load is monitoring's forecast for
        ``load_device_id``. Nothing is commanded. The example is a 10 kWh
        battery (10 %–90 %, 5 kW each way, 90 % round trip) holding 5 kWh.
        ---
        post:
          tags: [batteries]
          summary: Optimal schedule
          parameters:
            - {in: path, name: battery_id, required: true, schema: {type: string}}
          requestBody:
            required: true
            content:
              application/json:
                schema: BatteryScheduleRequestSchema
                example: {import_prices: [0.1, 0.1, 0.4], export_prices: [0.05,
                          0.05, 0.05], load_kwh: [0.5, 0.5, 3],
                          target: {hour_index: 2, soc_kwh: 2}}
          responses:
            200:
              description: the plan, hour by hour
              content:
                application/json:
                  schema: BatteryScheduleResultSchema
                  example: {hours: [{hour_index: 0, action: charge,
                                     power_kw: 0.025248, soc_kwh_end: 5.023952,
                                     load_kwh: 0.5, grid_kwh: 0.525248,
                                     cost: 0.052525},
                                    {hour_index: 1, action: charge,
                                     power_kw: 0.151486, soc_kwh_end: 5.167665,
                                     load_kwh: 0.5, grid_kwh: 0.651486,
                                     cost: 0.065149},
                                    {hour_index: 2, action: discharge,
                                     power_kw: 2.99943, soc_kwh_end: 2.005988,
                                     load_kwh: 3, grid_kwh: 0.00057, cost: 0.000228}],
                            total_cost: 0.117901, cost_without_battery: 1.3,
                            saving: 1.182099, start_soc_kwh: 5,
                            method: dynamic programming, grid_step_kwh: 0.023952}
            400: BadRequest
            401: Unauthorized
            404: NotFound
        """
        caller = self._caller(request)
        data = read_json(request, BatteryScheduleRequestSchema())
        device_id = data.pop("load_device_id", None)
        if device_id is not None:
            data["load_kwh"] = self._forecast_load(
                device_id, len(data["import_prices"]), caller
            )
        return json_response(
            200, self.batteries_rpc.schedule_battery(battery_id, data, caller)
        )

    def _forecast_load(self, device_id, hours, caller) -> list[float]:
        """The ``hours`` next hours of a device's use, as monitoring forecasts it."""
        self.devices_rpc.get_device(caller, device_id)  # 404 unless visible
        forecast = self.monitoring_rpc.forecast_consumption(device_id, hours)
        load = [hour["kwh"] for hour in forecast["hours"]][:hours]
        if len(load) < hours:
            raise Unavailable("the load forecast is shorter than the prices")
        return load
