"""The trading market through Traefik, against every real process: two users
trade and hear of it over /ws, strangers see nothing of it, and an hour is settled
against readings sent through the pipeline."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from harness.clients import ws_connect as connect
from harness.clients import ws_receive as receive
from harness.polling import eventually
from harness.readings import publish_readings as publish_amqp
from services.common.topology import iso_utc
from services.trading.service import match
from services.trading.storage import TradingStore

pytestmark = pytest.mark.integration


def hour_from_now(hours: int) -> datetime:
    now = datetime.now(UTC)
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours)


def add_device(client, kind="pv", name="Roof"):
    created = client.post(
        "/api/devices", {"name": name, "kind": kind, "max_hourly_kwh": 10}
    )
    assert created.status_code == 201, created.text
    return created.json()


def order(side, hour, price, quantity, device=None):
    body = {
        "side": side,
        "delivery_hour": iso_utc(hour),
        "price_per_kwh": price,
        "quantity_kwh": quantity,
    }
    if device is not None:
        body["device_id"] = device["id"]
    return body


def test_two_users_trade_and_only_they_see_it(stack, new_user, admin):
    ada, seller = new_user("Ada")
    bob, buyer = new_user("Bob")
    _, eve = new_user("Eve")
    roof = add_device(seller)
    hour = hour_from_now(2)
    sockets = connect(stack, seller.token), connect(stack, buyer.token)
    watcher = connect(stack, eve.token)
    try:
        ask = seller.post("/api/trading/orders", order("sell", hour, 0.25, 2, roof))
        assert ask.status_code == 201, ask.text
        ask = ask.json()["order"]
        bid = buyer.post("/api/trading/orders", order("buy", hour, 0.3, 1.5))
        assert bid.status_code == 201, bid.text
        [trade] = bid.json()["trades"]
        assert bid.json()["order"]["status"] == "filled"
        assert trade["price_per_kwh"] == 0.25 and trade["quantity_kwh"] == 1.5
        assert (trade["seller_id"], trade["buyer_id"]) == (ada["id"], bob["id"])
        for socket in sockets:
            pushed = receive(socket, "trade.executed")
            assert pushed is not None and pushed["data"] == trade
        assert receive(watcher, "trade.executed", wait=2) is None
    finally:
        for socket in (*sockets, watcher):
            socket.close()

    book = eve.get("/api/trading/book", params={"delivery_hour": iso_utc(hour)})
    assert book.status_code == 200, book.text
    assert book.json() == {
        "delivery_hour": iso_utc(hour),
        "bids": [],
        "asks": [{"price_per_kwh": 0.25, "quantity_kwh": 0.5, "orders": 1}],
    }
    assert ada["id"] not in book.text

    assert buyer.get("/api/trading/balance").json() == {
        "cash": -0.375,
        "bought_kwh": 1.5,
        "sold_kwh": 0.0,
        "shortfall_kwh": 0.0,
        "net_energy_kwh": 1.5,
        "penalties_paid": 0.0,
        "penalties_received": 0.0,
    }
    sold = seller.get("/api/trading/balance").json()
    assert (sold["cash"], sold["sold_kwh"]) == (0.375, 1.5)
    assert seller.get("/api/trading/trades").json() == [trade]
    assert buyer.get("/api/trading/trades").json() == [trade]
    assert eve.get("/api/trading/trades").json() == []

    # The owner's objects only: another user, ADMIN too, gets 404.
    own = seller.get(f"/api/trading/orders/{ask['id']}")
    assert own.status_code == 200 and own.json()["remaining_kwh"] == 0.5
    for client in (eve, admin):
        for method in ("get", "delete"):
            response = getattr(client, method)(f"/api/trading/orders/{ask['id']}")
            assert response.status_code == 404, response.text
            assert response.json()["error"] == "NOT_FOUND"
    assert eve.get("/api/trading/orders").json() == []
    assert [o["id"] for o in seller.get("/api/trading/orders").json()] == [ask["id"]]

    cancelled = seller.delete(f"/api/trading/orders/{ask['id']}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = seller.delete(f"/api/trading/orders/{ask['id']}")
    assert again.status_code == 409 and again.json()["error"] == "CONFLICT"
    listed = seller.get("/api/trading/orders", params={"status": "cancelled"})
    assert [o["id"] for o in listed.json()] == [ask["id"]]


def test_sellers_sell_only_from_their_own_producing_device(new_user, admin):
    _, ada = new_user("Ada")
    _, eve = new_user("Eve")
    roof, meter = add_device(ada), add_device(ada, kind="meter", name="Meter")
    hour = hour_from_now(2)
    for client in (eve, admin):  # ADMIN may read the device, not sell from it
        response = client.post(
            "/api/trading/orders", order("sell", hour, 0.25, 1, roof)
        )
        assert response.status_code == 404, response.text
        assert response.json()["error"] == "NOT_FOUND"
    missing = {"id": str(uuid.uuid4())}
    response = ada.post("/api/trading/orders", order("sell", hour, 0.25, 1, missing))
    assert response.status_code == 404
    response = ada.post("/api/trading/orders", order("sell", hour, 0.25, 1, meter))
    assert response.status_code == 400
    assert "device_id" in response.json()["details"]


def test_a_device_s_kind_is_locked_while_it_has_orders_or_unsettled_trades(
    new_user,
):
    _, seller = new_user("Ada")
    _, buyer = new_user("Bob")
    roof = add_device(seller)
    path = f"/api/devices/{roof['id']}"
    hour = hour_from_now(2)
    ask = seller.post("/api/trading/orders", order("sell", hour, 0.25, 2, roof))
    assert ask.status_code == 201, ask.text

    refused = seller.patch(path, {"kind": "meter"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "CONFLICT"
    assert "open orders or unsettled trades" in refused.json()["message"]
    assert seller.get(path).json()["kind"] == "pv"
    # The rest of the device may still change; the same kind is no change.
    renamed = seller.patch(path, {"name": "Roof west", "kind": "pv"})
    assert renamed.status_code == 200, renamed.text

    # A trade, then the rest of the order cancelled: the trade is not settled yet.
    bid = buyer.post("/api/trading/orders", order("buy", hour, 0.3, 0.5))
    assert bid.status_code == 201 and bid.json()["trades"]
    seller.delete(f"/api/trading/orders/{ask.json()['order']['id']}")
    refused = seller.patch(path, {"kind": "meter"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["details"] == {"open_orders": 0, "unsettled_trades": 1}

    # A device trading holds nothing for changes kind freely.
    meter = add_device(seller, kind="meter", name="Meter")
    changed = seller.patch(f"/api/devices/{meter['id']}", {"kind": "battery"})
    assert changed.status_code == 200 and changed.json()["kind"] == "battery"


@pytest.mark.parametrize(
    "body, fields",
    [
        (
            {
                "side": "hold",
                "delivery_hour": "2026-11-23T12:30:00Z",
                "price_per_kwh": 0,
                "quantity_kwh": "2",
            },
            {"side", "delivery_hour", "price_per_kwh", "quantity_kwh"},
        ),
        ({"side": "sell"}, {"delivery_hour", "price_per_kwh", "quantity_kwh"}),
        ("past", {"delivery_hour"}),
        ("sell without device", {"device_id"}),
        ([], {"_schema"}),
    ],
    ids=["every field bad", "missing fields", "past hour", "no device", "not object"],
)
def test_bad_orders_answer_400_with_details(new_user, body, fields):
    _, ada = new_user()
    if body == "past":
        body = order("buy", hour_from_now(-1), 0.25, 1)
    elif body == "sell without device":
        body = order("sell", hour_from_now(2), 0.25, 1)
    response = ada.post("/api/trading/orders", body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["error"] == "VALIDATION_ERROR"
    assert set(error["details"]) == fields


def test_bad_queries_answer_400_and_settlement_is_for_admin(new_user, admin):
    _, ada = new_user()
    for path, params in [
        ("/api/trading/book", {}),
        ("/api/trading/book", {"delivery_hour": "2026-11-23T12:15:00Z"}),
        ("/api/trading/orders", {"status": "done"}),
        ("/api/trading/trades", {"limit": "0"}),
    ]:
        response = ada.get(path, params=params)
        assert response.status_code == 400, (path, params, response.text)
        assert response.json()["details"], response.text
    past = {"delivery_hour": iso_utc(hour_from_now(-2))}
    assert ada.post("/api/trading/settle", params=past).status_code == 403
    current = {"delivery_hour": iso_utc(hour_from_now(0))}
    response = admin.post("/api/trading/settle", params=current)
    assert response.status_code == 409 and response.json()["error"] == "CONFLICT"


def test_settlement_charges_what_the_meter_did_not_deliver(stack, new_user, admin):
    """Orders are only taken for hours that have not begun, and an hour is only
    settled once it has ended, so the trade to settle is written straight into
    the stack's tradingdb by the service's own code (``match`` with the store),
    for an hour two hours back. The readings go through the real pipeline, and
    the trade is written only once they are counted: the service's timer, which
    settles such an hour on its own, then sees the same readings as the ADMIN's
    request, whichever comes first."""
    ada, seller = new_user("Ada")
    bob, buyer = new_user("Bob")
    roof = add_device(seller)
    hour = hour_from_now(-2)
    publish_amqp(
        stack,
        *(
            {
                "reading_id": str(uuid.uuid4()),
                "device_id": roof["id"],
                "timestamp": iso_utc(hour + timedelta(minutes=minutes)),
                "kwh": drawn,
                "export_kwh": exported,
            }
            # What the roof drew (its inverter at night, say) is no delivery.
            for minutes, drawn, exported in ((15, 0.05, 0.4), (45, 0.0, 0.3))
        ),
    )

    def metered():
        day = seller.get(
            "/api/consumption/day",
            params={"device_id": roof["id"], "date": hour.date().isoformat()},
        ).json()
        hours = {h["hour"]: h for h in day["hours"]}
        return hours.get(iso_utc(hour), {}).get("export_kwh") == 0.7

    eventually(metered)

    engine = create_engine(stack.resources.databases["tradingdb"])
    try:
        with Session(engine) as session:
            store = TradingStore(session)
            for user, side, device in ((ada, "sell", roof["id"]), (bob, "buy", None)):
                store.lock_hour(hour)
                match(store, user["id"], side, hour, 3000, 1000, device)
                store.commit()
    finally:
        engine.dispose()

    settled = admin.post("/api/trading/settle", params={"delivery_hour": iso_utc(hour)})
    assert settled.status_code == 200, settled.text
    assert settled.json() == {
        "delivery_hour": iso_utc(hour),
        "sellers": [
            {
                "seller_id": ada["id"],
                "device_id": roof["id"],
                "sold_kwh": 1.0,
                "delivered_kwh": 0.7,
                "shortfall_kwh": 0.3,
                "penalty": 0.135,  # 0.3 kWh × 0.30 × 1.5
            }
        ],
    }
    sold = seller.get("/api/trading/balance").json()
    assert sold["cash"] == 0.165 and sold["penalties_paid"] == 0.135
    assert sold["shortfall_kwh"] == 0.3 and sold["net_energy_kwh"] == -0.7
    bought = buyer.get("/api/trading/balance").json()
    assert bought["cash"] == -0.165 and bought["penalties_received"] == 0.135
    assert bought["net_energy_kwh"] == 0.7

    again = admin.post("/api/trading/settle", params={"delivery_hour": iso_utc(hour)})
    assert again.json() == settled.json()
    assert seller.get("/api/trading/balance").json() == sold

    # A reading that arrives after the settlement (it would cover the shortfall)
    # is counted, but changes nothing that was settled.
    publish_amqp(
        stack,
        {
            "reading_id": str(uuid.uuid4()),
            "device_id": roof["id"],
            "timestamp": iso_utc(hour + timedelta(minutes=50)),
            "kwh": 0.0,
            "export_kwh": 0.3,
        },
    )

    def metered_late():
        day = seller.get(
            "/api/consumption/day",
            params={"device_id": roof["id"], "date": hour.date().isoformat()},
        ).json()
        hours = {h["hour"]: h for h in day["hours"]}
        return hours.get(iso_utc(hour), {}).get("export_kwh") == 1.0

    eventually(metered_late)
    late = admin.post("/api/trading/settle", params={"delivery_hour": iso_utc(hour)})
    assert late.json() == settled.json()
    assert seller.get("/api/trading/balance").json() == sold
    assert buyer.get("/api/trading/balance").json() == bought
