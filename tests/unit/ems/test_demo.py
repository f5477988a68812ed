"""The demo ``ems bootstrap`` seeds: what it ensures, and that a second start
changes nothing."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from ems import demo
from services.common.solar import ClearSkyPv

NOW = datetime(2026, 12, 2, 4, 20, tzinfo=UTC)
HOME, NEIGHBOUR = demo.Household("u-home"), demo.Household("u-next")


class Devices:
    """The devices service as the demo calls it: devices in each owner's default
    site, its rooms, and the changes made (``updates``)."""

    def __init__(self):
        self.rows, self.sites, self.rooms, self.updates = [], {}, [], []

    def list_devices(self, caller):
        return [dict(d) for d in self.rows if d["user_id"] == caller["user_id"]]

    def create_device(self, caller, body):
        site_id = f"s-{caller['user_id']}"
        self.sites.setdefault(site_id, {"id": site_id, "name": "Home"})
        row = {
            **body,
            "id": f"d{len(self.rows) + 1}",
            "user_id": caller["user_id"],
            "site_id": site_id,
            "room_id": None,
        }
        self.rows.append(row)
        return dict(row)

    def update_device(self, caller, device_id, body):
        self.updates.append(("device", device_id, body))
        row = next(d for d in self.rows if d["id"] == device_id)
        row.update(body)
        return dict(row)

    def get_site(self, caller, site_id):
        return dict(self.sites[site_id])

    def update_site(self, caller, site_id, body):
        self.updates.append(("site", site_id, body))
        self.sites[site_id].update(body)
        return dict(self.sites[site_id])

    def list_rooms(self, caller, site_id):
        return [dict(r) for r in self.rooms if r["site_id"] == site_id]

    def create_room(self, caller, site_id, body):
        room = {"id": f"r{len(self.rooms) + 1}", "site_id": site_id, **body}
        self.rooms.append(room)
        self.updates.append(("room", room["id"], body))
        return dict(room)


class Batteries:
    def __init__(self):
        self.rows, self.controls = [], []

    def list_batteries(self, caller):
        return [dict(b) for b in self.rows if b["user_id"] == caller["user_id"]]

    def create_battery(self, caller, body):
        row = {**body, "id": f"b{len(self.rows) + 1}", "user_id": caller["user_id"]}
        self.rows.append({**row, "control": "manual"})
        return dict(self.rows[-1])

    def set_control(self, caller, battery_id, body):
        self.controls.append((battery_id, body))
        row = next(b for b in self.rows if b["id"] == battery_id)
        row["control"] = body["control"]
        return dict(row)


class Trading:
    def __init__(self):
        self.orders = []

    def list_orders(self, caller, query):
        return [
            o
            for o in self.orders
            if o["user_id"] == caller["user_id"]
            and o["delivery_hour"] == query["delivery_hour"]
        ]

    def place_order(self, caller, body):
        self.orders.append({**body, "user_id": caller["user_id"]})
        return {"order": body, "trades": []}


class Cluster:
    def __init__(self):
        self.devices, self.batteries, self.trading = Devices(), Batteries(), Trading()


def greenwich(device):
    return ClearSkyPv(51.48, 0.0, device["max_hourly_kwh"]).watts


def test_the_household_gains_only_the_devices_it_lacks():
    older = [
        {"name": name, "kind": kind} for name, kind, _ in demo.DEVICES if kind != "pv"
    ]
    assert demo.missing_devices(older) == [("Rooftop PV", "pv", 5.0)]
    assert demo.missing_devices([]) == demo.DEVICES
    renamed = [{"name": "Rooftop PV", "kind": "meter"}]
    assert ("Rooftop PV", "pv", 5.0) in demo.missing_devices(renamed)


def test_the_battery_is_the_one_the_simulator_models():
    body = demo.battery_body({"id": "d6", "max_hourly_kwh": 5.0})
    assert body == {
        "device_id": "d6",
        "capacity_kwh": 10.0,
        "max_charge_kw": 5.0,
        "max_discharge_kw": 5.0,
        "efficiency": 0.9,
        "soc_kwh": 5.0,
    }


def test_auto_mode_plans_the_coming_day_from_the_hour_under_way():
    control = demo.auto_control(NOW)
    plan = control["plan"]
    assert control["control"] == "auto"
    assert len(plan["import_prices"]) == len(plan["load_kwh"]) == 24
    assert len(plan["export_prices"]) == 24
    # 04:20 UTC: the plan's first hour is 04:00, the evening peak is 17:00 on.
    assert plan["import_prices"][0] == demo.IMPORT_PRICES[4]
    assert plan["import_prices"][17 - 4] == max(demo.IMPORT_PRICES)
    assert plan["load_kwh"][12 - 4] < 0  # the noon surplus
    assert demo.rotated([0, 1, 2], 4) == [1, 2, 0]


def test_the_market_offers_a_share_of_the_daylight_hours_output():
    hours = demo.coming_hours(NOW)
    assert hours[0] == datetime(2026, 12, 2, 5, tzinfo=UTC) and len(hours) == 24
    expected = {
        hour: demo.hour_kwh(greenwich({"max_hourly_kwh": 5.0}), hour) for hour in hours
    }
    orders = demo.market_orders(expected, "d5")
    sold = {hour for hour, _, _ in orders}
    # A December day at Greenwich: light from about 8 to 16 UTC, none at night.
    assert sold and all(8 <= hour.hour < 16 for hour in sold)
    for hour, sell, buy in orders:
        assert sell["quantity_kwh"] == buy["quantity_kwh"] <= expected[hour] / 2
        assert sell["device_id"] == "d5" and "device_id" not in buy
        assert buy["price_per_kwh"] >= sell["price_per_kwh"]
        assert sell["quantity_kwh"] == round(sell["quantity_kwh"], 3)
    assert demo.sale_quantity(0.15) == 0.0 and demo.sale_quantity(0.2468) == 0.123


def test_an_hour_about_to_begin_is_left_out_of_the_market():
    late = datetime(2026, 12, 2, 4, 57, tzinfo=UTC)
    hours = demo.coming_hours(late)
    assert hours[0] == datetime(2026, 12, 2, 6, tzinfo=UTC) and len(hours) == 23
    assert demo.coming_hours(late - timedelta(minutes=2))[0].hour == 5


def test_an_hours_energy_is_the_mean_power_over_it():
    hour = datetime(2026, 12, 2, 12, tzinfo=UTC)
    assert demo.hour_kwh(lambda moments: np.full(moments.shape, 1500.0), hour) == 1.5


def test_seeding_twice_changes_nothing_the_first_time_made():
    cluster = Cluster()
    demo.seed(cluster, HOME, NEIGHBOUR, greenwich, NOW)
    kinds = sorted(d["kind"] for d in cluster.devices.rows)
    assert kinds == sorted(kind for _, kind, _ in demo.DEVICES)
    (battery,) = cluster.batteries.rows
    battery_device = demo.named(cluster.devices.rows, demo.BATTERY_NAME)
    assert battery["device_id"] == battery_device["id"]
    assert battery["control"] == "auto"
    pv = demo.named(cluster.devices.rows, demo.PV_NAME)
    sells = [o for o in cluster.trading.orders if o["side"] == "sell"]
    buys = [o for o in cluster.trading.orders if o["side"] == "buy"]
    assert sells and len(sells) == len(buys)
    assert {o["user_id"] for o in sells} == {HOME.user_id}
    assert {o["user_id"] for o in buys} == {NEIGHBOUR.user_id}
    assert {o["device_id"] for o in sells} == {pv["id"]}

    site = cluster.devices.sites[f"s-{HOME.user_id}"]
    assert site["name"] == demo.SITE_NAME and site["timezone"] == "Europe/London"
    rooms = {r["id"]: r["name"] for r in cluster.devices.rooms}
    assert set(rooms.values()) == set(demo.ROOMS)
    assert {d["name"]: rooms[d["room_id"]] for d in cluster.devices.rows} == {
        device: room for room, devices in demo.ROOMS.items() for device in devices
    }

    before = (
        list(cluster.devices.updates),
        list(cluster.devices.rows),
        list(cluster.batteries.controls),
        list(cluster.trading.orders),
    )
    demo.seed(cluster, HOME, NEIGHBOUR, greenwich, NOW + timedelta(minutes=5))
    after = (
        cluster.devices.updates,
        cluster.devices.rows,
        cluster.batteries.controls,
        cluster.trading.orders,
    )
    assert after == before


def test_a_later_start_fills_the_new_hours_and_puts_the_battery_back_in_auto():
    cluster = Cluster()
    demo.seed(cluster, HOME, NEIGHBOUR, greenwich, NOW)
    placed = {o["delivery_hour"] for o in cluster.trading.orders}
    cluster.batteries.rows[0]["control"] = "manual"
    demo.seed(cluster, HOME, NEIGHBOUR, greenwich, NOW + timedelta(days=1))
    hours = [o["delivery_hour"] for o in cluster.trading.orders if o["side"] == "sell"]
    assert len(hours) == len(set(hours)) > len(placed) / 2
    assert set(hours) > placed
    assert cluster.batteries.rows[0]["control"] == "auto"
    assert len(cluster.batteries.rows) == 1


def test_every_demo_device_has_a_room():
    assert {demo.room_of(name) for name, _, _ in demo.DEVICES} == set(demo.ROOMS)
    assert None not in {demo.room_of(name) for name, _, _ in demo.DEVICES}


@pytest.mark.parametrize("name", [demo.PV_NAME, demo.BATTERY_NAME])
def test_the_named_devices_are_demo_devices(name):
    assert name in {spec[0] for spec in demo.DEVICES}
