"""The CSV exports: the first page is asked in the request, each next one only as
the body is read, through a proxy opened by the body and closed at its end."""

import csv
import io
from unittest.mock import Mock

from gateway import exports

CALLER = {"user_id": "u", "role": "USER"}
QUERY = {"scope": "device", "id": "d", "resolution": "hour"}


def page(starts, following):
    return {
        "scope": "device",
        "resolution": "hour",
        "series": [
            {
                "start": start,
                "import_kwh": "1.5",
                "export_kwh": "0",
                "net_kwh": "1.5",
                "cost": "0.45",
                "co2_kg": "0.6",
            }
            for start in starts
        ],
        "next": following,
    }


class FakeProxy:
    """``GatewayRpcProxy`` as the body uses it, recording what it is asked."""

    pages: dict = {}
    asked: list = []
    closed = False

    def __init__(self, config, timeout=None):
        pass

    def __enter__(self):
        monitoring = Mock()
        monitoring.energy_page.side_effect = lambda caller, query, after: (
            FakeProxy.asked.append(after) or FakeProxy.pages[after]
        )
        return Mock(monitoring=monitoring)

    def __exit__(self, *exc):
        FakeProxy.closed = True


def test_pages_are_asked_for_as_the_body_is_read(monkeypatch):
    monkeypatch.setattr(exports, "GatewayRpcProxy", FakeProxy)
    FakeProxy.asked, FakeProxy.closed = [], False
    FakeProxy.pages = {"h1": page(["h2", "h3"], "h3"), "h3": page(["h4"], None)}
    monitoring = Mock()
    monitoring.energy_page.return_value = page(["h0", "h1"], "h1")

    response = exports.energy_csv({}, monitoring, CALLER, QUERY)
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="energy-device-hour.csv"'
    )
    assert response.mimetype == "text/csv"
    body = response.iter_encoded()
    chunks = [next(body), next(body)]  # the header, the first page
    assert FakeProxy.asked == []
    chunks.append(next(body))
    assert FakeProxy.asked == ["h1"]
    chunks.extend(body)
    assert FakeProxy.asked == ["h1", "h3"] and FakeProxy.closed
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode("utf-8"))))
    assert [row["start"] for row in rows] == ["h0", "h1", "h2", "h3", "h4"]
    assert rows[0]["cost"] == "0.45"


def test_a_single_page_needs_no_proxy(monkeypatch):
    opened = Mock(side_effect=AssertionError("no proxy wanted"))
    monkeypatch.setattr(exports, "GatewayRpcProxy", opened)
    monitoring = Mock()
    monitoring.readings_page.return_value = {
        "readings": [
            {
                "timestamp": "2026-12-01T10:15:00Z",
                "reading_id": "r-1",
                "kwh": "0.25",
                "export_kwh": None,
                "power_w": 1200.5,
                "soc_kwh": None,
            }
        ],
        "next": None,
    }
    response = exports.readings_csv(
        {}, monitoring, CALLER, {"device_id": "6f1c9d2e-0000-4000-8000-0000000000dd"}
    )
    text = b"".join(response.iter_encoded()).decode("utf-8")
    assert text.splitlines() == [
        "timestamp,reading_id,kwh,export_kwh,power_w,soc_kwh",
        "2026-12-01T10:15:00Z,r-1,0.25,,1200.5,",
    ]
