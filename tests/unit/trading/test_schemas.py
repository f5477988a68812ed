"""What a trading request may say, and how its answers read."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from services.common.errors import ValidationFailed
from services.common.schemas import load
from services.trading.schemas import (
    TradingBalanceSchema,
    TradingHourQuerySchema,
    TradingOrderCreateSchema,
    TradingOrderQuerySchema,
)

DEVICE = "7a2e0000-0000-4000-8000-000000000001"
HOUR = "2026-11-23T12:00:00Z"


def sell(**changes):
    body = {
        "side": "sell",
        "delivery_hour": HOUR,
        "price_per_kwh": 0.2512,
        "quantity_kwh": 2.5,
        "device_id": DEVICE,
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not ...}


def test_an_order_loads_in_whole_units():
    assert load(TradingOrderCreateSchema(), sell()) == {
        "side": "sell",
        "delivery_hour": datetime(2026, 11, 23, 12, tzinfo=UTC),
        "price": 2512,
        "quantity": 2500,
        "device_id": DEVICE,
    }


def test_a_buy_needs_no_device_and_integers_are_numbers():
    data = load(
        TradingOrderCreateSchema(),
        sell(side="buy", device_id=..., price_per_kwh=1, quantity_kwh=0.001),
    )
    assert (data["price"], data["quantity"]) == (10_000, 1)
    assert "device_id" not in data


def test_an_hour_in_another_zone_is_loaded_in_utc():
    data = load(
        TradingOrderCreateSchema(), sell(delivery_hour="2026-11-23T13:00+01:00")
    )
    assert data["delivery_hour"] == datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert data["delivery_hour"].tzinfo is UTC


def test_the_wire_form_loads_back_the_same():
    schema = TradingOrderCreateSchema()
    data = load(schema, sell(price_per_kwh=0.0001, quantity_kwh=999.999))
    assert load(schema, schema.dump(data)) == data


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"side": "hold"}, "side"),
        ({"side": ...}, "side"),
        ({"delivery_hour": "2026-11-23T12:30:00Z"}, "delivery_hour"),
        ({"delivery_hour": "2026-11-23T12:00:00"}, "delivery_hour"),
        ({"delivery_hour": "tomorrow"}, "delivery_hour"),
        ({"delivery_hour": "0001-01-01T00:00:00+01:00"}, "delivery_hour"),
        ({"delivery_hour": ...}, "delivery_hour"),
        ({"price_per_kwh": 0}, "price_per_kwh"),
        ({"price_per_kwh": -0.25}, "price_per_kwh"),
        ({"price_per_kwh": 0.00001}, "price_per_kwh"),
        ({"price_per_kwh": 100.0001}, "price_per_kwh"),
        ({"price_per_kwh": "0.25"}, "price_per_kwh"),
        ({"price_per_kwh": True}, "price_per_kwh"),
        ({"price_per_kwh": float("nan")}, "price_per_kwh"),
        ({"quantity_kwh": 0}, "quantity_kwh"),
        ({"quantity_kwh": 0.0005}, "quantity_kwh"),
        ({"quantity_kwh": 1000.001}, "quantity_kwh"),
        ({"quantity_kwh": float("inf")}, "quantity_kwh"),
        ({"quantity_kwh": None}, "quantity_kwh"),
        ({"device_id": ...}, "device_id"),
        ({"device_id": "not-an-id"}, "device_id"),
        ({"side": "buy"}, "device_id"),
        ({"user_id": DEVICE}, "user_id"),
        ({"device_id": "a\x00b"}, "device_id"),
    ],
    ids=[
        "side unknown",
        "side missing",
        "not an hour start",
        "no zone",
        "not a date",
        "before year 1 in UTC",
        "hour missing",
        "price zero",
        "price negative",
        "price too precise",
        "price too high",
        "price as text",
        "price boolean",
        "price NaN",
        "quantity zero",
        "quantity under a Wh",
        "quantity too high",
        "quantity infinite",
        "quantity null",
        "sell without device",
        "device not an id",
        "buy with device",
        "unknown field",
        "NUL",
    ],
)
def test_bad_orders_are_refused_with_the_field_named(changes, field):
    with pytest.raises(ValidationFailed) as caught:
        load(TradingOrderCreateSchema(), sell(**changes))
    assert field in caught.value.details


def test_queries():
    assert load(TradingOrderQuerySchema(), {}) == {"limit": 100}
    query = load(
        TradingOrderQuerySchema(),
        {"status": "open", "delivery_hour": HOUR, "limit": "5"},
    )
    assert query == {
        "status": "open",
        "delivery_hour": datetime(2026, 11, 23, 12, tzinfo=UTC),
        "limit": 5,
    }
    for bad in ({"status": "done"}, {"limit": "0"}, {"delivery_hour": "x"}):
        with pytest.raises(ValidationFailed):
            load(TradingOrderQuerySchema(), bad)
    with pytest.raises(ValidationFailed) as caught:
        load(TradingHourQuerySchema(), {})
    assert "delivery_hour" in caught.value.details


def test_a_delivery_hour_is_the_start_of_an_hour_with_a_zone():
    query = load(
        TradingHourQuerySchema(), {"delivery_hour": "2026-11-22T15:00:00+01:00"}
    )
    assert query["delivery_hour"] == datetime(2026, 11, 22, 14, tzinfo=UTC)
    for bad in (
        "2026-11-22T14:30:00Z",
        "2026-11-22T14:00:00",
        "0001-01-01T00:00:00+01:00",
        "soon",
        None,
    ):
        with pytest.raises(ValidationFailed):
            load(TradingHourQuerySchema(), {"delivery_hour": bad})


def test_a_balance_reads_in_kwh_and_money():
    dumped = TradingBalanceSchema().dump(
        {
            "cash": Decimal("-0.2514512"),
            "bought": 1001,
            "sold": 0,
            "shortfall": 0,
            "net_energy": 1001,
            "penalties_paid": Decimal(0),
            "penalties_received": Decimal("0.0000002"),
        }
    )
    assert dumped == {
        "cash": -0.2514512,
        "bought_kwh": 1.001,
        "sold_kwh": 0.0,
        "shortfall_kwh": 0.0,
        "net_energy_kwh": 1.001,
        "penalties_paid": 0.0,
        "penalties_received": 2e-07,
    }
