"""Whatever a message holds, parsing it gives a valid reading or InvalidReading."""

import math
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.monitoring import logic
from services.monitoring.exceptions import InvalidReading

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
MAX = Decimal("1000")
DEVICE = "7a2e0000-0000-0000-0000-000000000000"

TIMESTAMPS = (
    st.sampled_from(
        [
            "2026-11-22T10:15:00Z",
            "2026-11-22T11:00:00+00:00",
            "0001-01-01T00:00:00+01:00",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59-14:00",
            "9999-12-31T23:59:59Z",
            "1970-01-01T00:00:00Z",
            "2026-11-22T10:15:00",
            "2026-11-22",
            "",
        ]
    )
    | st.datetimes(timezones=st.timezones()).map(datetime.isoformat)
    | st.text()
)
NUMBERS = (
    st.integers()
    | st.floats()
    | st.sampled_from([10**30, 2**63, 1e30, 1e308, 5e-324, -0.0, 0.1, True])
)
TEXT = st.text() | st.sampled_from([DEVICE, "\ud800", "a\x00", "x" * 65, ""])
JSONISH = st.recursive(
    st.none() | st.booleans() | NUMBERS | TEXT,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
READINGS = st.fixed_dictionaries(
    {
        "reading_id": TEXT | JSONISH,
        "device_id": st.just(DEVICE) | TEXT | JSONISH,
        "timestamp": TIMESTAMPS | JSONISH,
        "kwh": NUMBERS | JSONISH,
    },
    optional={
        "extra": JSONISH,
        "export_kwh": NUMBERS | JSONISH,
        "power_w": NUMBERS | JSONISH,
        "soc_kwh": NUMBERS | JSONISH,
        "measurements": st.dictionaries(TEXT, NUMBERS | JSONISH, max_size=4) | JSONISH,
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=READINGS | JSONISH,
    key=st.sampled_from([f"device.{DEVICE}.reading", "device.other.reading", "x"]),
)
def test_a_message_is_a_reading_or_invalid(body, key):
    try:
        reading = logic.parse_reading(body, key, NOW, MAX)
    except InvalidReading:
        return
    assert isinstance(reading, logic.ParsedReading)
    assert reading.timestamp.tzinfo is not None
    assert Decimal(0) <= reading.kwh <= MAX
    assert reading.export_kwh is None or Decimal(0) <= reading.export_kwh <= MAX
    for value in (
        reading.power_w,
        reading.soc_kwh,
        *(reading.measurements or {}).values(),
    ):
        assert value is None or (isinstance(value, float) and math.isfinite(value))
