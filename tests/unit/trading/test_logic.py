"""trading's rules: open hours, money, and settlement arithmetic."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import ValidationFailed
from services.trading import logic
from services.trading.exceptions import (
    HourNotOver,
    NotSellersDevice,
    OpenOrderLimitReached,
)

NOW = datetime(2026, 11, 22, 12, 30, tzinfo=UTC)
HOUR = datetime(2026, 11, 22, 14, tzinfo=UTC)
RULES = logic.Rules()
SELLER, OTHER = "seller", "other-seller"
PV, PV2 = "pv-1", "pv-2"


def trade(id, buyer, quantity, price=2500, seller=SELLER, device=PV):
    return logic.SoldTrade(id, buyer, seller, device, price, quantity)


# -- hours --------------------------------------------------------------------------


def test_an_hour_that_has_not_begun_is_open():
    logic.check_open(NOW.replace(minute=0) + timedelta(hours=1), NOW, RULES)
    logic.check_open(NOW + timedelta(days=7) - timedelta(minutes=30), NOW, RULES)


@pytest.mark.parametrize(
    "hour",
    [
        NOW.replace(minute=0),  # begun: trading for it closed at 12:00
        NOW.replace(minute=0) - timedelta(hours=5),
        NOW.replace(minute=0) + timedelta(days=7, hours=1),
    ],
    ids=["current", "past", "too far ahead"],
)
def test_other_hours_are_closed(hour):
    with pytest.raises(ValidationFailed) as caught:
        logic.check_open(hour, NOW, RULES)
    assert "delivery_hour" in caught.value.details


def test_an_hour_is_over_once_it_has_ended():
    logic.check_over(HOUR, HOUR + timedelta(hours=1))
    with pytest.raises(HourNotOver):
        logic.check_over(HOUR, HOUR + timedelta(minutes=59))
    with pytest.raises(HourNotOver):  # the last hour there is never ends
        logic.check_over(datetime(9999, 12, 31, 23, tzinfo=UTC), NOW)


def test_started_hour():
    assert logic.started_hour(NOW) == datetime(2026, 11, 22, 12, tzinfo=UTC)


# -- selling devices ----------------------------------------------------------------


def test_only_the_sellers_own_producing_device_sells():
    seller = {"user_id": SELLER, "role": "USER"}
    logic.check_selling_device({"user_id": SELLER, "kind": "pv"}, seller)
    logic.check_selling_device({"user_id": SELLER, "kind": "battery"}, seller)
    with pytest.raises(NotSellersDevice):
        logic.check_selling_device({"user_id": OTHER, "kind": "pv"}, seller)
    with pytest.raises(ValidationFailed) as caught:
        logic.check_selling_device({"user_id": SELLER, "kind": "meter"}, seller)
    assert "device_id" in caught.value.details


# -- money --------------------------------------------------------------------------


def test_a_trade_is_worth_price_times_energy_exactly():
    # 0.2512 per kWh × 1.001 kWh = 0.2514512
    assert logic.trade_amount(2512, 1001) == Decimal("0.2514512")
    assert logic.trade_amount(1, 1) == Decimal("0.0000001")


def test_a_penalty_is_the_factor_times_the_value_rounded_half_even():
    assert logic.penalty_amount(2500, 1000, Decimal("1.5")) == Decimal("0.375")
    # 1 Wh at 0.0001/kWh is 0.0000001; × 1.5 = 0.00000015 → 0.0000002 (half-even)
    assert logic.penalty_amount(1, 1, Decimal("1.5")) == Decimal("0.0000002")
    assert logic.penalty_amount(1, 1, Decimal("2.5")) == Decimal("0.0000002")
    assert logic.penalty_amount(2500, 1000, Decimal(0)) == 0


def test_metered_kwh_become_whole_wh():
    assert logic.kwh_to_wh(1.7) == 1700
    assert logic.kwh_to_wh(0.0004) == 0
    assert logic.kwh_to_wh(0.0005) == 0  # half to even
    assert logic.kwh_to_wh(0.0015) == 2
    assert logic.kwh_to_wh(0) == 0


def test_a_seller_delivers_what_its_device_exported_not_what_it_drew():
    series = [
        {"hour": "2026-01-01T10:00:00Z", "kwh": 0.25, "export_kwh": 0.4},
        {"hour": "2026-01-01T11:00:00Z", "kwh": 3.0, "export_kwh": 0.3},
    ]
    assert logic.exported_wh(series) == 700
    assert logic.exported_wh([{"hour": "x", "kwh": 5.0, "export_kwh": 0}]) == 0
    assert logic.exported_wh([]) == 0


# -- allocation ---------------------------------------------------------------------


def test_allocate_is_pro_rata_in_whole_units():
    assert logic.allocate(300, [1000, 2000]) == [100, 200]
    assert logic.allocate(10, [1, 1, 1]) == [4, 3, 3]  # ties: earlier first
    assert logic.allocate(2, [1, 3, 1]) == [1, 1, 0]  # 0.4, 1.2, 0.4
    assert logic.allocate(0, [5, 7]) == [0, 0]
    assert logic.allocate(0, []) == []
    with pytest.raises(ValueError):
        logic.allocate(1, [0, 0])


@given(
    st.integers(min_value=0, max_value=10**7),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20).filter(
        any
    ),
)
def test_allocate_adds_up_and_is_fair(total, weights):
    shares = logic.allocate(total, weights)
    assert sum(shares) == total
    whole = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        # Each share is its exact proportion rounded down or up, never further.
        assert abs(share * whole - total * weight) < whole


# -- settlement ---------------------------------------------------------------------


def test_a_seller_who_delivered_everything_pays_nothing():
    result = logic.settle_seller([trade("t1", "b1", 2000)], 2500, Decimal("1.5"))
    assert (result.sold, result.delivered, result.shortfall) == (2000, 2500, 0)
    assert result.penalties == [] and result.penalty == 0


def test_a_shortfall_is_shared_by_the_buyers_in_proportion():
    trades = [
        trade("t1", "b1", 1000, price=2000),
        trade("t2", "b2", 3000, price=3000),
    ]
    result = logic.settle_seller(trades, 2000, Decimal("1.5"))
    assert result.shortfall == 2000
    assert [(p.trade.buyer_id, p.shortfall) for p in result.penalties] == [
        ("b1", 500),
        ("b2", 1500),
    ]
    # 0.5 kWh × 0.20 × 1.5 = 0.15; 1.5 kWh × 0.30 × 1.5 = 0.675
    assert [p.amount for p in result.penalties] == [
        Decimal("0.15"),
        Decimal("0.675"),
    ]
    assert result.penalty == Decimal("0.825")


def test_nothing_delivered_costs_the_full_factor():
    result = logic.settle_seller([trade("t1", "b1", 1000)], 0, Decimal("1.5"))
    assert result.shortfall == 1000
    assert result.penalty == Decimal("0.375")  # 1 kWh × 0.25 × 1.5


def test_an_hour_is_settled_per_seller_and_device():
    trades = [
        trade("t1", "b1", 1000, device=PV),
        trade("t2", "b1", 1000, device=PV2),
        trade("t3", "b2", 1000, seller=OTHER, device="pv-3"),
        trade("t4", "b2", 1000, device=PV),
    ]
    delivered = {PV: 1500, PV2: 1000, "pv-3": 0}
    results = logic.settle_hour(trades, delivered, Decimal("1.5"))
    summary = [(r.seller_id, r.device_id, r.sold, r.shortfall) for r in results]
    assert summary == [
        (SELLER, PV, 2000, 500),
        (SELLER, PV2, 1000, 0),
        (OTHER, "pv-3", 1000, 1000),
    ]
    assert [(p.trade.id, p.shortfall) for p in results[0].penalties] == [
        ("t1", 250),
        ("t4", 250),
    ]


def test_settle_seller_refuses_mixed_sellers():
    with pytest.raises(ValueError):
        logic.settle_seller(
            [trade("t1", "b1", 1), trade("t2", "b1", 1, seller=OTHER)], 0, Decimal(1)
        )


def test_rules_come_from_the_config():
    rules = logic.Rules.from_config(
        {
            "TRADING": {
                "penalty_factor": 2,
                "settle_delay_minutes": 5,
                "days_ahead": 2,
            }
        }
    )
    assert rules == logic.Rules(Decimal(2), timedelta(minutes=5), 2)
    assert logic.Rules.from_config({}) == logic.Rules()


def test_the_open_order_quota_comes_from_the_config():
    settings = {"TRADING": {"max_open_orders_per_user": "3"}}
    assert logic.Rules.from_config(settings).max_open_orders == 3
    assert logic.Rules().max_open_orders == logic.DEFAULT_MAX_OPEN_ORDERS


def test_a_user_at_the_open_order_quota_may_not_place_another():
    rules = logic.Rules(max_open_orders=3)
    logic.check_open_orders(2, rules)
    for open_orders in (3, 4):
        with pytest.raises(OpenOrderLimitReached) as caught:
            logic.check_open_orders(open_orders, rules)
        assert caught.value.status == 409
        assert caught.value.details == {"limit": 3}
        assert "at most 3 open orders" in caught.value.message
