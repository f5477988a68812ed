"""The figures a site's or a portfolio's dashboard opens with, worked out from
what monitoring counts and knows (hourly totals, device states) and what the
batteries service says of its fleet. Pure functions: the service gathers the
inputs.

- **Self-consumption** is the share of the site's generation used on the site,
  **self-sufficiency** the share of its consumption covered by its generation,
  both matched hour by hour: an hour's own use is the lesser of what PV devices
  exported and what the other devices imported in it. Neither exists without
  generation (``None``).
- **Flexibility available now** is what could be taken off the grid at once: each
  battery's discharge power, as far as its deliverable energy lasts an hour, and
  the power that switchable loads (chargers, heat pumps, appliances) draw now.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

#: Devices whose export is generation.
GENERATING = frozenset({"pv"})
#: Devices whose draw a command can take off the grid at once.
SWITCHABLE = frozenset({"appliance", "heat_pump", "ev_charger"})
ZERO = Decimal(0)


@dataclass(frozen=True)
class Hour:
    """One UTC hour of one device: what it imported and exported."""

    device_id: str
    hour: str
    import_kwh: Decimal
    export_kwh: Decimal


def _ratio(part: Decimal, whole: Decimal) -> float | None:
    if whole <= 0:
        return None
    return round(float(part / whole), 4)


def self_use(hours: Iterable[Hour], kinds: dict[str, str | None]) -> dict:
    """``{generation_kwh, consumption_kwh, self_consumption, self_sufficiency}``
    of the hours, ``kinds`` being each device's kind."""
    generated: dict[str, Decimal] = {}
    consumed: dict[str, Decimal] = {}
    for one in hours:
        if kinds.get(one.device_id) in GENERATING:
            generated[one.hour] = generated.get(one.hour, ZERO) + one.export_kwh
        else:
            consumed[one.hour] = consumed.get(one.hour, ZERO) + one.import_kwh
    own = sum(
        (min(kwh, consumed.get(hour, ZERO)) for hour, kwh in generated.items()), ZERO
    )
    generation = sum(generated.values(), ZERO)
    consumption = sum(consumed.values(), ZERO)
    return {
        "generation_kwh": float(generation),
        "consumption_kwh": float(consumption),
        "self_consumption": _ratio(own, generation),
        "self_sufficiency": _ratio(own, consumption) if generation > 0 else None,
    }


def peak_hour(hours: Iterable[Hour]) -> dict | None:
    """The hour in which the devices together imported most: ``{hour,
    import_kwh}``, the earliest of equals; ``None`` without any import."""
    totals: dict[str, Decimal] = {}
    for one in hours:
        totals[one.hour] = totals.get(one.hour, ZERO) + one.import_kwh
    if not totals or max(totals.values()) <= 0:
        return None
    hour = min(totals, key=lambda key: (-totals[key], key))
    return {"hour": hour, "import_kwh": float(totals[hour])}


def fleet(batteries: list[dict]) -> dict:
    """A battery fleet in figures: how many, their capacity, their charge now and
    its share of the capacity (weighted by capacity)."""
    capacity = sum(battery["capacity_kwh"] for battery in batteries)
    charge = sum(battery["soc_kwh"] for battery in batteries)
    return {
        "count": len(batteries),
        "capacity_kwh": round(capacity, 3),
        "soc_kwh": round(charge, 3),
        "average_soc_percent": round(100 * charge / capacity, 1) if capacity else None,
    }


def flexibility_kw(
    batteries: list[dict], power_w: dict[str, float | None], kinds: dict[str, str]
) -> float:
    """What could be taken off the grid now, in kW: batteries' discharge (for an
    hour at most what they can deliver) and switchable loads' present draw."""
    stored = sum(
        min(battery["max_discharge_kw"], battery["available_kwh"])
        for battery in batteries
    )
    loads = sum(
        max(power or 0.0, 0.0) / 1000
        for device_id, power in power_w.items()
        if kinds.get(device_id) in SWITCHABLE
    )
    return round(stored + loads, 3)
