"""What the ingest worker counts of a committed batch."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.common.batching import Delivery, received_at
from services.common.metrics import REGISTRY
from services.monitoring.ingest_metrics import record_batch
from services.monitoring.logic import ParsedReading

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


def value(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def parsed(reading_id, minutes_ago):
    stamp = NOW - timedelta(minutes=minutes_ago)
    hour = stamp.replace(minute=0, second=0, microsecond=0)
    return ParsedReading(reading_id, "d1", stamp, hour, Decimal("0.1"))


def test_a_batch_counts_new_readings_by_path_their_lag_and_rejections():
    names = (
        ("ems_readings_committed_total", {"path": "amqp"}),
        ("ems_readings_committed_total", {"path": "mqtt"}),
        ("ems_readings_rejected_total", {"reason": "kwh N is negative"}),
        ("ems_ingest_lag_seconds_count", {}),
        ("ems_ingest_lag_seconds_bucket", {"le": "300.0"}),
        ("ems_ingest_publish_lag_seconds_count", {}),
        ("ems_ingest_publish_lag_seconds_sum", {}),
        ("ems_ingest_batch_size_sum", {}),
    )
    before = [value(name, **labels) for name, labels in names]
    committed_at = NOW.timestamp()
    deliveries = [
        Delivery("device.d1.reading", b"", False, committed_at - 2),
        Delivery("ems.devices.d1.reading", b"", False, committed_at - 1),
        # The same reading again: stored once, counted once.
        Delivery("device.d1.reading", b"", True, committed_at - 2),
        Delivery("device.d1.reading", b"", False, None),
        Delivery("device.d1.reading", b"", False, committed_at),
    ]
    a, b, c = parsed("a", 1), parsed("b", 10), parsed("c", 60)
    record_batch(
        deliveries,
        [(0, a), (1, b), (2, a), (3, c)],
        [a, b, c],
        {4: "kwh -5 is negative"},
        committed_at,
    )
    after = [value(name, **labels) for name, labels in names]
    moved = {
        f"{name}{labels}": round(later - earlier, 6)
        for (name, labels), earlier, later in zip(names, before, after, strict=True)
    }
    assert moved == {
        "ems_readings_committed_total{'path': 'amqp'}": 2,
        "ems_readings_committed_total{'path': 'mqtt'}": 1,
        "ems_readings_rejected_total{'reason': 'kwh N is negative'}": 1,
        "ems_ingest_lag_seconds_count{}": 3,
        # Only the reading a minute old was stored within 300 s of its stamp.
        "ems_ingest_lag_seconds_bucket{'le': '300.0'}": 1,
        # The third reading came without the balancer's header.
        "ems_ingest_publish_lag_seconds_count{}": 2,
        "ems_ingest_publish_lag_seconds_sum{}": 3,
        "ems_ingest_batch_size_sum{}": 5,
    }


def test_the_balancer_s_receipt_is_read_from_its_header():
    assert received_at({"x-ems-received-at": "1796209615.25"}) == 1796209615.25
    assert received_at({"x-ems-received-at": b"12.5"}) == 12.5
    assert received_at({"x-ems-received-at": "soon"}) is None
    assert received_at({}) is None
    assert received_at(None) is None
