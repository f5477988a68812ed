"""The copy of the devices monitoring keeps from ``ems.sync`` (owner, hourly limit),
and what it does when the copy lacks one: a device's ``device.created`` may still be
on its way when its first reading or a request about it arrives, so such a device is
asked of the devices service, and kept."""

from datetime import datetime
from decimal import Decimal

from services.common.errors import NotFound
from services.monitoring.logic import DeviceLimit


def known_devices(storage, devices_rpc, device_ids: set[str]) -> dict[str, DeviceLimit]:
    """``{device_id: DeviceLimit}`` of the devices among ``device_ids`` that exist
    or existed (``deleted`` tells); one the devices service does not know is left
    out."""
    known = storage.device_limits(device_ids)
    for device_id in set(device_ids) - known.keys():
        try:
            device = devices_rpc.describe_device(device_id)
        except NotFound:
            continue
        updated_at = datetime.fromisoformat(device["updated_at"])
        storage.put_device(
            device_id, device["user_id"], device["max_hourly_kwh"], updated_at
        )
        known[device_id] = DeviceLimit(
            device["user_id"], Decimal(str(device["max_hourly_kwh"]))
        )
    return known
