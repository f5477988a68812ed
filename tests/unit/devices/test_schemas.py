"""What a device may say of its reading interval."""

import pytest

from services.common.errors import ValidationFailed
from services.common.schemas import load
from services.devices.schemas import DeviceCreateSchema, DeviceUpdateSchema

DEVICE = {"name": "Roof", "kind": "pv"}


def refused(schema, data) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        load(schema, data)
    return caught.value.details


def test_a_device_sends_a_reading_every_minute_unless_it_says_otherwise():
    assert load(DeviceCreateSchema(), DEVICE)["reading_interval_s"] == 60
    created = load(DeviceCreateSchema(), DEVICE | {"reading_interval_s": 900})
    assert created["reading_interval_s"] == 900
    assert load(DeviceUpdateSchema(), {"reading_interval_s": 1}) == {
        "reading_interval_s": 1
    }
    assert "reading_interval_s" not in load(DeviceUpdateSchema(), {"name": "Roof"})


@pytest.mark.parametrize("interval", [0, -5, 86_401, 1.5, "60", True, None])
def test_a_reading_interval_is_a_whole_number_of_seconds_up_to_a_day(interval):
    for schema, data in (
        (DeviceCreateSchema(), DEVICE | {"reading_interval_s": interval}),
        (DeviceUpdateSchema(), {"reading_interval_s": interval}),
    ):
        assert "reading_interval_s" in refused(schema, data)


def test_a_device_may_say_where_it_stands():
    created = load(DeviceCreateSchema(), DEVICE)
    assert (created["latitude"], created["longitude"]) == (None, None)
    placed = load(DeviceCreateSchema(), DEVICE | {"latitude": -33.9, "longitude": 18.4})
    assert (placed["latitude"], placed["longitude"]) == (-33.9, 18.4)
    assert load(DeviceUpdateSchema(), {"latitude": 90, "longitude": -180}) == {
        "latitude": 90,
        "longitude": -180,
    }
    cleared = load(DeviceUpdateSchema(), {"latitude": None, "longitude": None})
    assert cleared == {"latitude": None, "longitude": None}
    assert "latitude" not in load(DeviceUpdateSchema(), {"name": "Roof"})


@pytest.mark.parametrize(
    "place, wrong",
    [
        ({"latitude": 90.5, "longitude": 0}, "latitude"),
        ({"latitude": -91, "longitude": 0}, "latitude"),
        ({"latitude": 0, "longitude": 180.1}, "longitude"),
        ({"latitude": 0, "longitude": -181}, "longitude"),
        ({"latitude": "north", "longitude": 0}, "latitude"),
        ({"latitude": 51.5}, "longitude"),
        ({"longitude": 0.1}, "latitude"),
        ({"latitude": 51.5, "longitude": None}, "longitude"),
        ({"latitude": None, "longitude": 0.1}, "latitude"),
    ],
)
def test_a_location_is_on_earth_and_whole(place, wrong):
    for schema, data in (
        (DeviceCreateSchema(), DEVICE | place),
        (DeviceUpdateSchema(), place),
    ):
        assert wrong in refused(schema, data)
