"""What a site, its tariff, a room and a membership may say, and where a device
may be put."""

import pytest

from services.common.errors import ValidationFailed
from services.common.schemas import load
from services.devices.schemas import (
    DeviceCreateSchema,
    DeviceListQuerySchema,
    DeviceUpdateSchema,
    MemberAddSchema,
    MemberRoleSchema,
    RoomCreateSchema,
    SiteCreateSchema,
    SiteUpdateSchema,
)

TARIFF = {"currency": "EUR", "import_per_kwh": 0.3, "export_per_kwh": 0.08}
SITE_ID = "6f1c9d2e-0000-4000-8000-0000000000a1"


def refused(schema, data) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        load(schema, data)
    return caught.value.details


def period(start, end, price=0.45):
    return {
        "start_hour": start,
        "end_hour": end,
        "import_per_kwh": price,
        "export_per_kwh": 0.08,
    }


def test_a_site_needs_only_a_name():
    assert load(SiteCreateSchema(), {"name": "  Home "}) == {"name": "Home"}
    assert "name" in refused(SiteCreateSchema(), {})
    assert "name" in refused(SiteCreateSchema(), {"name": ""})
    assert "name" in refused(SiteCreateSchema(), {"name": "x" * 201})


def test_a_change_names_something_to_change():
    assert "_schema" in refused(SiteUpdateSchema(), {})
    assert load(SiteUpdateSchema(), {"address": None}) == {"address": None}


@pytest.mark.parametrize("name", ["Europe/Berlin", "UTC", "America/Argentina/Salta"])
def test_a_time_zone_is_an_iana_name(name):
    assert load(SiteUpdateSchema(), {"timezone": name}) == {"timezone": name}


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "europe/berlin", "", "../../etc/passwd", "+01:00", 1]
)
def test_anything_else_is_no_time_zone(name):
    assert "timezone" in refused(SiteUpdateSchema(), {"timezone": name})


@pytest.mark.parametrize(
    "place",
    [
        {"latitude": 52.5},
        {"longitude": 13.4},
        {"latitude": 52.5, "longitude": None},
        {"latitude": None, "longitude": 13.4},
    ],
)
def test_a_site_s_place_is_both_coordinates_or_neither(place):
    for schema, data in (
        (SiteCreateSchema(), {"name": "Home"} | place),
        (SiteUpdateSchema(), place),
    ):
        assert set(refused(schema, data)) & {"latitude", "longitude"}


def test_both_coordinates_or_neither_are_taken():
    both = {"latitude": 52.5, "longitude": 13.4}
    assert load(SiteUpdateSchema(), both) == both
    neither = {"latitude": None, "longitude": None}
    assert load(SiteUpdateSchema(), neither) == neither


def test_a_flat_tariff_has_no_periods():
    loaded = load(SiteUpdateSchema(), {"tariff": TARIFF})
    assert loaded["tariff"] == TARIFF | {"periods": []}


def test_a_tariff_may_price_some_hours_apart():
    periods = [period(17, 21), period(0, 6, 0.2), period(21, 24, 0.35)]
    loaded = load(SiteUpdateSchema(), {"tariff": TARIFF | {"periods": periods}})
    assert loaded["tariff"]["periods"] == periods


@pytest.mark.parametrize(
    "periods",
    [
        [period(17, 21), period(20, 22)],
        [period(0, 24), period(5, 6)],
        [period(8, 9), period(8, 9)],
        [period(10, 12), period(6, 11)],
    ],
)
def test_periods_do_not_overlap(periods):
    details = refused(SiteUpdateSchema(), {"tariff": TARIFF | {"periods": periods}})
    assert "overlap" in details["tariff"]["periods"][0]


@pytest.mark.parametrize(
    ("start", "end"), [(5, 5), (6, 5), (-1, 4), (0, 25), (24, 24), (1.5, 3)]
)
def test_a_period_is_whole_hours_of_one_day_in_order(start, end):
    tariff = TARIFF | {"periods": [period(start, end)]}
    assert "periods" in refused(SiteUpdateSchema(), {"tariff": tariff})["tariff"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("currency", "eur"),
        ("currency", "EURO"),
        ("import_per_kwh", -0.01),
        ("export_per_kwh", -1),
        ("import_per_kwh", float("nan")),
    ],
)
def test_a_tariff_s_prices_are_not_negative_in_a_currency(field, value):
    tariff = TARIFF | {field: value}
    assert field in refused(SiteUpdateSchema(), {"tariff": tariff})["tariff"]


def test_a_tariff_says_all_its_prices():
    for field in TARIFF:
        tariff = {key: value for key, value in TARIFF.items() if key != field}
        assert field in refused(SiteUpdateSchema(), {"tariff": tariff})["tariff"]


def test_the_grid_s_intensity_is_not_negative():
    assert "co2_kg_per_kwh" in refused(SiteUpdateSchema(), {"co2_kg_per_kwh": -0.1})
    assert load(SiteUpdateSchema(), {"co2_kg_per_kwh": 0}) == {"co2_kg_per_kwh": 0}


def test_a_room_is_named():
    assert load(RoomCreateSchema(), {"name": " Kitchen "}) == {"name": "Kitchen"}
    assert "name" in refused(RoomCreateSchema(), {"name": ""})


def test_a_member_is_an_owner_operator_or_viewer():
    assert load(MemberRoleSchema(), {"role": "operator"}) == {"role": "operator"}
    assert "role" in refused(MemberRoleSchema(), {"role": "admin"})
    assert load(MemberAddSchema(), {"email": "Ada@Example.com ", "role": "viewer"}) == {
        "email": "ada@example.com",
        "role": "viewer",
    }
    assert "email" in refused(MemberAddSchema(), {"email": "ada", "role": "viewer"})


def test_a_device_is_put_in_a_site_and_a_room_by_their_ids():
    device = {"name": "Roof", "kind": "pv"}
    assert load(DeviceCreateSchema(), device)["room_id"] is None
    assert "site_id" not in load(DeviceCreateSchema(), device)
    assert "site_id" in refused(DeviceCreateSchema(), device | {"site_id": "home"})
    assert load(DeviceUpdateSchema(), {"room_id": None}) == {"room_id": None}
    assert "room_id" in refused(DeviceUpdateSchema(), {"room_id": "kitchen"})
    query = {"site_id": SITE_ID, "room_id": SITE_ID}
    assert load(DeviceListQuerySchema(), query) == query
