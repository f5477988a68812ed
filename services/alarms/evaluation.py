"""One round of the rules: which devices and sites each rule watches, what the
platform knows of them now (asked of monitoring and batteries, a few calls for
every rule at once), and what each rule finds there.

A source that cannot be asked (down, slow, an older version) leaves the facts it
would have given unknown: the rules that need them find nothing, and their alarms
stay as they are rather than clear on a guess."""

import logging
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from services.alarms import logic
from services.alarms.logic import DeviceFacts, Observation
from services.common.rpc import OPTIONAL_CALL_FAILURES
from services.common.topology import iso_utc

log = logging.getLogger(__name__)

#: Answers in another shape count as failures too.
FAILURES = (*OPTIONAL_CALL_FAILURES, KeyError, TypeError, ValueError)
#: The generation forecasts of past hours already asked: ``{(device_id, hour):
#: kWh}``; a forecast of a past hour does not change.
_forecasts: dict[tuple[str, datetime], Decimal] = {}


@dataclass(frozen=True)
class Originator:
    """What an alarm is raised on: a device, or a whole site."""

    type: str
    id: str
    name: str
    user_id: str
    site_id: str | None
    device_id: str | None


@dataclass
class Coverage:
    """Which rules watch which devices, and which watch a whole site's total."""

    #: ``{device_id: [rule]}``
    devices: dict = field(default_factory=lambda: defaultdict(list))
    #: ``{site_id: [rule]}``: ``energy_over`` on a whole site.
    sites: dict = field(default_factory=lambda: defaultdict(list))

    def device_ids(self, *types: str) -> list[str]:
        return sorted(
            device_id
            for device_id, rules in self.devices.items()
            if any(rule.type in types for rule in rules)
        )


def covered(rules, devices) -> Coverage:
    """What each enabled rule watches among the ``devices`` that exist: looked up
    by device, room, site and kind, so a round costs the rules plus the devices,
    not their product."""
    by = defaultdict(list)
    for device in devices:
        by[("device", device.id)].append(device)
        by[("room", device.room_id)].append(device)
        by[("site", device.site_id)].append(device)
        by[("site-kind", device.site_id, device.kind)].append(device)
        by[("kind", device.kind)].append(device)
    coverage = Coverage()
    for rule in rules:
        if rule.site_id and not rule.kind and rule.type == "energy_over":
            coverage.sites[rule.site_id].append(rule)
            continue
        if rule.device_id:
            watched = by.get(("device", rule.device_id), ())
        elif rule.room_id:
            watched = by.get(("room", rule.room_id), ())
        elif rule.site_id:
            key = ("site-kind", rule.site_id, rule.kind) if rule.kind else None
            watched = by.get(key or ("site", rule.site_id), ())
        else:
            watched = by.get(("kind", rule.kind), ()) if rule.kind else ()
        for device in watched:
            coverage.devices[device.id].append(rule)
    return coverage


def _ask(what: str, call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except FAILURES as exc:
        log.warning("alarm rules go without %s: %s", what, exc)
        return None


def gather(
    coverage: Coverage, site_devices: dict, now: datetime, monitoring, batteries
) -> dict[str, DeviceFacts]:
    """``{device_id: DeviceFacts}`` of every device a rule needs facts of."""
    facts: dict[str, DeviceFacts] = defaultdict(DeviceFacts)
    hour = logic.hour_start(now)

    energy_ids = set(coverage.device_ids("energy_over"))
    for site_id in coverage.sites:
        energy_ids.update(site_devices.get(site_id, ()))
    if energy_ids:
        series = _ask(
            "energy",
            monitoring.hourly_series_of,
            sorted(energy_ids),
            iso_utc(hour),
            iso_utc(hour + logic.HOUR),
        )
        for device_id, hours in (series or {}).items():
            kwh = Decimal(str(hours[0]["kwh"])) if hours else Decimal(0)
            facts[device_id] = replace(facts[device_id], hour=hour, hour_kwh=kwh)

    state_ids = coverage.device_ids("power_over", "offline", "no_reading")
    if state_ids:
        states = _ask("status", monitoring.device_states, state_ids) or {}
        for device_id, state in states.items():
            facts[device_id] = replace(
                facts[device_id],
                online=bool(state["online"]),
                since=_moment(state.get("since")),
                last_seen=_moment(state.get("last_seen")),
                reading_interval_s=int(state["reading_interval_s"]),
                power_w=state.get("power_w"),
                power_at=_moment(state.get("power_at")),
            )

    windows = defaultdict(set)
    for device_id, rules in coverage.devices.items():
        for rule in rules:
            if rule.type == "power_over":
                windows[rule.duration_min].add(device_id)
    for minutes, ids in sorted(windows.items()):
        floors = _ask(
            "power", monitoring.power_floor, sorted(ids), minutes, iso_utc(now)
        )
        if floors is None:
            continue
        for device_id in ids:
            floor = floors.get(device_id)
            found = (
                (floor["lowest_w"], _moment(floor["first_at"]), floor["readings"])
                if floor
                else (None, None, 0)
            )
            facts[device_id] = replace(
                facts[device_id],
                power_floor={**facts[device_id].power_floor, minutes: found},
            )

    soc_ids = coverage.device_ids("soc_below")
    if soc_ids:
        for battery in _ask("batteries", batteries.fleet_of, soc_ids) or []:
            capacity = float(battery["capacity_kwh"])
            if capacity > 0:
                facts[battery["device_id"]] = replace(
                    facts[battery["device_id"]],
                    soc_pct=float(battery["soc_kwh"]) / capacity * 100,
                )

    pv_ids = coverage.device_ids("generation_below_forecast")
    if pv_ids:
        last = hour - logic.HOUR
        series = _ask(
            "generation",
            monitoring.hourly_series_of,
            pv_ids,
            iso_utc(last),
            iso_utc(hour),
        )
        for device_id in pv_ids if series is not None else ():
            made = series.get(device_id) or [{"export_kwh": 0}]
            forecast = _forecast(monitoring, device_id, last)
            if forecast is None:
                continue
            facts[device_id] = replace(
                facts[device_id],
                generated_hour=last,
                generated_kwh=Decimal(str(made[0]["export_kwh"])),
                forecast_kwh=forecast,
            )
    return facts


def _forecast(monitoring, device_id: str, hour: datetime) -> Decimal | None:
    """A PV device's forecast of the past ``hour``, made as it would have been at
    its start; asked once per device and hour."""
    key = (device_id, hour)
    if key not in _forecasts:
        answer = _ask(
            "a generation forecast",
            monitoring.forecast_generation,
            device_id,
            1,
            iso_utc(hour),
        )
        if answer is None:
            return None
        for old in [old for old in _forecasts if old[1] < hour]:
            del _forecasts[old]
        _forecasts[key] = Decimal(str(answer["hours"][0]["kwh"]))
    return _forecasts[key]


def _moment(value) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def observe_all(
    coverage: Coverage,
    facts: dict[str, DeviceFacts],
    devices: dict,
    sites: dict,
    site_devices: dict,
    now: datetime,
) -> tuple[dict[tuple[str, str], list[Observation]], dict[str, Originator]]:
    """What every rule finds: ``{(originator_id, type): [Observation]}`` with the
    originators; a rule that could not tell is left out, and an originator and
    type none could tell is missing."""
    found: dict[tuple[str, str], list[Observation]] = defaultdict(list)
    originators: dict[str, Originator] = {}
    for device_id, rules in coverage.devices.items():
        device = devices[device_id]
        originators[device_id] = Originator(
            "device", device_id, device.name, device.user_id, device.site_id, device_id
        )
        for rule in rules:
            observation = logic.observe(
                rule, device.name, facts.get(device_id, DeviceFacts()), now
            )
            if observation is not None:
                found[(device_id, rule.type)].append(observation)
    hour = logic.hour_start(now)
    for site_id, rules in coverage.sites.items():
        site = sites.get(site_id)
        if site is None:
            continue
        members = [
            facts[device_id].hour_kwh
            for device_id in site_devices.get(site_id, ())
            if device_id in facts
        ]
        if len(members) < len(site_devices.get(site_id, ())) or None in members:
            continue
        owner = next((m["user_id"] for m in site.members if m["role"] == "owner"), "")
        originators[site_id] = Originator(
            "site", site_id, site.name, owner, site_id, None
        )
        total = sum(members, Decimal(0))
        for rule in rules:
            found[(site_id, rule.type)].append(
                logic.observe_site(rule, site.name, hour, total)
            )
    return found, originators


def watched(coverage: Coverage) -> set[tuple[str, str]]:
    """Every originator and type some enabled rule watches."""
    keys = {
        (device_id, rule.type)
        for device_id, rules in coverage.devices.items()
        for rule in rules
    }
    keys.update(
        (site_id, rule.type)
        for site_id, rules in coverage.sites.items()
        for rule in rules
    )
    return keys
