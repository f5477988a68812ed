"""monitoring's copy of the devices: a device kept before the copy held kinds and
places is asked of devices again when its kind matters."""

from datetime import UTC, datetime
from decimal import Decimal
from unittest.mock import Mock

from services.common.errors import NotFound
from services.monitoring.devices import described_device
from services.monitoring.logic import DeviceLimit

DEVICE_ID = "6f1c9d2e-0000-4000-8000-0000000000dd"
OWNER = "6f1c9d2e-0000-4000-8000-0000000000aa"
DESCRIBED = {
    "id": DEVICE_ID,
    "user_id": OWNER,
    "kind": "pv",
    "max_hourly_kwh": 4.0,
    "reading_interval_s": 60,
    "latitude": -33.9,
    "longitude": 18.4,
    "updated_at": datetime(2026, 12, 1, tzinfo=UTC).isoformat(),
}


def copy_of(**fields) -> Mock:
    storage = Mock()
    storage.device_limits.return_value = {
        DEVICE_ID: DeviceLimit(OWNER, Decimal(4), **fields)
    }
    return storage


def test_a_device_kept_without_its_kind_is_asked_again_and_kept():
    storage, devices_rpc = copy_of(), Mock()
    devices_rpc.describe_device.return_value = DESCRIBED
    device = described_device(storage, devices_rpc, DEVICE_ID)
    assert (device.kind, device.latitude, device.longitude) == ("pv", -33.9, 18.4)
    devices_rpc.describe_device.assert_called_once_with(DEVICE_ID)
    stored = storage.put_device.call_args.args
    assert stored[0] == DEVICE_ID and stored[-4:-1] == ("pv", -33.9, 18.4)


def test_a_device_kept_with_its_kind_is_not_asked_again():
    storage, devices_rpc = copy_of(kind="meter"), Mock()
    assert described_device(storage, devices_rpc, DEVICE_ID).kind == "meter"
    devices_rpc.describe_device.assert_not_called()
    storage.put_device.assert_not_called()


def test_a_deleted_device_or_one_devices_no_longer_knows_stays_as_kept():
    storage, devices_rpc = copy_of(deleted=True), Mock()
    assert described_device(storage, devices_rpc, DEVICE_ID).deleted
    devices_rpc.describe_device.assert_not_called()
    devices_rpc.describe_device.side_effect = NotFound()
    kept = described_device(copy_of(), devices_rpc, DEVICE_ID)
    assert kept.kind is None and kept.user_id == OWNER
