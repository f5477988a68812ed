"""``monitoring.device_states``: what batteries' auto mode learns of its devices."""

from datetime import UTC, datetime

from nameko.testing.services import worker_factory

from services.monitoring.service import MonitoringService
from services.monitoring.status import DeviceStatus

DEVICE = "6f1c9d2e-0000-4000-8000-0000000000dd"
OTHER = "6f1c9d2e-0000-4000-8000-0000000000ee"
AT = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def test_states_by_device_with_the_newest_charge_and_when_it_was_reported():
    service = worker_factory(MonitoringService)
    service.storage.device_statuses.return_value = [
        DeviceStatus(
            DEVICE,
            "u1",
            60,
            online=True,
            since=AT,
            last_seen=AT,
            power_w=2000.0,
            power_at=AT,
            soc_kwh=5.5,
            soc_at=AT,
        ),
        DeviceStatus(OTHER, "u2", 60),
    ]
    states = service.device_states([DEVICE, OTHER, "not an id"])
    service.storage.device_statuses.assert_called_once_with(device_ids=[DEVICE, OTHER])
    assert states[DEVICE]["online"] is True
    assert (states[DEVICE]["soc_kwh"], states[DEVICE]["power_w"]) == (5.5, 2000.0)
    assert states[DEVICE]["reported_at"] == "2026-12-02T10:00:00Z"
    assert states[DEVICE]["last_seen"] == "2026-12-02T10:00:00Z"
    assert states[OTHER]["online"] is False and states[OTHER]["soc_kwh"] is None


def test_no_ids_asks_nothing():
    service = worker_factory(MonitoringService)
    assert service.device_states([]) == {}
    service.storage.device_statuses.assert_not_called()
