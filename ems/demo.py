"""The demo `ems bootstrap` seeds: a household with loads, a PV system and a
battery in auto mode, and a neighbour household that buys its surplus.

Everything is ensured rather than created, so every start converges on the same
demo and leaves alone what is already there. The pure parts (which devices are
missing, the battery's plan, what goes on the market) are separate from the calls
that carry them out (``seed``).
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from services.common.topology import iso_utc
from simulator.devices import BATTERY_EFFICIENCY, BATTERY_HOURS, BATTERY_START

HOUR = timedelta(hours=1)
DAY_HOURS = 24

#: The demo household's devices: name, kind, hourly limit in kWh (a PV system's
#: peak and a battery's power in kW).
DEVICES = [
    ("Household meter", "meter", 1.5),
    ("Heat pump", "heat_pump", 2.0),
    ("EV charger", "ev_charger", 7.4),
    ("Kitchen", "appliance", 1.0),
    ("Rooftop PV", "pv", 5.0),
    ("Home battery", "battery", 5.0),
]
PV_NAME = "Rooftop PV"
BATTERY_NAME = "Home battery"

#: A day-ahead tariff per kWh bought, by UTC hour: cheap at night, dear in the
#: evening peak.
IMPORT_PRICES = [0.15] * 7 + [0.25] * 10 + [0.40] * 4 + [0.25] * 3
#: What the grid pays per kWh fed in, every hour.
EXPORT_PRICE = 0.08
#: The household's usual net use in kWh by UTC hour: its loads less what its PV
#: system gives, below zero (a surplus) around noon.
NET_LOAD_KWH = (
    [0.5] * 6
    + [1.0, 1.2, 0.8, 0.2, -0.5, -1.0, -1.2, -1.0, -0.5, 0.2]
    + [1.0, 1.6, 1.8, 1.6, 1.2, 0.9, 0.7, 0.6]
)

#: The demo household's site: named, placed where its PV is simulated, on that
#: place's clock, with a time-of-use tariff in local hours like the day-ahead
#: prices above (cheap at night, dear from 17 to 21) and a grid of 0.2 kg CO2 a
#: kWh; its devices in rooms.
SITE_NAME = "Demo home"
SITE_ADDRESS = "Greenwich, London"
SITE_TIMEZONE = "Europe/London"
SITE_TARIFF = {
    "currency": "EUR",
    "import_per_kwh": 0.25,
    "export_per_kwh": EXPORT_PRICE,
    "periods": [
        {
            "start_hour": 0,
            "end_hour": 7,
            "import_per_kwh": 0.15,
            "export_per_kwh": 0.08,
        },
        {
            "start_hour": 17,
            "end_hour": 21,
            "import_per_kwh": 0.40,
            "export_per_kwh": 0.08,
        },
    ],
}
SITE_CO2_KG_PER_KWH = 0.2
ROOMS = {
    "Utility room": ("Household meter", "Heat pump"),
    "Garage": ("EV charger", "Home battery"),
    "Kitchen": ("Kitchen",),
    "Roof": ("Rooftop PV",),
}

#: The market: the demo household offers part of its PV system's clear-sky
#: output for each coming hour with enough of it, and the neighbour bids for it.
SALE_SHARE = 0.5
MIN_SALE_KWH = 0.1
ASK_PER_KWH = 0.18
#: An hour that begins sooner than this is left out of the market.
CLOSING = timedelta(minutes=5)
BID_PER_KWH = 0.20


@dataclass(frozen=True)
class Household:
    """Who acts for a household over RPC: its USER."""

    user_id: str

    @property
    def caller(self) -> dict:
        return {"user_id": self.user_id, "role": "USER"}


def missing_devices(existing: list[dict]) -> list[tuple[str, str, float]]:
    """The demo devices not among ``existing`` (matched by name and kind), so
    that an older demo household gains the ones added since."""
    have = {(device["name"], device["kind"]) for device in existing}
    return [spec for spec in DEVICES if (spec[0], spec[1]) not in have]


def named(devices: list[dict], name: str) -> dict | None:
    return next((device for device in devices if device["name"] == name), None)


def battery_body(device: dict) -> dict:
    """The battery of the demo's battery device, as the simulator models it:
    ``max_hourly_kwh`` kW each way, two hours of it, half full."""
    power = float(device["max_hourly_kwh"])
    capacity = BATTERY_HOURS * power
    return {
        "device_id": device["id"],
        "capacity_kwh": capacity,
        "max_charge_kw": power,
        "max_discharge_kw": power,
        "efficiency": BATTERY_EFFICIENCY,
        "soc_kwh": BATTERY_START * capacity,
    }


def rotated(values: list, start: int) -> list:
    """``values`` (one per UTC hour of the day) from hour ``start`` on."""
    start %= len(values)
    return values[start:] + values[:start]


def auto_control(now: datetime) -> dict:
    """``PUT /api/batteries/{id}/control`` for auto mode: the next 24 hours of the
    tariff and the household's usual net use, starting with the hour under way
    (a plan starts with the control interval under way and repeats its prices)."""
    hour = now.astimezone(UTC).hour
    return {
        "control": "auto",
        "plan": {
            "import_prices": rotated(IMPORT_PRICES, hour),
            "export_prices": [EXPORT_PRICE] * DAY_HOURS,
            "load_kwh": rotated(NET_LOAD_KWH, hour),
        },
    }


def coming_hours(now: datetime, count: int = DAY_HOURS) -> list[datetime]:
    """The starts of the ``count`` hours after the one under way that the market
    still trades, but for one that begins within ``CLOSING``: its trading could
    close while the orders are placed."""
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hours = [current + HOUR * (index + 1) for index in range(count)]
    return [hour for hour in hours if hour - now >= CLOSING]


def hour_kwh(watts, hour: datetime, samples: int = 12) -> float:
    """The energy in kWh of a power curve ``watts(epoch seconds array)`` over the
    hour starting at ``hour``."""
    start = hour.timestamp()
    moments = start + (np.arange(samples) + 0.5) * HOUR.total_seconds() / samples
    return float(np.mean(watts(moments))) / 1000.0


def sale_quantity(expected_kwh: float) -> float:
    """What the demo household offers of an hour it expects ``expected_kwh`` of
    PV output in: a share of it, in whole Wh; 0 when too little to sell."""
    quantity = math.floor(expected_kwh * SALE_SHARE * 1000) / 1000
    return quantity if quantity >= MIN_SALE_KWH else 0.0


def market_orders(hours_kwh: dict[datetime, float], pv_device_id: str) -> list:
    """``(hour, sell order, buy order)`` for each hour worth selling: the demo
    household's ask from its PV system and the neighbour's bid that takes it."""
    orders = []
    for hour, expected in sorted(hours_kwh.items()):
        quantity = sale_quantity(expected)
        if not quantity:
            continue
        common = {"delivery_hour": iso_utc(hour), "quantity_kwh": quantity}
        sell = {
            **common,
            "side": "sell",
            "price_per_kwh": ASK_PER_KWH,
            "device_id": pv_device_id,
        }
        buy = {**common, "side": "buy", "price_per_kwh": BID_PER_KWH}
        orders.append((hour, sell, buy))
    return orders


# -- carried out over RPC -----------------------------------------------------------


def ensure_devices(cluster, home: Household) -> list[dict]:
    """The demo household's devices, the missing ones created."""
    devices = cluster.devices.list_devices(home.caller)
    for name, kind, limit in missing_devices(devices):
        devices.append(
            cluster.devices.create_device(
                home.caller, {"name": name, "kind": kind, "max_hourly_kwh": limit}
            )
        )
    return devices


def site_body(latitude: float, longitude: float) -> dict:
    """What the demo household's site is set to."""
    return {
        "name": SITE_NAME,
        "address": SITE_ADDRESS,
        "latitude": latitude,
        "longitude": longitude,
        "timezone": SITE_TIMEZONE,
        "tariff": SITE_TARIFF,
        "co2_kg_per_kwh": SITE_CO2_KG_PER_KWH,
    }


def room_of(device_name: str) -> str | None:
    return next((room for room, names in ROOMS.items() if device_name in names), None)


def ensure_site(cluster, home: Household, devices: list[dict], place) -> dict:
    """The site the household's devices are in, set up as the demo's, with its
    rooms and each device in its own: what differs is changed, the rest left."""
    site = cluster.devices.get_site(home.caller, devices[0]["site_id"])
    wanted = site_body(*place)
    if any(site.get(field) != value for field, value in wanted.items()):
        site = cluster.devices.update_site(home.caller, site["id"], wanted)
    rooms = {
        room["name"]: room["id"]
        for room in cluster.devices.list_rooms(home.caller, site["id"])
    }
    for name in ROOMS:
        if name not in rooms:
            created = cluster.devices.create_room(
                home.caller, site["id"], {"name": name}
            )
            rooms[name] = created["id"]
    for device in devices:
        room = room_of(device["name"])
        if room is not None and device.get("room_id") != rooms[room]:
            cluster.devices.update_device(
                home.caller, device["id"], {"room_id": rooms[room]}
            )
    return site


def ensure_auto_battery(cluster, home: Household, device: dict, now: datetime):
    """The battery of ``device``, created if need be, and in auto mode: a battery
    someone switched to manual is switched back at the next start."""
    batteries = cluster.batteries.list_batteries(home.caller)
    battery = next((b for b in batteries if b["device_id"] == device["id"]), None)
    if battery is None:
        battery = cluster.batteries.create_battery(home.caller, battery_body(device))
    if battery.get("control") != "auto":
        battery = cluster.batteries.set_control(
            home.caller, battery["id"], auto_control(now)
        )
    return battery


def ensure_market(cluster, seller: Household, buyer: Household, orders) -> int:
    """Place ``market_orders`` for each hour the seller has no order in yet;
    the number of hours placed."""
    placed = 0
    for hour, sell, buy in orders:
        query = {"delivery_hour": iso_utc(hour), "limit": 1}
        if cluster.trading.list_orders(seller.caller, query):
            continue
        cluster.trading.place_order(seller.caller, sell)
        cluster.trading.place_order(buyer.caller, buy)
        placed += 1
    return placed


def seed(
    cluster,
    home: Household,
    neighbour: Household,
    pv_watts,
    now: datetime,
    place: tuple[float, float] = (51.48, 0.0),
):
    """The demo household's devices in their site and rooms, its battery in auto
    mode, and the coming day's market with its neighbour. ``pv_watts(device)`` is
    the PV system's clear-sky power curve; what it says of the coming hours is
    offered. ``place``: where the site is, (latitude, longitude)."""
    devices = ensure_devices(cluster, home)
    ensure_site(cluster, home, devices, place)
    ensure_auto_battery(cluster, home, named(devices, BATTERY_NAME), now)
    pv = named(devices, PV_NAME)
    watts = pv_watts(pv)
    expected = {hour: hour_kwh(watts, hour) for hour in coming_hours(now)}
    ensure_market(cluster, home, neighbour, market_orders(expected, pv["id"]))
