"""The copy of the devices monitoring keeps from ``ems.sync`` (owner, hourly limit,
reading interval, kind, place), and what it does when the copy lacks one: a device's
``device.created`` may still be on its way when its first reading or a request about
it arrives, so such a device is asked of the devices service, and kept. A device
kept before the copy held kinds is asked again when its kind matters
(``described_device``)."""

from datetime import datetime
from decimal import Decimal

from services.common.errors import NotFound
from services.monitoring.logic import DeviceLimit
from services.monitoring.status import DEFAULT_READING_INTERVAL_S


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
        put_device(storage, device)
        known[device_id] = _limit(device)
    return known


def described_device(storage, devices_rpc, device_id: str) -> DeviceLimit | None:
    """``known_devices``' one device, with its kind and place: one kept before the
    copy held them is asked of the devices service again, and kept."""
    device = known_devices(storage, devices_rpc, {device_id}).get(device_id)
    if device is None or device.deleted or device.kind is not None:
        return device
    try:
        described = devices_rpc.describe_device(device_id)
    except NotFound:
        return device
    put_device(storage, described)
    return _limit(described)


def _limit(device: dict) -> DeviceLimit:
    return DeviceLimit(
        device["user_id"],
        Decimal(str(device["max_hourly_kwh"])),
        reading_interval_s=reading_interval_of(device),
        kind=device.get("kind"),
        latitude=device.get("latitude"),
        longitude=device.get("longitude"),
    )


def put_device(storage, device: dict) -> None:
    """Keep a device as the devices service dumps it (an event's, or an answer's)."""
    storage.put_device(
        device["id"],
        device["user_id"],
        device["max_hourly_kwh"],
        datetime.fromisoformat(device["updated_at"]),
        reading_interval_of(device),
        device.get("kind"),
        device.get("latitude"),
        device.get("longitude"),
    )


def reading_interval_of(device: dict) -> int:
    """A device's reading interval; the default for an event published before the
    devices service kept one."""
    return int(device.get("reading_interval_s") or DEFAULT_READING_INTERVAL_S)
