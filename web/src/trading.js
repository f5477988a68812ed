// What the trading page works out without the server: the delivery hours open for
// trading, the body of an order, what a placement came to, and how prices read.

import { energyAsTyped } from "./format.js";

const HOUR_MS = 3600 * 1000;

// The starts of the next `count` whole UTC hours after `now` (the hour `now` is
// in has begun: trading for it is closed), as ISO text "2026-11-22T21:00:00Z".
export function nextHours(now = new Date(), count = 24) {
  const first = Math.floor(new Date(now).getTime() / HOUR_MS) * HOUR_MS + HOUR_MS;
  return Array.from({ length: count }, (_, i) => new Date(first + i * HOUR_MS).toISOString().replace(".000Z", "Z"));
}

// "2026-11-22 21:00–22:00 UTC"
export function hourRange(iso) {
  if (!iso) return "–";
  const end = new Date(new Date(iso).getTime() + HOUR_MS).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}–${end.slice(11, 16)} UTC`;
}

// A price per kWh: two to four decimals, as the market keeps it.
export function perKwh(value) {
  return decimals(value, 4);
}

// Money from trades: two decimals, more when they are not zero (to 7, as kept).
export function amount(value) {
  return decimals(value, 7);
}

function decimals(value, most) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "–";
  let text = Number(value).toFixed(most);
  while (/\.\d{3,}$/.test(text) && text.endsWith("0")) text = text.slice(0, -1);
  if (Number(text) === 0) text = text.replace("-", "");
  return text;
}

// The body of POST /api/trading/orders: a device only for a sell order.
export function orderBody(form, deliveryHour) {
  const body = {
    side: form.side,
    delivery_hour: deliveryHour,
    price_per_kwh: form.price_per_kwh === "" ? null : Number(form.price_per_kwh),
    quantity_kwh: form.quantity_kwh === "" ? null : Number(form.quantity_kwh),
  };
  if (form.side === "sell" && form.device_id) body.device_id = form.device_id;
  return body;
}

// The devices a user may sell from: their own pv and battery devices.
export function sellingDevices(devices, userId) {
  return (devices || []).filter((d) => d.user_id === userId && (d.kind === "pv" || d.kind === "battery"));
}

function round3(value) {
  return Math.round(value * 1000) / 1000;
}

// What placing an order came to, in a sentence, and its kind:
// "filled" | "partial" | "resting" | "cancelled".
export function describePlacement({ order, trades = [] }) {
  const verb = order.side === "buy" ? "Bought" : "Sold";
  const filled = round3(trades.reduce((sum, t) => sum + t.quantity_kwh, 0) || order.filled_kwh || 0);
  const amount = trades.reduce((sum, t) => sum + t.amount, 0);
  const average = filled > 0 && trades.length ? amount / filled : null;
  const done =
    filled > 0
      ? `${verb} ${energyAsTyped(filled)} now in ${trades.length} trade${trades.length === 1 ? "" : "s"}` +
        (average !== null ? ` at ${perKwh(average)} per kWh${trades.length > 1 ? " on average" : ""}` : "")
      : null;
  if (order.status === "filled") return { kind: "filled", text: `Filled: ${done}.` };
  if (order.status === "cancelled") {
    const why =
      order.cancel_reason === "self_trade"
        ? "it would have traded with an order of your own"
        : "it was cancelled";
    return {
      kind: "cancelled",
      text: `${done ? `${done}; the rest` : "The order"} did not rest in the book: ${why}.`,
    };
  }
  const resting = `${energyAsTyped(order.remaining_kwh)} rest in the book at ${perKwh(order.price_per_kwh)} per kWh`;
  if (done) return { kind: "partial", text: `Partly filled: ${done}; ${resting}.` };
  return { kind: "resting", text: `No match yet: ${resting}, waiting for a ${order.side === "buy" ? "seller" : "buyer"}.` };
}

// Bids highest first, asks lowest first (the server's order, kept whatever comes).
export function bestFirst(book) {
  if (!book) return { bids: [], asks: [] };
  return {
    bids: [...(book.bids || [])].sort((a, b) => b.price_per_kwh - a.price_per_kwh),
    asks: [...(book.asks || [])].sort((a, b) => a.price_per_kwh - b.price_per_kwh),
  };
}

// The gap between the best ask and the best bid, or null with a side empty.
export function spread(book) {
  const { bids, asks } = bestFirst(book);
  if (!bids.length || !asks.length) return null;
  return Math.round((asks[0].price_per_kwh - bids[0].price_per_kwh) * 10000) / 10000;
}

// Whether `userId` bought or sold in a trade, and what it did to their cash.
export function tradeSide(trade, userId) {
  if (trade.buyer_id === userId && trade.seller_id === userId) return { side: "both", cash: 0 };
  if (trade.buyer_id === userId) return { side: "bought", cash: -trade.amount };
  return { side: "sold", cash: trade.amount };
}

export const STATUS_LABELS = { open: "Open", filled: "Filled", cancelled: "Cancelled", expired: "Expired" };
