"""How monitoring's reports and notifications travel, and the queries they take."""

from datetime import date, datetime
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.common.schemas import (
    EARLIEST,
    ID,
    LATEST,
    OUT_OF_RANGE,
    Day,
    InputSchema,
    Kwh,
    UtcDateTime,
)
from services.monitoring import energy


class ConsumptionQuerySchema(InputSchema):
    device_id = fields.String(required=True, validate=ID)
    date = Day(required=True, metadata={"description": "UTC day, YYYY-MM-DD"})


class HourSchema(Schema):
    hour = UtcDateTime()
    kwh = Kwh()


class EnergyHourSchema(HourSchema):
    """An hour of a device's energy: ``kwh`` drawn from the grid, ``export_kwh``
    generated or fed to it, counted apart."""

    kwh = Kwh(metadata={"description": "energy drawn (imported) in the hour"})
    export_kwh = Kwh(
        metadata={"description": "energy generated or fed to the grid in the hour"}
    )


class ConsumptionDaySchema(Schema):
    device_id = fields.String()
    date = fields.Date()
    unit = fields.Constant("kWh")
    hours = fields.List(fields.Nested(EnergyHourSchema))
    total_kwh = Kwh(metadata={"description": "energy drawn in the day"})
    total_export_kwh = Kwh(metadata={"description": "energy exported in the day"})


class NotificationQuerySchema(InputSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


#: Why a user is told of a device: one reading or an hour over its limit; the
#: device went offline or came online.
NOTIFICATION_REASONS = ["reading", "hourly", "offline", "online"]


def _overconsumption(description: str) -> dict:
    return {"description": f"{description} (reading and hourly; null otherwise)"}


class NotificationSchema(Schema):
    id = fields.String()
    device_id = fields.String()
    hour = UtcDateTime(
        allow_none=True, metadata=_overconsumption("the UTC hour over the limit")
    )
    kwh = Kwh(
        allow_none=True, metadata=_overconsumption("the reading's or the hour's energy")
    )
    limit_kwh = Kwh(
        allow_none=True, metadata=_overconsumption("the device's hourly limit")
    )
    reason = fields.String(metadata={"enum": NOTIFICATION_REASONS})
    last_seen = UtcDateTime(
        allow_none=True,
        metadata={
            "description": "when the device was last heard from (offline and "
            "online; null otherwise)"
        },
    )
    created_at = UtcDateTime()


class OverconsumptionSchema(Schema):
    """``data`` of the ``overconsumption`` message pushed over ``/ws``."""

    device_id = fields.String()
    hour = UtcDateTime()
    kwh = Kwh()
    limit_kwh = Kwh()
    reason = fields.String()


class DeviceStatusQuerySchema(InputSchema):
    device_id = fields.String(
        validate=ID, metadata={"description": "only this device's status"}
    )


class DeviceStatusSchema(Schema):
    """A device's status: whether it is online, when it was last heard from, and
    the newest power and state of charge it reported. Also ``data`` of the
    ``device.status`` message pushed over ``/ws`` when ``online`` changes."""

    device_id = fields.String()
    online = fields.Boolean(
        metadata={
            "description": "heard from within the last few reading intervals, and "
            "not disconnected since"
        }
    )
    since = UtcDateTime(
        allow_none=True,
        metadata={"description": "when online last changed; null: never online"},
    )
    last_seen = UtcDateTime(
        allow_none=True,
        metadata={
            "description": "the newest reading's timestamp, or when the device last "
            "said it is online; null: never heard from"
        },
    )
    reading_interval_s = fields.Integer(
        metadata={"description": "seconds between the device's readings"}
    )
    power_w = fields.Float(
        allow_none=True,
        metadata={"description": "the newest power reported, W (negative: exporting)"},
    )
    power_at = UtcDateTime(
        allow_none=True, metadata={"description": "the timestamp of that reading"}
    )
    soc_kwh = fields.Float(
        allow_none=True,
        metadata={"description": "the newest state of charge reported, kWh"},
    )
    soc_at = UtcDateTime(
        allow_none=True, metadata={"description": "the timestamp of that reading"}
    )


class HourTotalSchema(Schema):
    device_id = fields.String()
    hour = UtcDateTime()
    kwh = Kwh()
    export_kwh = Kwh()


class ConsumptionUpdateSchema(Schema):
    """``data`` of the ``consumption.updated`` message pushed over ``/ws``: the
    device-hours one batch of readings changed, with their new totals."""

    totals = fields.List(fields.Nested(HourTotalSchema))


#: The longest forecast and backtest horizon, in hours.
MAX_FORECAST_HOURS = 48
HORIZON = validate.Range(min=1, max=MAX_FORECAST_HOURS)


class ForecastQuerySchema(InputSchema):
    device_id = fields.String(required=True, validate=ID)
    hours = fields.Integer(
        load_default=24,
        validate=HORIZON,
        metadata={"description": "how many hours to forecast, from the current one"},
    )


class HorizonSchema(InputSchema):
    hours = fields.Integer(load_default=24, validate=HORIZON)


class PowerFloorSchema(InputSchema):
    minutes = fields.Integer(
        required=True, validate=validate.Range(min=1, max=7 * 24 * 60)
    )


class BacktestQuerySchema(InputSchema):
    device_id = fields.String(required=True, validate=ID)
    horizon = fields.Integer(
        load_default=24,
        validate=HORIZON,
        metadata={"description": "hours each backtest forecast covers"},
    )


class ForecastSchema(Schema):
    device_id = fields.String()
    unit = fields.Constant("kWh")
    method = fields.String(
        metadata={"enum": ["profile", "last_day", "history_mean", "no_history"]}
    )
    fallback = fields.Boolean(
        metadata={"description": "true unless the model ran: too little history"}
    )
    note = fields.String(metadata={"description": "what the method is"})
    history_hours = fields.Integer(
        metadata={"description": "complete hours of history the method had"}
    )
    generated_at = UtcDateTime()
    hours = fields.List(
        fields.Nested(HourSchema),
        metadata={"description": "from the start of the current UTC hour on"},
    )


class ErrorScoresSchema(Schema):
    method = fields.String()
    mae = Kwh(allow_none=True, metadata={"description": "mean absolute error, kWh"})
    mape = fields.Float(
        allow_none=True,
        metadata={
            "description": "mean absolute percentage error over the hours whose "
            "actual is above zero, in percent; null if there are none"
        },
    )


class BacktestSchema(Schema):
    device_id = fields.String()
    unit = fields.Constant("kWh")
    horizon = fields.Integer()
    folds = fields.Integer(
        metadata={"description": "forecast origins, a day apart; 0: too little history"}
    )
    hours_evaluated = fields.Integer()
    hours_excluded_from_mape = fields.Integer(
        metadata={"description": "evaluated hours whose actual is 0"}
    )
    history_hours = fields.Integer()
    min_history_hours = fields.Integer(
        metadata={"description": "hours of history one fold needs"}
    )
    seasonal_period_hours = fields.Integer(
        metadata={"description": "168 (a week), or 24 with less than a week"}
    )
    model = fields.Nested(ErrorScoresSchema)
    seasonal_naive = fields.Nested(ErrorScoresSchema)
    skill = fields.Float(
        allow_none=True,
        metadata={"description": "1 - MAE(model) / MAE(seasonal-naive); > 0: better"},
    )
    note = fields.String()
    generated_at = UtcDateTime()


class LocationSchema(Schema):
    latitude = fields.Float()
    longitude = fields.Float()
    source = fields.String(
        metadata={
            "enum": ["device", "installation"],
            "description": "the device's own place, or the installation's "
            "(EMS_LATITUDE, EMS_LONGITUDE) for a device that says none",
        }
    )


#: What became of the weather in a generation forecast.
WEATHER_STATUSES = ["used", "off", "unavailable", "too_little_history"]


class WeatherUseSchema(Schema):
    provider = fields.String(
        allow_none=True, metadata={"description": "null: no provider configured"}
    )
    status = fields.String(
        metadata={
            "enum": WEATHER_STATUSES,
            "description": "used; off (no provider configured); unavailable (it "
            "failed or timed out: the forecast went on without it, and is a "
            "fallback); too_little_history (under a week of days to know a sunny "
            "day by)",
        }
    )
    detail = fields.String(allow_none=True, metadata={"description": "why not"})


class GenerationForecastSchema(Schema):
    device_id = fields.String()
    unit = fields.Constant("kWh")
    method = fields.String(
        metadata={
            "enum": ["clear_sky_scaled", "clear_sky_weather", "clear_sky_nominal"]
        }
    )
    fallback = fields.Boolean(
        metadata={
            "description": "true when no whole day of export history was known "
            "(clear_sky_nominal), or the weather provider configured failed"
        }
    )
    note = fields.String(metadata={"description": "what the method is"})
    history_hours = fields.Integer(
        metadata={"description": "complete hours of export history the method had"}
    )
    scale = fields.Float(
        allow_none=True,
        metadata={
            "description": "kWh exported per kWh of the clear sky of one kW of "
            "peak: about the system's effective size in kW; null for the fallback"
        },
    )
    location = fields.Nested(LocationSchema)
    weather = fields.Nested(WeatherUseSchema)
    generated_at = UtcDateTime()
    hours = fields.List(
        fields.Nested(HourSchema),
        metadata={
            "description": "expected export in each hour, from the start of the "
            "current UTC hour on"
        },
    )


class GenerationBacktestSchema(BacktestSchema):
    seasonal_period_hours = fields.Integer(
        metadata={"description": "24: the baseline is the same hour a day earlier"}
    )


class NetLoadHourSchema(Schema):
    hour = UtcDateTime()
    consumption_kwh = Kwh()
    generation_kwh = Kwh()
    net_kwh = Kwh(metadata={"description": "consumption - generation"})


class NetLoadSchema(Schema):
    """A household's forecast net load: what its devices are forecast to draw,
    minus what its PV devices are forecast to export."""

    unit = fields.Constant("kWh")
    device_ids = fields.List(fields.String())
    pv_device_ids = fields.List(fields.String())
    fallbacks = fields.List(
        fields.String(), metadata={"description": "devices forecast by a fallback"}
    )
    generated_at = UtcDateTime()
    hours = fields.List(fields.Nested(NetLoadHourSchema))


class DeadLetterQuerySchema(InputSchema):
    reason = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "only dead letters whose reason contains this"},
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class DeadLetterPurgeQuerySchema(InputSchema):
    reason = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "only dead letters whose reason contains this"},
    )


class DeadLetterSchema(Schema):
    """A dead letter as listed: why it was refused, by whom, and what it was."""

    id = fields.String()
    received_at = UtcDateTime()
    reason = fields.String()
    service = fields.String(metadata={"description": "the consumer that refused it"})
    exchange = fields.String(
        allow_none=True, metadata={"description": "where a replay publishes it"}
    )
    routing_key = fields.String()
    headers = fields.Dict()
    content_type = fields.String(allow_none=True)
    size = fields.Integer(metadata={"description": "the body's size in bytes"})
    preview = fields.String(metadata={"description": "its first 200 bytes, as text"})
    replayable = fields.Boolean()


class DeadLetterDetailSchema(DeadLetterSchema):
    content_encoding = fields.String(allow_none=True)
    body = fields.String(
        metadata={"description": "the body kept (at most 64 KiB), as UTF-8 text"}
    )
    truncated = fields.Boolean(
        metadata={"description": "only the start of the body was kept"}
    )


class DeadLetterReplaySchema(Schema):
    id = fields.String()
    exchange = fields.String()
    routing_key = fields.String()


class DeadLetterPurgeSchema(Schema):
    deleted = fields.Integer()


class DateOrDateTime(fields.Field):
    """``2026-03-29`` (a local day) or an ISO-8601 datetime (without an offset:
    local time), between ``EARLIEST`` and ``LATEST``."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("must be an ISO-8601 date or datetime")
        try:
            if len(value) == 10:
                moment = date.fromisoformat(value)
                day = moment
            else:
                moment = datetime.fromisoformat(value)
                day = moment.date()
        except ValueError as exc:
            raise ValidationError("must be an ISO-8601 date or datetime") from exc
        if not EARLIEST.date() < day < LATEST.date():
            raise ValidationError(OUT_OF_RANGE)
        return moment


class EnergyQuerySchema(InputSchema):
    scope = fields.String(
        load_default="portfolio",
        validate=validate.OneOf(energy.SCOPES),
        metadata={"description": "what the figures are of (default portfolio)"},
    )
    id = fields.String(
        load_default=None,
        validate=ID,
        metadata={"description": "the device, room or site (not for portfolio)"},
    )
    from_ = DateOrDateTime(
        data_key="from",
        load_default=None,
        metadata={"description": "first bucket: a local date or a datetime"},
    )
    to = DateOrDateTime(
        load_default=None,
        metadata={"description": "end, excluded: a local date or a datetime"},
    )
    resolution = fields.String(
        load_default="day",
        validate=validate.OneOf(energy.RESOLUTIONS),
        metadata={"description": "hour (UTC hours), day or month (local)"},
    )

    @validates_schema
    def id_given(self, data, **kwargs):
        if data["scope"] != "portfolio" and not data.get("id"):
            raise ValidationError({"id": ["required for this scope"]})


class Figure(fields.Decimal):
    """An exact figure as decimal text (``"12.345"``): sums of kWh, money and CO2
    that binary floats would blur."""

    def __init__(self, **kwargs):
        super().__init__(as_string=True, allow_none=True, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return format(value.normalize() if value else Decimal(0), "f")


class EnergyFiguresSchema(Schema):
    import_kwh = Figure(metadata={"description": "energy drawn from the grid"})
    export_kwh = Figure(metadata={"description": "energy fed to the grid"})
    net_kwh = Figure(metadata={"description": "import less export"})
    cost = Figure(
        metadata={
            "description": "import at the import price less export at the export "
            "price, in ``currency`` (null across currencies)"
        }
    )
    co2_kg = Figure(metadata={"description": "CO2 of the energy drawn"})


class EnergyBucketSchema(EnergyFiguresSchema):
    start = fields.String(
        metadata={
            "description": "UTC hour (…Z), or local midnight with its offset "
            "(a date alone across time zones)"
        }
    )


class EnergySchema(Schema):
    scope = fields.String()
    id = fields.String(allow_none=True)
    resolution = fields.String()
    timezone = fields.String(allow_none=True)
    currency = fields.String(allow_none=True)
    from_ = fields.String(data_key="from")
    to = fields.String()
    series = fields.List(fields.Nested(EnergyBucketSchema))
    totals = fields.Nested(EnergyFiguresSchema)


class ReadingsExportQuerySchema(InputSchema):
    device_id = fields.String(required=True, validate=ID)
    from_ = DateOrDateTime(
        data_key="from",
        load_default=None,
        metadata={"description": "from (UTC unless an offset is given)"},
    )
    to = DateOrDateTime(load_default=None, metadata={"description": "to, excluded"})


class KpiQuerySchema(InputSchema):
    scope = fields.String(
        load_default="portfolio",
        validate=validate.OneOf(("site", "portfolio")),
        metadata={"description": "a site, or the caller's portfolio (default)"},
    )
    id = fields.String(
        load_default=None, validate=ID, metadata={"description": "the site"}
    )

    @validates_schema
    def id_given(self, data, **kwargs):
        if data["scope"] == "site" and not data.get("id"):
            raise ValidationError({"id": ["required for a site"]})


class PeakHourSchema(Schema):
    hour = UtcDateTime(metadata={"description": "the UTC hour of most import"})
    import_kwh = fields.Float()


class DeviceCountSchema(Schema):
    total = fields.Integer()
    online = fields.Integer()
    offline = fields.Integer()


class FleetSchema(Schema):
    count = fields.Integer()
    capacity_kwh = fields.Float()
    soc_kwh = fields.Float()
    average_soc_percent = fields.Float(
        allow_none=True, metadata={"description": "charge in % of the capacity"}
    )


class SiteKpiSchema(Schema):
    id = fields.String()
    timezone = fields.String()
    today_import_kwh = Figure()
    today_net_kwh = Figure()
    month_import_kwh = Figure()
    month_cost = Figure()
    devices_online = fields.Integer()
    devices_offline = fields.Integer()
    alerts = fields.Integer(metadata={"description": "active alarms of its devices"})


class KpiSchema(Schema):
    scope = fields.String()
    id = fields.String(allow_none=True)
    timezone = fields.String(allow_none=True)
    currency = fields.String(allow_none=True)
    at = UtcDateTime()
    today = fields.Nested(EnergyFiguresSchema)
    month = fields.Nested(EnergyFiguresSchema)
    peak_hour = fields.Nested(PeakHourSchema, allow_none=True)
    generation_kwh = fields.Float(metadata={"description": "PV exported today"})
    consumption_kwh = fields.Float(
        metadata={"description": "drawn today by every device but PV"}
    )
    self_consumption = fields.Float(
        allow_none=True,
        metadata={"description": "share of today's generation used on site"},
    )
    self_sufficiency = fields.Float(
        allow_none=True,
        metadata={"description": "share of today's consumption generated on site"},
    )
    power_w = fields.Float(
        allow_none=True,
        metadata={"description": "the online devices' newest power, summed"},
    )
    devices = fields.Nested(DeviceCountSchema)
    alerts = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={
            "description": "``active``: the devices' active alarms (while the alarms "
            "service cannot say, their over-limit notifications of the last 24 hours)"
        },
    )
    batteries = fields.Nested(
        FleetSchema,
        allow_none=True,
        metadata={"description": "null while the batteries service cannot say"},
    )
    flexibility_kw = fields.Float(
        metadata={
            "description": "what could come off the grid now: battery discharge "
            "and switchable loads' draw"
        }
    )
    sites = fields.List(
        fields.Nested(SiteKpiSchema),
        metadata={"description": "each site of a portfolio (empty for a site)"},
    )


class ReportQuerySchema(InputSchema):
    month = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="must be YYYY-MM"),
        metadata={"description": "YYYY-MM in the site's time zone (default: last)"},
    )
