"""Readings for a running ``Stack``: a day inside the back-fill window to stamp them
on, publishing them as meters do, and what its monitoring database counted."""

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


def stored(stack: Stack, *device_ids: str) -> tuple[int, int, float]:
    """Of these devices' readings in monitoringdb: how many rows, how many distinct
    ``reading_id``s, and the sum of their hourly totals in kWh."""
    engine = create_engine(stack.resources.databases["monitoringdb"])
    try:
        with engine.connect() as connection:
            count = connection.execute(
                text(
                    "SELECT count(*), count(DISTINCT reading_id) FROM readings "
                    "WHERE device_id = ANY(:d)"
                ),
                {"d": list(device_ids)},
            ).one()
            total = connection.execute(
                text(
                    "SELECT coalesce(sum(kwh), 0) FROM hourly_totals "
                    "WHERE device_id = ANY(:d)"
                ),
                {"d": list(device_ids)},
            ).scalar()
    finally:
        engine.dispose()
    return count[0], count[1], float(total)


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
