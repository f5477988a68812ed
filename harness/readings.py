"""Readings for a running ``Stack``: a day inside the back-fill window to stamp them
on, publishing them as meters do, and what its monitoring database counted.

A reading is ``{reading_id, device_id, timestamp, kwh}`` and may carry
``export_kwh``, ``power_w``, ``soc_kwh`` and ``measurements`` (docs/architecture.md,
Readings); monitoringdb counts ``kwh`` (drawn) and ``export_kwh`` (exported) into
hourly totals apart, and keeps the rest with the reading."""

from datetime import UTC, datetime, timedelta

from kombu import Connection
from sqlalchemy import create_engine, text

from harness.stack import Stack
from services.common.topology import DATA, reading_key


def recent_day(offset: int = 0) -> str:
    """``YYYY-MM-DD`` of a day ``offset`` days from one three days ago: readings
    stamped on it are inside the back-fill window whenever the tests run, and on the
    days around it still in the past."""
    day = datetime.now(UTC).date() - timedelta(days=3 - offset)
    return day.isoformat()


def _query(stack: Stack, sql: str, **params):
    """The rows of one query on the stack's monitoringdb."""
    engine = create_engine(stack.resources.databases["monitoringdb"])
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql), params).all()
    finally:
        engine.dispose()


def stored(stack: Stack, *device_ids: str) -> tuple[int, int, float]:
    """Of these devices' readings in monitoringdb: how many rows, how many distinct
    ``reading_id``s, and the sum of their hourly totals of energy drawn (``kwh``)
    in kWh. Exported energy is counted apart: ``stored_export``."""
    [count] = _query(
        stack,
        "SELECT count(*), count(DISTINCT reading_id) FROM readings "
        "WHERE device_id = ANY(:d)",
        d=list(device_ids),
    )
    [(total,)] = _query(
        stack,
        "SELECT coalesce(sum(kwh), 0) FROM hourly_totals WHERE device_id = ANY(:d)",
        d=list(device_ids),
    )
    return count[0], count[1], float(total)


def stored_export(stack: Stack, *device_ids: str) -> float:
    """The sum of these devices' hourly totals of exported energy (``export_kwh``),
    in kWh."""
    [(total,)] = _query(
        stack,
        "SELECT coalesce(sum(export_kwh), 0) FROM hourly_totals "
        "WHERE device_id = ANY(:d)",
        d=list(device_ids),
    )
    return float(total)


def stored_reading(stack: Stack, reading_id: str) -> dict | None:
    """A reading as monitoringdb keeps it: ``kwh`` and ``export_kwh`` (kWh, None if
    not reported), ``power_w``, ``soc_kwh`` and ``measurements`` (None if not
    reported); None if it is not stored."""
    rows = _query(
        stack,
        "SELECT device_id, timestamp, kwh, export_kwh, power_w, soc_kwh, "
        "measurements FROM readings WHERE reading_id = :r",
        r=reading_id,
    )
    if not rows:
        return None
    row = rows[0]._asdict()
    for field in ("kwh", "export_kwh"):
        row[field] = None if row[field] is None else float(row[field])
    return row


def publish_readings(stack: Stack, *bodies, raw=()):
    """Readings into ``ems.data`` as meters send them; ``raw`` adds
    ``(routing_key, bytes)`` messages published as they are."""
    with Connection(stack.resources.amqp_uri) as connection:
        producer = connection.Producer()
        for body in bodies:
            producer.publish(
                body,
                exchange=DATA,
                routing_key=reading_key(body["device_id"]),
                serializer="json",
                delivery_mode=2,
                declare=[DATA],
                retry=True,
            )
        for key, payload in raw:
            producer.publish(
                payload,
                exchange=DATA,
                routing_key=key,
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=2,
            )


def counted_until(stack: Stack, device_id: str, until: datetime) -> tuple:
    """Of a device's readings stamped no later than ``until``: how many, and the
    sum of their ``kwh``; and the device's hourly totals of energy drawn and
    exported in the hours that end by ``until``, in kWh."""
    [(count, drawn)] = _query(
        stack,
        "SELECT count(*), coalesce(sum(kwh), 0) FROM readings "
        "WHERE device_id = :d AND timestamp <= :t",
        d=device_id,
        t=until,
    )
    [(total, exported)] = _query(
        stack,
        "SELECT coalesce(sum(kwh), 0), coalesce(sum(export_kwh), 0) "
        "FROM hourly_totals WHERE device_id = :d AND hour < :t",
        d=device_id,
        t=until,
    )
    return count, float(drawn), float(total), float(exported)
