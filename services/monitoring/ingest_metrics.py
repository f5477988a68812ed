"""What the ingest worker tells Prometheus of each batch, once it is committed:
its size, the readings newly stored (by how they came) and their lag, and the
readings rejected (by why)."""

from services.common.batching import Delivery
from services.common.metrics import (
    INGEST_BATCH_SIZE,
    INGEST_LAG,
    INGEST_PUBLISH_LAG,
    READINGS_COMMITTED,
    READINGS_REJECTED,
    reason_label,
)
from services.common.topology import reading_path
from services.monitoring.logic import ParsedReading


def record_batch(
    deliveries: list[Delivery],
    parsed: list[tuple[int, ParsedReading]],
    inserted: list[ParsedReading],
    rejected: dict[int, str],
    committed_at: float,
) -> None:
    """Count a batch committed at ``committed_at`` (epoch seconds): ``parsed``
    pairs each valid reading with its delivery's index, ``inserted`` are those
    stored for the first time (a redelivered reading is not counted again)."""
    INGEST_BATCH_SIZE.observe(len(deliveries))
    for reason in rejected.values():
        READINGS_REJECTED.labels(reason=reason_label(reason)).inc()
    origin: dict[str, Delivery] = {}
    for index, reading in parsed:
        origin.setdefault(reading.reading_id, deliveries[index])
    for reading in inserted:
        delivery = origin[reading.reading_id]
        READINGS_COMMITTED.labels(path=reading_path(delivery.routing_key)).inc()
        # A reading may be stamped a little ahead of this clock.
        INGEST_LAG.observe(max(0.0, committed_at - reading.timestamp.timestamp()))
        if delivery.received_at is not None:
            INGEST_PUBLISH_LAG.observe(max(0.0, committed_at - delivery.received_at))
