import { useCallback, useMemo, useState } from "react";
import { Link } from "react-router-dom";
import { query } from "../api.js";
import { Field, FormError } from "../components/Field.jsx";
import { Resource } from "../components/Status.jsx";
import { DEVICE_KINDS, energyAsTyped, energyUnitShown, inEnergyUnit, utcDateTime } from "../format.js";
import { useAction, useInterval, useResource } from "../hooks.js";
import { can } from "../permissions.js";
import { useLive, useSession } from "../session.jsx";
import {
  amount,
  bestFirst,
  describePlacement,
  hourRange,
  nextHours,
  orderBody,
  perKwh,
  sellingDevices,
  spread,
  STATUS_LABELS,
  tradeSide,
} from "../trading.js";
import { TRADE_EXECUTED } from "../pushes.generated.js";
import "./Trading.css";

const BLANK = { side: "buy", price_per_kwh: "", quantity_kwh: "", device_id: "" };

function Balance({ resource }) {
  return (
    <section aria-labelledby="balance-heading">
      <h2 id="balance-heading">My balance</h2>
      <Resource resource={resource} isEmpty={() => false} loadingLabel="Loading your balance…">
        {(b) => (
          <dl className="trading-balance" data-testid="balance">
            <div>
              <dt>Cash</dt>
              <dd className={b.cash < 0 ? "negative" : undefined}>{amount(b.cash)}</dd>
            </div>
            <div>
              <dt>Bought</dt>
              <dd>{energyAsTyped(b.bought_kwh)}</dd>
            </div>
            <div>
              <dt>Sold</dt>
              <dd>{energyAsTyped(b.sold_kwh)}</dd>
            </div>
            <div>
              <dt>Net energy</dt>
              <dd>{energyAsTyped(b.net_energy_kwh)}</dd>
            </div>
            <div>
              <dt>Undelivered</dt>
              <dd>{energyAsTyped(b.shortfall_kwh)}</dd>
            </div>
            <div>
              <dt>Penalties paid / received</dt>
              <dd>
                {amount(b.penalties_paid)} / {amount(b.penalties_received)}
              </dd>
            </div>
          </dl>
        )}
      </Resource>
    </section>
  );
}

function Levels({ levels, caption, empty, testId }) {
  return (
    <div className="table-wrap">
      <table className="data book-side" data-testid={testId}>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Price/kWh</th>
            <th scope="col">{energyUnitShown()}</th>
            <th scope="col">Orders</th>
          </tr>
        </thead>
        <tbody>
          {levels.length === 0 ? (
            <tr>
              <td colSpan={3} className="empty">
                {empty}
              </td>
            </tr>
          ) : (
            levels.map((level) => (
              <tr key={level.price_per_kwh}>
                <td>{perKwh(level.price_per_kwh)}</td>
                <td>{inEnergyUnit(level.quantity_kwh)}</td>
                <td>{level.orders}</td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}

function Book({ resource, hour }) {
  return (
    <section aria-labelledby="book-heading">
      <h2 id="book-heading">Order book</h2>
      <Resource resource={resource} isEmpty={() => false} loadingLabel="Loading the order book…">
        {(book) => {
          const { bids, asks } = bestFirst(book);
          const gap = spread(book);
          return (
            <>
              <p>
                <small>
                  {hourRange(hour)} · {gap === null ? "no spread: a side is empty" : `spread ${perKwh(gap)}`}
                </small>
              </p>
              <div className="book">
                <Levels levels={bids} caption="Bids (buyers), highest first" empty="No bids." testId="bids" />
                <Levels levels={asks} caption="Asks (sellers), lowest first" empty="No asks." testId="asks" />
              </div>
            </>
          );
        }}
      </Resource>
    </section>
  );
}

function PlaceOrder({ hour, devices, onPlaced, onError }) {
  const { api } = useSession();
  const [form, setForm] = useState(BLANK);
  const [placed, setPlaced] = useState(null);
  const sellable = devices || [];
  const deviceId = form.device_id || sellable[0]?.id || "";
  const place = useCallback(async () => {
    setPlaced(null);
    onError(null);
    let placement;
    try {
      placement = await api.post("/api/trading/orders", orderBody({ ...form, device_id: deviceId }, hour));
    } catch (error) {
      onError(error); // the hour's own message shows next to the hour
      throw error;
    }
    setPlaced(describePlacement(placement));
    setForm((current) => ({ ...current, quantity_kwh: "" }));
    onPlaced(placement);
  }, [api, form, deviceId, hour, onPlaced, onError]);
  const { run, busy, error } = useAction(place);
  const change = (event) => {
    setPlaced(null);
    setForm({ ...form, [event.target.name]: event.target.value });
  };
  const selling = form.side === "sell";
  return (
    <section aria-labelledby="place-heading">
      <h2 id="place-heading">Place an order</h2>
      <form
        aria-label="Place an order"
        onSubmit={(event) => {
          event.preventDefault();
          run();
        }}
      >
        <fieldset>
          <legend>Side</legend>
          <div className="sides">
            <label>
              <input type="radio" name="side" value="buy" checked={form.side === "buy"} onChange={change} />
              Buy
            </label>
            <label>
              <input type="radio" name="side" value="sell" checked={selling} onChange={change} />
              Sell
            </label>
          </div>
          {error?.field?.("side") && <small className="field-error">{error.field("side")}</small>}
        </fieldset>
        <div className="grid">
          <Field
            label={selling ? "Lowest price per kWh" : "Highest price per kWh"}
            name="price_per_kwh"
            type="number"
            inputMode="decimal"
            min="0.0001"
            max="100"
            step="0.0001"
            required
            value={form.price_per_kwh}
            onChange={change}
            error={error}
            hint="Up to 4 decimals."
          />
          <Field
            label="Quantity (kWh)"
            name="quantity_kwh"
            type="number"
            inputMode="decimal"
            min="0.001"
            max="1000"
            step="0.001"
            required
            value={form.quantity_kwh}
            onChange={change}
            error={error}
            hint="Up to 3 decimals."
          />
        </div>
        {selling &&
          (sellable.length ? (
            <Field
              label="Delivering device"
              name="device_id"
              as="select"
              value={deviceId}
              onChange={change}
              error={error}
              hint="What it meters in the hour is what you deliver; a shortfall costs a penalty."
            >
              {sellable.map((device) => (
                <option key={device.id} value={device.id}>
                  {device.name} ({DEVICE_KINDS[device.kind] || device.kind})
                </option>
              ))}
            </Field>
          ) : (
            <p className="notice">
              Selling needs a PV or battery device of yours to deliver the energy.{" "}
              <Link to="/devices">Add one on the Devices page.</Link>
            </p>
          ))}
        <FormError error={error} />
        <button type="submit" aria-busy={busy} disabled={busy || (selling && !sellable.length)}>
          {selling ? "Place sell order" : "Place buy order"} for {hourRange(hour)}
        </button>
      </form>
      <div role="status" aria-live="polite" data-testid="placement">
        {placed && <p className={`placement placement-${placed.kind}`}>{placed.text}</p>}
      </div>
    </section>
  );
}

function OrderRow({ order, onCancelled }) {
  const { api } = useSession();
  const cancel = useCallback(async () => {
    onCancelled(await api.del(`/api/trading/orders/${order.id}`));
  }, [api, order.id, onCancelled]);
  const { run, busy, error } = useAction(cancel);
  const what = `${order.side} ${energyAsTyped(order.remaining_kwh)} at ${perKwh(order.price_per_kwh)} for ${hourRange(order.delivery_hour)}`;
  return (
    <tr>
      <td>{hourRange(order.delivery_hour)}</td>
      <td>{order.side === "buy" ? "Buy" : "Sell"}</td>
      <td>{perKwh(order.price_per_kwh)}</td>
      <td>
        {inEnergyUnit(order.remaining_kwh)} of {inEnergyUnit(order.quantity_kwh)}
      </td>
      <td>{STATUS_LABELS[order.status] || order.status}</td>
      <td>
        {order.status === "open" && (
          <button
            type="button"
            className="outline danger small"
            onClick={run}
            disabled={busy}
            aria-label={`Cancel order: ${what}`}
          >
            Cancel
          </button>
        )}
        {error && (
          <small role="alert" className="field-error">
            {error.message}
          </small>
        )}
      </td>
    </tr>
  );
}

function Orders({ resource, onCancelled }) {
  return (
    <section aria-labelledby="orders-heading">
      <h2 id="orders-heading">My open orders</h2>
      <Resource resource={resource} empty="No open orders." loadingLabel="Loading your orders…">
        {(orders) => (
          <div className="table-wrap">
            <table className="data" data-testid="orders">
              <caption className="visually-hidden">My open orders, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Delivery hour</th>
                  <th scope="col">Side</th>
                  <th scope="col">Price per kWh</th>
                  <th scope="col">{energyUnitShown()} left</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {orders.map((order) => (
                  <OrderRow key={order.id} order={order} onCancelled={onCancelled} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Resource>
    </section>
  );
}

function Trades({ resource, userId }) {
  return (
    <section aria-labelledby="trades-heading">
      <h2 id="trades-heading">My trades</h2>
      <Resource resource={resource} empty="No trades yet." loadingLabel="Loading your trades…">
        {(trades) => (
          <div className="table-wrap">
            <table className="data" data-testid="trades">
              <caption className="visually-hidden">My trades, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Executed</th>
                  <th scope="col">Delivery hour</th>
                  <th scope="col">Side</th>
                  <th scope="col">{energyUnitShown()}</th>
                  <th scope="col">Price per kWh</th>
                  <th scope="col">Amount</th>
                </tr>
              </thead>
              <tbody>
                {trades.map((trade) => {
                  const { side, cash } = tradeSide(trade, userId);
                  return (
                    <tr key={trade.id}>
                      <td>
                        <time dateTime={trade.executed_at}>{utcDateTime(trade.executed_at)}</time>
                      </td>
                      <td>{hourRange(trade.delivery_hour)}</td>
                      <td>{side === "bought" ? "Bought" : side === "sold" ? "Sold" : "Both sides"}</td>
                      <td>{inEnergyUnit(trade.quantity_kwh)}</td>
                      <td>{perKwh(trade.price_per_kwh)}</td>
                      <td className={cash < 0 ? "negative" : undefined}>
                        {cash > 0 ? "+" : ""}
                        {amount(cash)}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Resource>
    </section>
  );
}

export default function Trading() {
  const { api, user, liveStatus } = useSession();
  const [now, setNow] = useState(() => new Date());
  // The hours on offer move on as hours begin.
  useInterval(() => setNow(new Date()), 30000);
  const hourKey = now.toISOString().slice(0, 13);
  // Recomputed when the hour changes, not on every tick.
  const hours = useMemo(() => nextHours(new Date(`${hourKey}:00:00Z`), 24), [hourKey]);
  const [chosen, setChosen] = useState("");
  const hour = hours.includes(chosen) ? chosen : hours[0];
  const [placeError, setPlaceError] = useState(null);

  const live = liveStatus === "open";
  const book = useResource(
    (signal) => api.get(`/api/trading/book${query({ delivery_hour: hour })}`, { signal }),
    [hour, live],
  );
  const orders = useResource(
    (signal) => api.get(`/api/trading/orders${query({ status: "open", limit: 100 })}`, { signal }),
    [live],
  );
  const trades = useResource((signal) => api.get(`/api/trading/trades${query({ limit: 50 })}`, { signal }), [live]);
  const balance = useResource((signal) => api.get("/api/trading/balance", { signal }), [live]);
  const devices = useResource((signal) => api.get("/api/devices", { signal }), []);
  const sellable = useMemo(() => sellingDevices(devices.data, user.id), [devices.data, user.id]);

  const refreshAll = () => {
    book.reload({ quiet: true });
    orders.reload({ quiet: true });
    trades.reload({ quiet: true });
    balance.reload({ quiet: true });
  };

  useLive(TRADE_EXECUTED, refreshAll);
  // Other people's orders are not pushed: the book is asked again now and then.
  useInterval(() => book.reload({ quiet: true }), 15000);

  return (
    <section className="trading-page">
      <h1>Trading</h1>
      <p>
        Buy and sell energy with other households, hour by hour. Trading for an hour closes when it begins; times are
        UTC.
      </p>
      <div className="trading-hour">
        <Field
          label="Delivery hour (UTC)"
          name="delivery_hour"
          as="select"
          value={hour}
          onChange={(event) => {
            setChosen(event.target.value);
            setPlaceError(null);
          }}
          error={placeError}
        >
          {hours.map((h) => (
            <option key={h} value={h}>
              {hourRange(h)}
            </option>
          ))}
        </Field>
        <button type="button" className="outline" onClick={refreshAll}>
          Refresh
        </button>
      </div>
      <div className="trading-grid">
        <Book resource={book} hour={hour} />
        {can(user, "trading.place") && (
          <PlaceOrder hour={hour} devices={sellable} onError={setPlaceError} onPlaced={refreshAll} />
        )}
      </div>
      <Balance resource={balance} />
      <Orders
        resource={orders}
        onCancelled={(cancelled) => {
          orders.setData((list) => (list || []).filter((o) => o.id !== cancelled.id));
          book.reload({ quiet: true });
        }}
      />
      <Trades resource={trades} userId={user.id} />
    </section>
  );
}
