"""What a site's or a portfolio's dashboard and monthly report are made of,
gathered from monitoring's own tables (rollups, hourly totals, device states,
alerts), the batteries service's fleet and the alarms service's active alarms,
and worked out by ``kpis.py``.

"Today" and "this month" are the scope's own: a site's local day and month; across
a portfolio each site's own today and month, summed (as ``/api/energy`` sums days
by their local date).
"""

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from services.common.rpc import OPTIONAL_CALL_FAILURES
from services.monitoring import energy, kpis, report, scopes
from services.monitoring.energy import DAY, Range, next_month
from services.monitoring.kpis import Hour
from services.monitoring.rollups import Amounts
from services.monitoring.tariffs import DEFAULT

log = logging.getLogger(__name__)

#: How far back an over-limit notification counts on a dashboard while the alarms
#: service cannot say which alarms are active.
ALERT_WINDOW = timedelta(hours=24)
#: What keeps the fleet (the active alarms) from a dashboard: the batteries
#: (alarms) service away, slow or failing; the other figures are still worth
#: showing.
BATTERY_FAILURES = OPTIONAL_CALL_FAILURES


def _today(zone, now: datetime) -> tuple[Range, Range]:
    today = now.astimezone(zone).date()
    first = today.replace(day=1)
    return Range("day", today, today + DAY), Range("month", first, next_month(first))


def _hours(storage, device_ids: list[str], start, end) -> list[Hour]:
    """The devices' hourly totals ``[start, end)``, each one a ``kpis.Hour``."""
    return [
        Hour(device_id, hour, amounts.kwh, amounts.export_kwh)
        for device_id, by_hour in storage.hourly_energy(device_ids, start, end).items()
        for hour, amounts in by_hour.items()
    ]


def _fleet(fleet_of: Callable, device_ids: list[str]) -> list[dict] | None:
    if not device_ids:
        return []
    try:
        return fleet_of(device_ids)
    except BATTERY_FAILURES as exc:
        log.warning("battery fleet unavailable: %s: %s", type(exc).__name__, exc)
        return None


def _alarms(storage, alarm_counts: Callable, device_ids: list[str], now) -> dict:
    """``{device_id: active alarms}``; while the alarms service cannot say, the
    devices' over-limit notifications of the last ``ALERT_WINDOW``."""
    if not device_ids:
        return {}
    try:
        return alarm_counts(device_ids)
    except BATTERY_FAILURES as exc:
        log.warning("active alarms unavailable: %s: %s", type(exc).__name__, exc)
        return storage.alerts_since(device_ids, now - ALERT_WINDOW)


def figures(
    storage,
    fleet_of: Callable,
    scope: scopes.Scope,
    now: datetime,
    alarm_counts: Callable,
) -> dict:
    """The dashboard of ``scope`` (a site or a portfolio) at ``now``.
    ``fleet_of(device_ids)`` is the batteries service's ``fleet_of``,
    ``alarm_counts(device_ids)`` the alarms service's ``active_alarm_counts``."""
    devices = storage.devices_where(scope.condition)
    ids = [device.id for device in devices]
    kinds = {device.id: device.kind for device in devices}
    day, month = _today(scope.zone, now)
    today = energy.total(scopes.amounts(storage, scope, day).values())
    this_month = energy.total(scopes.amounts(storage, scope, month).values())
    start, end = energy.hours_of(day, scope.zone)
    hours = _hours(storage, ids, start, end)
    statuses = storage.device_statuses(device_ids=ids) if ids else []
    online = [status for status in statuses if status.online]
    alerts = _alarms(storage, alarm_counts, ids, now)
    fleet = _fleet(fleet_of, [i for i in ids if kinds[i] == "battery"])
    power = {status.device_id: status.power_w for status in online}
    peak = kpis.peak_hour(hours)
    return {
        "scope": scope.kind,
        "id": scope.id,
        "timezone": scope.timezone,
        "currency": scope.currency,
        "at": now,
        "today": energy.row("", today),
        "month": energy.row("", this_month),
        "peak_hour": peak,
        **kpis.self_use(hours, kinds),
        "power_w": (
            round(sum(p for p in power.values() if p is not None), 1)
            if any(p is not None for p in power.values())
            else None
        ),
        "devices": {
            "total": len(ids),
            "online": len(online),
            "offline": len(ids) - len(online),
        },
        "alerts": {"active": sum(alerts.values())},
        "batteries": None if fleet is None else kpis.fleet(fleet),
        "flexibility_kw": kpis.flexibility_kw(fleet or [], power, kinds),
        "sites": (
            _sites(storage, scope, devices, online, alerts, now)
            if scope.kind == "portfolio"
            else []
        ),
    }


def _sites(storage, scope, devices, online, alerts, now) -> list[dict]:
    """Each site of a portfolio: its today's and month's figures in its own time
    zone, its devices online and its alerts."""
    site_ids = sorted(
        {device.site_id for device in devices if device.site_id is not None}
    )
    if not site_ids:
        return []
    own = {
        site_id: _today(scope.terms.get(site_id, DEFAULT).zone, now)
        for site_id in site_ids
    }
    days = storage.rollups_by_site(
        "day", scope.condition, sorted({d.start for d, _ in own.values()})
    )
    months = storage.rollups_by_site(
        "month", scope.condition, sorted({m.start for _, m in own.values()})
    )
    is_online = {status.device_id for status in online}
    sites = []
    for site_id in site_ids:
        day, month = own[site_id]
        members = [device.id for device in devices if device.site_id == site_id]
        today = days.get((site_id, day.start), Amounts())
        this_month = months.get((site_id, month.start), Amounts())
        sites.append(
            {
                "id": site_id,
                "timezone": scope.terms.get(site_id, DEFAULT).zone.key,
                "today_import_kwh": today.import_kwh,
                "today_net_kwh": today.net_kwh,
                "month_import_kwh": this_month.import_kwh,
                "month_cost": this_month.cost,
                "devices_online": sum(1 for i in members if i in is_online),
                "devices_offline": sum(1 for i in members if i not in is_online),
                "alerts": sum(alerts.get(i, 0) for i in members),
            }
        )
    return sites


def month_range(month: date, zone) -> tuple[Range, datetime, datetime]:
    """A local month as days, and the UTC instants it spans."""
    window = Range("day", month, next_month(month))
    start, end = energy.hours_of(window, zone)
    return window, start, end


def site_report(
    storage, scope: scopes.Scope, site: dict, month: date, names: dict, now: datetime
) -> bytes:
    """The PDF of a site's month (``report.py``), from the same figures as
    ``/api/energy`` at daily resolution. ``names``: the devices' names."""
    window, start, end = month_range(month, scope.zone)
    amounts = scopes.amounts(storage, scope, window)
    series = energy.series(window, amounts, scope.zone)
    answer = {
        "currency": scope.currency or DEFAULT.tariff.currency,
        "series": [_floats(day) for day in series],
        "totals": _floats(energy.row("", energy.total(amounts.values()))),
    }
    ids = [device.id for device in storage.devices_where(scope.condition)]
    hours = _hours(storage, ids, start, end)
    peak = kpis.peak_hour(hours)
    if peak is not None:
        peak["hour"] = peak["hour"].isoformat()
    alerts = [
        {
            "created_at": alert.created_at.isoformat(),
            "message": _alert_text(alert, names),
        }
        for alert in storage.alerts_between(ids, start, end)
    ]
    return report.monthly_report(
        site, f"{month:%Y-%m}", answer, peak, alerts, now.astimezone(UTC)
    )


def _floats(row: dict) -> dict:
    return {
        name: value if name == "start" else float(value) for name, value in row.items()
    }


def _alert_text(alert, names: dict) -> str:
    device = names.get(alert.device_id, alert.device_id[:8])
    if alert.hour is not None and alert.kwh is not None:
        return (
            f"{device}: {alert.kwh:f} kWh in the hour from "
            f"{alert.hour:%d %b %H:%M} UTC, over its limit of {alert.limit_kwh:f} kWh"
        )
    return f"{device}: over its limit"
