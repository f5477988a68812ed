"""How batteries, their commands and schedules are loaded from requests and dumped
on the wire.

Names start with ``Battery`` because marshmallow's registry, which the OpenAPI
document resolves schema names from, is shared by every service.
"""

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from services.batteries.control import AUTO, CONTROLS
from services.batteries.physics import ACTIONS, IDLE, MODES
from services.batteries.schedule import MAX_HOURS, METHOD
from services.common.schemas import ID, InputSchema, Kwh, Permissions, UtcDateTime

#: Sizes and powers: from a watt(-hour) up to what a grid-scale battery has.
POSITIVE = validate.Range(min=0.001, max=100_000)
FRACTION = validate.Range(min=0, max=1)
EFFICIENCY = validate.Range(min=0, min_inclusive=False, max=1)
#: Per kWh, in any currency; negative prices happen on spot markets.
PRICE = validate.Range(min=-1_000, max=1_000)
#: A household's hourly energy; negative when it exports (solar surplus).
LOAD = validate.Range(min=-100_000, max=100_000)
HOURS = validate.Length(min=1, max=MAX_HOURS)


def _number(validator, **options):
    return fields.Float(validate=validator, allow_nan=False, **options)


class Rounded(fields.Float):
    """Power and money as JSON numbers, to six decimals."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else round(float(value), 6)


class BatterySchema(Schema):
    """A battery and its state now (evolved since its last command)."""

    id = fields.String()
    user_id = fields.String()
    device_id = fields.String()
    capacity_kwh = Kwh()
    max_charge_kw = Rounded()
    max_discharge_kw = Rounded()
    efficiency = fields.Float(metadata={"description": "round-trip, 0 < η ≤ 1"})
    min_soc = fields.Float(metadata={"description": "fraction of the capacity"})
    max_soc = fields.Float(metadata={"description": "fraction of the capacity"})
    soc_kwh = Kwh()
    soc_fraction = Rounded(metadata={"description": "soc_kwh / capacity_kwh"})
    mode = fields.String(metadata={"enum": list(MODES)})
    power_kw = Rounded(metadata={"description": "at the terminals; 0 when idle"})
    updated_at = UtcDateTime(
        metadata={"description": "the last command, or when a bound stopped it"}
    )
    created_at = UtcDateTime()
    control = fields.String(
        metadata={
            "enum": list(CONTROLS),
            "description": "manual: moved by commands only; auto: by its plan",
        }
    )
    override_until = UtcDateTime(
        allow_none=True,
        metadata={"description": "in auto mode, a manual command holds it until then"},
    )
    permissions = Permissions(
        "what the caller may do with the battery: command, delete"
    )


class BatteryStateSchema(Schema):
    """``data`` of the ``battery.state`` message pushed over ``/ws``."""

    battery_id = fields.String()
    soc_kwh = Kwh()
    soc_fraction = Rounded()
    mode = fields.String(metadata={"enum": list(MODES)})
    power_kw = Rounded()


class BatteryCreateSchema(InputSchema):
    """``POST /api/batteries``; the device must be a ``battery`` of its owner."""

    device_id = fields.String(required=True, validate=ID)
    capacity_kwh = _number(POSITIVE, required=True)
    max_charge_kw = _number(POSITIVE, required=True)
    max_discharge_kw = _number(POSITIVE, required=True)
    efficiency = _number(
        EFFICIENCY,
        load_default=0.9,
        metadata={"description": "round-trip; √η is lost each way"},
    )
    min_soc = _number(FRACTION, load_default=0.0)
    max_soc = _number(FRACTION, load_default=1.0)
    soc_kwh = _number(
        validate.Range(min=0),
        metadata={"description": "the charge now; min_soc × capacity if absent"},
    )

    @validates_schema
    def consistent(self, data, **kwargs):
        if (
            "min_soc" in data
            and "max_soc" in data
            and data["min_soc"] >= data["max_soc"]
        ):
            raise ValidationError("must be above min_soc", "max_soc")
        if "soc_kwh" in data and "capacity_kwh" in data:
            capacity = data["capacity_kwh"]
            low = data.get("min_soc", 0.0) * capacity
            high = data.get("max_soc", 1.0) * capacity
            if not low <= data["soc_kwh"] <= high:
                raise ValidationError(
                    f"between min_soc and max_soc of the capacity "
                    f"({low:g}–{high:g} kWh)",
                    "soc_kwh",
                )


class BatteryCommandSchema(InputSchema):
    """``POST /api/batteries/{id}/commands``: ``{"action": "charge",
    "power_kw": 3}``; ``idle`` takes no power."""

    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    power_kw = _number(
        validate.Range(min=0, min_inclusive=False),
        metadata={"description": "above 0, at most the battery's maximum"},
    )

    override_minutes = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=24 * 60),
        metadata={
            "description": "in auto mode, how long the command holds before the "
            "plan resumes (default: the service's setting, 60)"
        },
    )

    @validates_schema
    def power_matches_action(self, data, **kwargs):
        action = data.get("action")
        if action == IDLE and "power_kw" in data:
            raise ValidationError("idle takes no power", "power_kw")
        if action in ACTIONS and action != IDLE and "power_kw" not in data:
            raise ValidationError(f"required to {action}", "power_kw")


class BatteryTargetSchema(InputSchema):
    hour_index = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=0, max=MAX_HOURS - 1),
        metadata={"description": "the hour at whose end the target holds"},
    )
    soc_kwh = _number(
        validate.Range(min=0),
        required=True,
        metadata={"description": "at least this much charge then"},
    )


class BatteryScheduleSchema(InputSchema):
    """What ``schedule_battery`` plans for: prices and load of each hour."""

    import_prices = fields.List(
        _number(PRICE),
        required=True,
        validate=HOURS,
        metadata={"description": "per kWh bought, one per hour (1–48)"},
    )
    export_prices = fields.List(
        _number(PRICE),
        required=True,
        validate=HOURS,
        metadata={"description": "per kWh sold, as many as import_prices"},
    )
    load_kwh = fields.List(
        _number(LOAD),
        required=True,
        validate=HOURS,
        metadata={"description": "the household's use each hour (negative: surplus)"},
    )
    start_soc_kwh = _number(
        validate.Range(min=0),
        metadata={
            "description": "the charge at the start; the battery's now if absent"
        },
    )
    target = fields.Nested(BatteryTargetSchema)

    @validates_schema
    def same_hours(self, data, **kwargs):
        hours = len(data.get("import_prices") or [])
        if not hours:
            return
        errors = {}
        for name in ("export_prices", "load_kwh"):
            if name in data and len(data[name]) != hours:
                errors[name] = [f"{hours} values, one per hour of import_prices"]
        target = data.get("target")
        if target and target["hour_index"] >= hours:
            errors["target"] = {"hour_index": [f"between 0 and {hours - 1}"]}
        if errors:
            raise ValidationError(errors)


#: The ways a schedule request says its load, of which it gives exactly one.
LOAD_SOURCES = ("load_kwh", "load_device_id", "household_net_load")


class BatteryScheduleRequestSchema(BatteryScheduleSchema):
    """``POST /api/batteries/{id}/schedule``: the load is given, or forecast for
    ``load_device_id``, or the net load of the battery owner's household
    (``household_net_load``); batteries asks monitoring for forecasts."""

    load_kwh = fields.List(
        _number(LOAD),
        validate=HOURS,
        metadata={"description": "the household's use each hour (negative: surplus)"},
    )
    load_device_id = fields.String(
        validate=ID,
        metadata={"description": "forecast this device's use instead of load_kwh"},
    )
    household_net_load = fields.Boolean(
        metadata={
            "description": "true: plan on the forecast net load of the battery "
            "owner's devices instead of load_kwh: what they are forecast to use "
            "minus what their PV devices are forecast to generate, so that the "
            "battery stores its own surplus"
        },
    )

    @validates_schema
    def one_load(self, data, **kwargs):
        given = [
            name for name in LOAD_SOURCES if name in data and data[name] is not False
        ]
        if len(given) != 1:
            raise ValidationError(
                "give one of load_kwh, load_device_id or household_net_load: true",
                "load_kwh",
            )


class BatteryScheduleHourSchema(Schema):
    hour_index = fields.Integer()
    action = fields.String(metadata={"enum": list(ACTIONS)})
    power_kw = Rounded(metadata={"description": "at the terminals"})
    soc_kwh_end = Kwh()
    load_kwh = Kwh()
    grid_kwh = Kwh(metadata={"description": "from the grid; negative: exported"})
    cost = Rounded()


class BatteryScheduleResultSchema(Schema):
    hours = fields.List(fields.Nested(BatteryScheduleHourSchema))
    total_cost = Rounded()
    cost_without_battery = Rounded()
    saving = Rounded(metadata={"description": "cost_without_battery - total_cost"})
    start_soc_kwh = Kwh()
    method = fields.String(metadata={"enum": [METHOD]})
    grid_step_kwh = fields.Float(
        metadata={"description": "the charge levels the plan moves between"}
    )


class BatteryControlSchema(InputSchema):
    """``PUT /api/batteries/{id}/control``: ``{"control": "manual"}``, or
    ``{"control": "auto", "plan": {...}}`` with what the plan is worked out for
    (prices and load of each hour, as ``POST /api/batteries/{id}/schedule``
    takes them)."""

    control = fields.String(required=True, validate=validate.OneOf(CONTROLS))
    plan = fields.Nested(BatteryScheduleRequestSchema)

    @validates_schema
    def plan_with_auto(self, data, **kwargs):
        if data.get("control") == AUTO and "plan" not in data:
            raise ValidationError("required for auto", "plan")
        if data.get("control") in CONTROLS and data["control"] != AUTO:
            if "plan" in data:
                raise ValidationError("only auto takes a plan", "plan")


class BatteryPlanStepSchema(Schema):
    index = fields.Integer()
    starts_at = UtcDateTime()
    power_kw = Rounded(metadata={"description": "+ charges, − discharges"})
    soc_kwh_start = Kwh()
    soc_kwh_end = Kwh()


class BatteryIntervalSchema(Schema):
    """A control interval: what the plan set and what went to the device."""

    starts_at = UtcDateTime()
    planned_power_kw = Rounded(metadata={"description": "+ charges, − discharges"})
    planned_soc_kwh = Kwh(metadata={"description": "the plan's charge then"})
    reported_soc_kwh = Kwh(
        allow_none=True, metadata={"description": "the device's, when it began"}
    )
    replanned = fields.String(
        allow_none=True,
        metadata={
            "enum": ["no plan", "plan ran out", "drift", None],
            "description": "why the plan was worked out again then",
        },
    )
    command_id = fields.String(allow_none=True)
    command_status = fields.String(
        allow_none=True,
        metadata={"description": "by devices: as it stands when the plan is read"},
    )


class BatteryPlanSchema(Schema):
    """``GET /api/batteries/{id}/plan``: auto mode's plan and its execution."""

    battery_id = fields.String()
    control = fields.String(metadata={"enum": list(CONTROLS)})
    override_until = UtcDateTime(allow_none=True)
    step_s = fields.Float(
        allow_none=True, metadata={"description": "the length of a plan step"}
    )
    interval_s = fields.Float(metadata={"description": "the control interval"})
    steps = fields.List(fields.Nested(BatteryPlanStepSchema))
    intervals = fields.List(
        fields.Nested(BatteryIntervalSchema),
        metadata={"description": "the latest control intervals, oldest first"},
    )
