"""monitoring's rules: what a valid reading is, which hour it counts in, when a
device overconsumes, and how a day of consumption is reported."""

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from services.common.errors import ValidationFailed
from services.common.topology import device_of_reading_key
from services.monitoring.exceptions import InvalidReading
from services.monitoring.status import DEFAULT_READING_INTERVAL_S

MICRO = Decimal("0.000001")
HOUR = timedelta(hours=1)
#: Readings stamped further ahead than this are refused: a device clock that runs
#: fast, or a reading written for an hour not yet metered.
MAX_AHEAD = timedelta(minutes=5)
#: Readings stamped further back than this are refused: a late reading may
#: complete a recent hour, but none may rewrite the history that DR baselines (30
#: days) and settlements were computed from.
BACKFILL = timedelta(days=45)
FIELDS = ("reading_id", "device_id", "timestamp", "kwh")
#: The longest ``reading_id`` and ``device_id`` the readings table stores.
LONGEST = {"reading_id": 64, "device_id": 36}
#: The most a device may report of its instantaneous power, either way (10 MW),
#: and of a battery's state of charge: anything beyond is a broken sensor.
MAX_POWER_W = 10_000_000
MAX_SOC_KWH = 1_000_000
#: ``measurements``: at most this many, named in lower case (``voltage_v``), each a
#: number no larger than ``MAX_MEASUREMENT`` either way.
MAX_MEASUREMENTS = 16
MEASUREMENT_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_MEASUREMENT = 1e9


@dataclass(frozen=True)
class ParsedReading:
    reading_id: str
    device_id: str
    timestamp: datetime
    hour: datetime
    #: Energy drawn from the grid (imported) in the interval.
    kwh: Decimal
    #: Energy generated or fed to the grid in the interval; None: not reported.
    export_kwh: Decimal | None = None
    #: Instantaneous power at ``timestamp``, negative while exporting.
    power_w: float | None = None
    #: A battery's state of charge at ``timestamp``.
    soc_kwh: float | None = None
    #: Other instantaneous values, ``{name: number}``.
    measurements: dict[str, float] | None = None


@dataclass(frozen=True)
class Energy:
    """Energy of a device-hour, or of what a batch adds to one: drawn and exported."""

    kwh: Decimal = Decimal(0)
    export_kwh: Decimal = Decimal(0)

    def __add__(self, other: "Energy") -> "Energy":
        return Energy(self.kwh + other.kwh, self.export_kwh + other.export_kwh)


@dataclass(frozen=True)
class DeviceLimit:
    """What monitoring keeps of a device: its owner, its hourly limit, how often
    it sends a reading, what it is and where it stands."""

    user_id: str
    max_hourly_kwh: Decimal
    deleted: bool = False
    reading_interval_s: int = DEFAULT_READING_INTERVAL_S
    #: None: kept before the copy held kinds.
    kind: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class TotalChange:
    """A device-hour's total before and after one batch."""

    device_id: str
    hour: datetime
    before: Decimal
    after: Decimal
    alerted: bool
    #: The device-hour's exported energy after the batch.
    export_kwh: Decimal = Decimal(0)


@dataclass(frozen=True)
class Alert:
    user_id: str
    device_id: str
    hour: datetime
    kwh: Decimal
    limit_kwh: Decimal
    reason: str
    reading_id: str | None = None


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour a reading stamped ``moment`` counts in.

    A reading's energy was used in the interval that ends at its timestamp, so
    10:15 counts in 10:00–11:00 and 11:00 exactly still counts in 10:00–11:00.
    """
    moment = moment.astimezone(UTC) - timedelta(microseconds=1)
    return moment.replace(minute=0, second=0, microsecond=0)


def _text(body: dict, field: str) -> str:
    """A text field as PostgreSQL can store it: UTF-8 without NUL, not too long."""
    value, longest = body[field], LONGEST[field]
    if not isinstance(value, str) or not value or len(value) > longest:
        raise InvalidReading(
            f"{field} must be a non-empty string of at most {longest} characters"
        )
    if "\x00" in value:
        raise InvalidReading(f"{field} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        # JSON may spell a lone UTF-16 surrogate ("\ud800"), which no UTF-8
        # database can store.
        raise InvalidReading(f"{field} is not valid Unicode text") from exc
    return value


def _timestamp(
    value, now: datetime, backfill: timedelta, ahead: timedelta, window: str | None
):
    if not isinstance(value, str):
        raise InvalidReading("timestamp must be an ISO-8601 string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidReading(f"unparseable timestamp {value[:40]!r}") from exc
    if moment.tzinfo is None:
        raise InvalidReading("timestamp has no time zone")
    # Compared before any conversion: year 1 or 9999 in a time zone would overflow
    # when moved to UTC, and its hour could not be computed.
    age = now - moment
    if age > backfill:
        raise InvalidReading(
            f"timestamp is older than "
            f"{window or f'the back-fill window ({backfill.days} days)'}"
        )
    if -age > ahead:
        raise InvalidReading(
            f"timestamp is more than {int(ahead.total_seconds())} s ahead"
        )
    return moment.astimezone(UTC)


def _number(value, field: str):
    """A JSON number (not a boolean), finite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidReading(f"{field} must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidReading(f"{field} is not finite")
    return value


def _kwh(value, max_kwh: Decimal, field: str = "kwh") -> Decimal:
    value = _number(value, field)
    if value < 0:
        raise InvalidReading(f"{field} is negative")
    # Compared before it becomes a Decimal: 1e30 or a 400-digit integer does not
    # fit the decimal context, nor the column.
    if value > max_kwh:
        raise InvalidReading(
            f"{field} {str(value)[:40]} is absurd for one reading (over {max_kwh})"
        )
    return Decimal(repr(value)).quantize(MICRO)


def _bounded(value, field: str, low: float, high: float, unit: str = "") -> float:
    """A number within ``[low, high]``, as a float; compared before it is
    converted, so a 400-digit integer is refused rather than overflowing."""
    value = _number(value, field)
    if not low <= value <= high:
        unit = f" {unit}" if unit else ""
        raise InvalidReading(
            f"{field} {str(value)[:40]} is out of range ({low:g} to {high:g}{unit})"
        )
    return float(value)


def _measurements(value) -> dict[str, float]:
    if not isinstance(value, dict) or len(value) > MAX_MEASUREMENTS:
        raise InvalidReading(
            f"measurements must be an object of at most {MAX_MEASUREMENTS} numbers"
        )
    measured = {}
    for name, number in value.items():
        if not isinstance(name, str) or not MEASUREMENT_NAME.fullmatch(name):
            raise InvalidReading(
                f"measurement name {str(name)[:40]!r} must be lower-case letters, "
                "digits and _, starting with a letter, at most 32 characters"
            )
        measured[name] = _bounded(
            number, f"measurements.{name}", -MAX_MEASUREMENT, MAX_MEASUREMENT
        )
    return measured


def _optional(body: dict, field: str, parse):
    """An optional field, parsed; None when absent or null."""
    value = body.get(field)
    return None if value is None else parse(value)


def _json(body: bytes | str):
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InvalidReading(f"body is not JSON: {exc}") from None


def parse_reading(
    body,
    routing_key: str,
    now: datetime,
    max_kwh: Decimal,
    backfill: timedelta = BACKFILL,
    ahead: timedelta = MAX_AHEAD,
    window: str | None = None,
) -> ParsedReading:
    """The reading in a message, or ``InvalidReading`` saying why it is not one.

    ``backfill`` is how old a reading may be, and ``window`` what a refusal calls
    it (``partitions.ingest_window``); the back-fill window by default.

    Everything about a reading that can never be stored or counted is refused
    here, so that it is dead-lettered alone instead of failing its whole batch: a
    bad optional field (``export_kwh``, ``power_w``, ``soc_kwh``, ``measurements``)
    as much as a bad ``kwh``.
    """
    if isinstance(body, bytes | str):
        # A body without a content type arrives undecoded: RabbitMQ's MQTT plugin
        # sets none on what devices publish over MQTT.
        body = _json(body)
    if not isinstance(body, dict):
        raise InvalidReading("a reading must be a JSON object")
    missing = [field for field in FIELDS if field not in body]
    if missing:
        raise InvalidReading(f"missing fields: {', '.join(missing)}")
    device_id = _text(body, "device_id")
    keyed = device_of_reading_key(routing_key)
    if keyed is not None and keyed != device_id:
        raise InvalidReading("device_id differs from the routing key's")
    try:
        timestamp = _timestamp(body["timestamp"], now, backfill, ahead, window)
        return ParsedReading(
            reading_id=_text(body, "reading_id"),
            device_id=device_id,
            timestamp=timestamp,
            hour=hour_of(timestamp),
            kwh=_kwh(body["kwh"], max_kwh),
            export_kwh=_optional(
                body, "export_kwh", lambda v: _kwh(v, max_kwh, "export_kwh")
            ),
            power_w=_optional(
                body,
                "power_w",
                lambda v: _bounded(v, "power_w", -MAX_POWER_W, MAX_POWER_W, "W"),
            ),
            soc_kwh=_optional(
                body, "soc_kwh", lambda v: _bounded(v, "soc_kwh", 0, MAX_SOC_KWH, "kWh")
            ),
            measurements=_optional(body, "measurements", _measurements),
        )
    except ArithmeticError as exc:
        # The rules above compare before converting; should a value still be out
        # of range for a conversion, it is the reading's fault, not the worker's.
        raise InvalidReading(f"a value is out of range ({exc})") from exc


def unique(readings: list[ParsedReading]) -> list[ParsedReading]:
    """The first of each ``reading_id``, in order."""
    seen, kept = set(), []
    for reading in readings:
        if reading.reading_id not in seen:
            seen.add(reading.reading_id)
            kept.append(reading)
    return kept


def increments(readings: list[ParsedReading]) -> dict[tuple[str, datetime], Energy]:
    """Energy to add per device-hour, drawn and exported."""
    added: dict[tuple[str, datetime], Energy] = {}
    for reading in readings:
        key = (reading.device_id, reading.hour)
        energy = Energy(reading.kwh, reading.export_kwh or Decimal(0))
        added[key] = added.get(key, Energy()) + energy
    return added


def alerts(
    readings: list[ParsedReading],
    changes: list[TotalChange],
    devices: dict[str, DeviceLimit],
) -> list[Alert]:
    """Overconsumption raised by a batch of newly counted readings.

    A reading over its device's limit alerts on its own (``reading``). A device-hour
    whose total is over the limit alerts once (``hourly``): when it first goes over,
    or at its next reading if the limit was lowered under it; unless a reading of
    the same batch and hour already said so.
    """
    raised = []
    for reading in readings:
        device = devices[reading.device_id]
        if reading.kwh > device.max_hourly_kwh:
            raised.append(
                Alert(
                    device.user_id,
                    reading.device_id,
                    reading.hour,
                    reading.kwh,
                    device.max_hourly_kwh,
                    "reading",
                    reading.reading_id,
                )
            )
    said = {(alert.device_id, alert.hour) for alert in raised}
    for change in changes:
        device = devices[change.device_id]
        limit = device.max_hourly_kwh
        # Over and not announced yet: crossed by this batch, or already over a
        # limit that was lowered since (``newly_over`` marks both announced).
        over = change.after > limit and not change.alerted
        if over and (change.device_id, change.hour) not in said:
            raised.append(
                Alert(
                    device.user_id,
                    change.device_id,
                    change.hour,
                    change.after,
                    limit,
                    "hourly",
                )
            )
    return raised


def newly_over(
    changes: list[TotalChange], devices: dict[str, DeviceLimit]
) -> list[tuple[str, datetime]]:
    """Device-hours now over their limit and not yet marked as announced."""
    return [
        (c.device_id, c.hour)
        for c in changes
        if not c.alerted and c.after > devices[c.device_id].max_hourly_kwh
    ]


def totals_by_owner(
    changes: list[TotalChange], devices: dict[str, DeviceLimit]
) -> dict[str, list[dict]]:
    """The device-hour totals a batch changed, grouped by the devices' owners: what
    ``consumption.updated`` tells each owner's open pages."""
    owners: dict[str, list[dict]] = {}
    for change in sorted(changes, key=lambda c: (c.device_id, c.hour)):
        owner = devices[change.device_id].user_id
        owners.setdefault(owner, []).append(
            {
                "device_id": change.device_id,
                "hour": change.hour,
                "kwh": change.after,
                "export_kwh": change.export_kwh,
            }
        )
    return owners


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


#: The longest series one call returns: a year of hours.
MAX_SERIES_HOURS = 366 * 24
#: The most devices one call asks about: ten times a user's default device quota.
MAX_SERIES_DEVICES = 1000


def hour_range(start: str, end: str) -> tuple[datetime, datetime]:
    """UTC hour starts from ISO-8601 text; ``ValidationFailed`` if not a range."""
    try:
        first, last = (datetime.fromisoformat(text) for text in (start, end))
    except (TypeError, ValueError) as exc:
        raise ValidationFailed("start and end must be ISO-8601 datetimes") from exc
    if first.tzinfo is None or last.tzinfo is None:
        raise ValidationFailed("start and end need a time zone")
    first, last = (
        moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        for moment in (first, last)
    )
    if not first < last or (last - first) / HOUR > MAX_SERIES_HOURS:
        raise ValidationFailed(
            f"end must follow start by at most {MAX_SERIES_HOURS} hours"
        )
    return first, last


def device_ids(value) -> list[str]:
    """The device ids of a call that asks about several, without repeats, in
    order; ``ValidationFailed`` unless a list of at most ``MAX_SERIES_DEVICES``
    strings."""
    if (
        not isinstance(value, list)
        or len(value) > MAX_SERIES_DEVICES
        or not all(isinstance(item, str) for item in value)
    ):
        raise ValidationFailed(
            f"device_ids must be a list of at most {MAX_SERIES_DEVICES} ids"
        )
    return list(dict.fromkeys(value))


def series(
    start: datetime, end: datetime, totals: dict[datetime, Energy]
) -> list[dict]:
    """Every UTC hour from ``start`` to ``end``, zero-filled, as ``{hour, kwh,
    export_kwh}``."""
    count = int((end - start) / HOUR)
    hours = [start + i * HOUR for i in range(count)]
    return [
        {"hour": hour, "kwh": energy.kwh, "export_kwh": energy.export_kwh}
        for hour in hours
        for energy in (totals.get(hour, Energy()),)
    ]


def day_series(day: date, totals: dict[datetime, Energy]) -> list[dict]:
    """The 24 UTC hours of ``day``, zero-filled, as ``{hour, kwh, export_kwh}``."""
    return series(*day_bounds(day), totals)
