"""The copy of the devices monitoring keeps from ``ems.sync`` (owner, hourly limit,
reading interval, kind, place, site and room) and of their sites, and what it does
when the copy lacks one: a device's ``device.created`` (a site's ``site.created``)
may still be on its way when its first reading or a request about it arrives, so
such a device (site) is asked of the devices service, and kept. A device kept
before the copy held kinds is asked again when its kind matters
(``described_device``).

A site whose terms change, or a device that moves to another site, has its day and
month rollups rebuilt from its hourly totals in the same transaction
(``services/monitoring/rollups.py``)."""

from datetime import datetime
from decimal import Decimal

from nameko.exceptions import MethodNotFound

from services.common.errors import NotFound
from services.monitoring.logic import DeviceLimit
from services.monitoring.status import DEFAULT_READING_INTERVAL_S
from services.monitoring.tariffs import DEFAULT, SiteTerms

#: A device's place as its event may give it.
PLACE = ("site_id", "room_id")


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
        put_device(storage, device, devices_rpc)
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
    put_device(storage, described, devices_rpc)
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


def put_device(storage, device: dict, devices_rpc=None) -> None:
    """Keep a device as the devices service dumps it (an event's, or an answer's);
    moved to another site, rebuild its rollups under that site's terms."""
    moved = storage.put_device(
        device["id"],
        device["user_id"],
        device["max_hourly_kwh"],
        datetime.fromisoformat(device["updated_at"]),
        reading_interval_of(device),
        device.get("kind"),
        device.get("latitude"),
        device.get("longitude"),
        {key: device[key] for key in PLACE if key in device},
    )
    site_id = device.get("site_id")
    if site_id and moved:
        terms = site_terms(storage, devices_rpc, {site_id}).get(site_id, DEFAULT)
        storage.rebuild_rollups([device["id"]], terms)


def put_site(storage, site: dict) -> None:
    """Keep a site as the devices service dumps it; its terms changed, rebuild
    its devices' rollups (the site's row, written first, stays locked until the
    commit: the ingest waits)."""
    if storage.put_site(site, datetime.fromisoformat(site["updated_at"])):
        storage.rebuild_rollups(
            storage.devices_of_site(site["id"]), SiteTerms.of_site(site)
        )


def site_terms(storage, devices_rpc, site_ids: set[str]) -> dict[str, SiteTerms]:
    """The terms of each of ``site_ids``, their rows locked ``FOR SHARE``; a site
    not kept yet is asked of the devices service and kept; one it does not know
    (or that cannot be asked: ``devices_rpc`` None) has the default terms."""
    terms = storage.site_terms(site_ids)
    for site_id in sorted(set(site_ids) - terms.keys()):
        site = None
        if devices_rpc is not None:
            try:
                site = devices_rpc.describe_site(site_id)
            except (NotFound, MethodNotFound):
                # A devices service from before sites knows none.
                site = None
        if site is not None:
            put_site(storage, site)
            terms.update(storage.site_terms({site_id}))
        terms.setdefault(site_id, DEFAULT)
    return terms


def device_terms(storage, devices_rpc, device_ids) -> dict[str, SiteTerms]:
    """``{device_id: SiteTerms}`` of the devices a batch counts, their rows and
    their sites' locked ``FOR SHARE`` until the commit: a site's change, or a
    device's move, waits for the batch, and the batch for the change's rebuild."""
    sites = storage.sites_of_devices(device_ids)
    terms = site_terms(storage, devices_rpc, {s for s in sites.values() if s})
    return {
        device_id: terms[site_id] if site_id else DEFAULT
        for device_id, site_id in sites.items()
    }


def reading_interval_of(device: dict) -> int:
    """A device's reading interval; the default for an event published before the
    devices service kept one."""
    return int(device.get("reading_interval_s") or DEFAULT_READING_INTERVAL_S)
