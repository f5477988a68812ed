"""What an energy answer is of, and who may read it: a device, a room, a site, or
the caller's portfolio, as a condition on the devices monitoring keeps.

A site's (its rooms', its devices') energy is readable by READERS and the site's
members; a device's also by its owner. One out of reach is missing (404). A
portfolio is every site the caller may read and every device they own (READERS:
every device); its days are summed by their local date label, each site's own.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, true

from services.common.schemas import is_id
from services.monitoring import energy, policies, rollups
from services.monitoring.devices import described_device, site_terms
from services.monitoring.exceptions import NoSuchDevice, NoSuchRoom, NoSuchSite
from services.monitoring.logic import Energy
from services.monitoring.models import MonitoredDevice
from services.monitoring.tariffs import DEFAULT, SiteTerms, zone


@dataclass(frozen=True)
class Scope:
    kind: str
    id: str | None
    #: Which devices the figures are of.
    condition: object
    #: The terms of each site involved (None: devices without a site).
    terms: dict[str | None, SiteTerms]

    @property
    def timezone(self) -> str | None:
        """The one time zone of the answer's days; None across several."""
        zones = {terms.zone.key for terms in self.terms.values()} or {"UTC"}
        return zones.pop() if len(zones) == 1 else None

    @property
    def zone(self) -> ZoneInfo:
        """Where dates asked for are resolved (UTC across several zones)."""
        return zone(self.timezone or "UTC")

    @property
    def currency(self) -> str | None:
        currencies = {terms.tariff.currency for terms in self.terms.values()}
        currencies = currencies or {DEFAULT.tariff.currency}
        return currencies.pop() if len(currencies) == 1 else None


def member(site, user_id: str) -> bool:
    return any(m.get("user_id") == user_id for m in site.members or ())


def _site_readable(storage, caller, site_id: str | None) -> bool:
    if policies.READ_CONSUMPTION.allows(caller):
        return True
    site = storage.site(site_id) if site_id else None
    return site is not None and member(site, caller["user_id"])


def resolve(storage, devices_rpc, caller: dict, kind: str, scope_id) -> Scope:
    """The scope the caller asks for; its not-found error when it does not exist
    or is out of their reach."""
    if kind == "device":
        device = is_id(scope_id) and described_device(storage, devices_rpc, scope_id)
        if not device or device.deleted:
            raise NoSuchDevice()
        site_id = storage.sites_of_devices([scope_id]).get(scope_id)
        terms = site_terms(storage, devices_rpc, {site_id} if site_id else set())
        if not (
            policies.READ_CONSUMPTION.allows(caller, device.user_id)
            or _site_readable(storage, caller, site_id)
        ):
            raise NoSuchDevice()
        return Scope(
            kind,
            scope_id,
            MonitoredDevice.id == scope_id,
            {site_id: terms.get(site_id, DEFAULT)},
        )
    if kind == "site":
        terms = site_terms(storage, devices_rpc, {scope_id})
        if storage.site(scope_id) is None or not _site_readable(
            storage, caller, scope_id
        ):
            raise NoSuchSite()
        return Scope(kind, scope_id, MonitoredDevice.site_id == scope_id, terms)
    if kind == "room":
        devices = storage.devices_where(MonitoredDevice.room_id == scope_id)
        site_ids = {device.site_id for device in devices}
        if not devices or len(site_ids) != 1:
            raise NoSuchRoom()
        [site_id] = site_ids
        terms = site_terms(storage, devices_rpc, {site_id} if site_id else set())
        if not _site_readable(storage, caller, site_id):
            raise NoSuchRoom()
        return Scope(
            kind,
            scope_id,
            MonitoredDevice.room_id == scope_id,
            {site_id: terms.get(site_id, DEFAULT)},
        )
    return _portfolio(storage, caller)


def _portfolio(storage, caller: dict) -> Scope:
    if policies.READ_CONSUMPTION.allows(caller):
        condition = true()
    else:
        sites = storage.readable_sites(caller["user_id"])
        condition = or_(
            MonitoredDevice.user_id == caller["user_id"],
            MonitoredDevice.site_id.in_(sites),
        )
    site_ids = {device.site_id for device in storage.devices_where(condition)}
    known = storage.site_terms({s for s in site_ids if s}, lock=False)
    return Scope(
        "portfolio",
        None,
        condition,
        {site_id: known.get(site_id, DEFAULT) for site_id in site_ids},
    )


def amounts(storage, scope: Scope, window: energy.Range) -> dict:
    """``{bucket key: Amounts}`` of the scope's devices in the range: days and
    months from the rollups, hours from the hourly totals priced per site."""
    if window.resolution != "hour":
        return storage.rollup_amounts(
            window.resolution, scope.condition, window.start, window.end
        )
    return hour_amounts(storage, scope, window.start, window.end)


def hour_amounts(storage, scope: Scope, start: datetime, end: datetime) -> dict:
    hours: dict = {}
    for site_id, hour, kwh, export_kwh in storage.site_hours(
        scope.condition, start, end
    ):
        terms = scope.terms.get(site_id, DEFAULT)
        figures = rollups.of_hour(hour, Energy(kwh, export_kwh), terms)
        hours[hour] = hours.get(hour, rollups.Amounts()) + figures
    return hours
