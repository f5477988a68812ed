"""Routes of batteries: a battery on a ``battery`` device, its commands, its optimal
schedule, and auto mode (its control and the plan it executes)."""

from gateway.route import SIGNED_IN, Route
from services.batteries.schemas import (
    BatteryCommandSchema,
    BatteryControlSchema,
    BatteryCreateSchema,
    BatteryPlanSchema,
    BatteryScheduleRequestSchema,
    BatteryScheduleResultSchema,
    BatterySchema,
)

ROUTES = (
    Route(
        "GET",
        "/api/batteries",
        SIGNED_IN,
        "batteries.list_batteries",
        tag="batteries",
        summary="List batteries",
        description=(
            "The caller's batteries, with their state now; every battery for ADMIN, "
            "OPERATOR and VIEWER."
        ),
        returns=[BatterySchema],
        returns_description="the batteries, oldest first",
    ),
    Route(
        "POST",
        "/api/batteries",
        SIGNED_IN,
        "batteries.create_battery",
        tag="batteries",
        summary="Add a battery",
        description=(
            "Add the battery of a ``battery`` device (one per device). It starts "
            "idle, holding ``soc_kwh`` or else its minimum charge."
        ),
        body=BatteryCreateSchema,
        example_body={
            "device_id": "3d0c…",
            "capacity_kwh": 10,
            "max_charge_kw": 5,
            "max_discharge_kw": 5,
            "efficiency": 0.9,
            "min_soc": 0.1,
            "max_soc": 0.9,
            "soc_kwh": 5,
        },
        status=201,
        returns=BatterySchema,
        returns_description="the battery",
        example={
            "id": "51c0…",
            "user_id": "9b2f…",
            "device_id": "3d0c…",
            "capacity_kwh": 10,
            "max_charge_kw": 5,
            "max_discharge_kw": 5,
            "efficiency": 0.9,
            "min_soc": 0.1,
            "max_soc": 0.9,
            "soc_kwh": 5,
            "soc_fraction": 0.5,
            "mode": "idle",
            "power_kw": 0,
            "updated_at": "2026-11-22T18:00:00Z",
            "created_at": "2026-11-22T18:00:00Z",
        },
        errors={403: "Forbidden", 404: "NotFound", 409: "Conflict"},
    ),
    Route(
        "GET",
        "/api/batteries/<string:battery_id>",
        SIGNED_IN,
        "batteries.get_battery",
        tag="batteries",
        summary="Get a battery",
        description="One battery, with its state now.",
        returns=BatterySchema,
        returns_description="the battery",
    ),
    Route(
        "DELETE",
        "/api/batteries/<string:battery_id>",
        SIGNED_IN,
        "batteries.delete_battery",
        tag="batteries",
        summary="Delete a battery",
        description="Delete a battery (its device stays).",
        status=204,
        returns_description="deleted",
    ),
    Route(
        "POST",
        "/api/batteries/<string:battery_id>/commands",
        SIGNED_IN,
        "batteries.command_battery",
        tag="batteries",
        summary="Command a battery",
        description=(
            "Charge or discharge at a power within the battery's limits, or stop. "
            "The battery's device is sent a ``battery_setpoint`` command "
            "(``power_kw``: + charges, − discharges, 0 holds) by the caller; the "
            "new state is also pushed over ``/ws`` as ``battery.state``. A battery "
            "in auto control is held by the command for ``override_minutes`` "
            "(default 60), then its plan resumes."
        ),
        body=BatteryCommandSchema,
        example_body={"action": "charge", "power_kw": 3, "override_minutes": 30},
        returns=BatterySchema,
        returns_description="the battery, commanded",
        example={
            "id": "51c0…",
            "soc_kwh": 5,
            "soc_fraction": 0.5,
            "mode": "charging",
            "power_kw": 3,
            "updated_at": "2026-11-22T18:05:00Z",
        },
    ),
    Route(
        "POST",
        "/api/batteries/<string:battery_id>/schedule",
        SIGNED_IN,
        "batteries.schedule_battery",
        tag="batteries",
        summary="Optimal schedule",
        description=(
            "The charge/discharge plan that costs least for the given hourly prices "
            "and load: exact, by dynamic programming over a grid of charge levels. "
            "Without ``load_kwh``, the load is monitoring's forecast for "
            "``load_device_id``, or with ``household_net_load: true`` the forecast "
            "net load of the battery owner's devices (their use minus their PV "
            "devices' generation; negative in the hours of a surplus, which the "
            "plan stores). Nothing is commanded. The example is a 10 kWh "
            "battery (10 %–90 %, 5 kW each way, 90 % round trip) holding 5 kWh."
        ),
        body=BatteryScheduleRequestSchema,
        example_body={
            "import_prices": [0.1, 0.1, 0.4],
            "export_prices": [0.05, 0.05, 0.05],
            "load_kwh": [0.5, 0.5, 3],
            "target": {"hour_index": 2, "soc_kwh": 2},
        },
        returns=BatteryScheduleResultSchema,
        returns_description="the plan, hour by hour",
        example={
            "hours": [
                {
                    "hour_index": 0,
                    "action": "charge",
                    "power_kw": 0.025248,
                    "soc_kwh_end": 5.023952,
                    "load_kwh": 0.5,
                    "grid_kwh": 0.525248,
                    "cost": 0.052525,
                },
                {
                    "hour_index": 1,
                    "action": "charge",
                    "power_kw": 0.151486,
                    "soc_kwh_end": 5.167665,
                    "load_kwh": 0.5,
                    "grid_kwh": 0.651486,
                    "cost": 0.065149,
                },
                {
                    "hour_index": 2,
                    "action": "discharge",
                    "power_kw": 2.99943,
                    "soc_kwh_end": 2.005988,
                    "load_kwh": 3,
                    "grid_kwh": 0.00057,
                    "cost": 0.000228,
                },
            ],
            "total_cost": 0.117901,
            "cost_without_battery": 1.3,
            "saving": 1.182099,
            "start_soc_kwh": 5,
            "method": "dynamic programming",
            "grid_step_kwh": 0.023952,
        },
    ),
    Route(
        "PUT",
        "/api/batteries/<string:battery_id>/control",
        SIGNED_IN,
        "batteries.set_control",
        tag="batteries",
        summary="Switch manual or auto control",
        description=(
            "``manual``: the battery moves by commands only. ``auto``: the platform "
            "works out the optimal plan for ``plan`` (as ``POST "
            "/api/batteries/{id}/schedule`` takes it) from the battery's charge "
            "now and executes it: each control interval (15 minutes by default) "
            "the battery's device is sent the plan's ``battery_setpoint`` for it, "
            "issued by ``batteries``. The plan is worked out again from the charge "
            "the device reports when that drifts from the plan's by more than 5 % "
            "of the capacity (by default), and when it runs out, repeating its "
            "prices and load. Plan steps are hours."
        ),
        body=BatteryControlSchema,
        example_body={
            "control": "auto",
            "plan": {
                "import_prices": [0.1, 0.1, 0.4],
                "export_prices": [0.05, 0.05, 0.05],
                "load_kwh": [0.5, 0.5, 3],
            },
        },
        returns=BatterySchema,
        returns_description="the battery",
        example={"id": "51c0…", "control": "auto", "override_until": None},
    ),
    Route(
        "GET",
        "/api/batteries/<string:battery_id>/plan",
        SIGNED_IN,
        "batteries.get_plan",
        tag="batteries",
        summary="Auto mode's plan and its execution",
        description=(
            "The plan an auto battery executes, step by step (planned setpoint "
            "and charge), and its latest control intervals: the setpoint and "
            "charge planned, the command sent (its id and status when issued), "
            "the charge the device reported, and whether the plan was worked out "
            "again then (``drift``, ``plan ran out``). A manual battery has no "
            "steps."
        ),
        returns=BatteryPlanSchema,
        returns_description="the plan and its intervals",
        example={
            "battery_id": "51c0…",
            "control": "auto",
            "override_until": None,
            "step_s": 3600,
            "interval_s": 900,
            "steps": [
                {
                    "index": 0,
                    "starts_at": "2026-11-22T18:00:00Z",
                    "power_kw": 2.5,
                    "soc_kwh_start": 5,
                    "soc_kwh_end": 7.371708,
                }
            ],
            "intervals": [
                {
                    "starts_at": "2026-11-22T18:00:00Z",
                    "planned_power_kw": 2.5,
                    "planned_soc_kwh": 5,
                    "reported_soc_kwh": 5.02,
                    "replanned": "no plan",
                    "command_id": "c41d…",
                    "command_status": "pending",
                }
            ],
        },
    ),
)
