"""dr's load computation asks other services a fixed number of times per
participant, however many devices they have."""

from datetime import UTC, datetime
from decimal import Decimal

from nameko.testing.services import worker_factory

from services.dr.service import DrService

USER = "6f1c9d2e-0000-4000-8000-0000000000d1"
FIRST = datetime(2026, 11, 20, 17, tzinfo=UTC)
LAST = datetime(2026, 11, 20, 19, tzinfo=UTC)


def rows(at_17, at_18):
    return [
        {"hour": "2026-11-20T17:00:00Z", "kwh": at_17},
        {"hour": "2026-11-20T18:00:00Z", "kwh": at_18},
    ]


def test_a_participant_s_load_takes_one_call_for_all_their_devices():
    service = worker_factory(DrService)
    devices = [{"id": f"device-{i}"} for i in range(25)]
    service.devices_rpc.list_devices.return_value = devices
    service.monitoring_rpc.hourly_series_of.return_value = {
        device["id"]: rows(0.1, 0.25) for device in devices
    }
    load = service._load(USER, FIRST, LAST)
    service.devices_rpc.list_devices.assert_called_once_with(
        {"user_id": USER, "role": "USER"}
    )
    service.monitoring_rpc.hourly_series_of.assert_called_once_with(
        [device["id"] for device in devices],
        "2026-11-20T17:00:00Z",
        "2026-11-20T19:00:00Z",
    )
    service.monitoring_rpc.hourly_series.assert_not_called()
    assert load == {FIRST: Decimal("2.5"), FIRST.replace(hour=18): Decimal("6.25")}


def test_a_participant_without_devices_asks_monitoring_nothing():
    service = worker_factory(DrService)
    service.devices_rpc.list_devices.return_value = []
    assert service._load(USER, FIRST, LAST) == {}
    service.monitoring_rpc.hourly_series_of.assert_not_called()
