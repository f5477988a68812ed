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
