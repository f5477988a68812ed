import { describe, expect, it } from "vitest";
import { showEnergyIn } from "./format.js";
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
  tradeSide,
} from "./trading.js";

describe("nextHours", () => {
  it("starts with the next whole UTC hour", () => {
    const hours = nextHours(new Date("2026-11-22T20:14:53Z"), 24);
    expect(hours).toHaveLength(24);
    expect(hours[0]).toBe("2026-11-22T21:00:00Z");
    expect(hours[3]).toBe("2026-11-23T00:00:00Z");
    expect(hours[23]).toBe("2026-11-23T20:00:00Z");
  });

  it("skips an hour that has just begun", () => {
    expect(nextHours(new Date("2026-11-22T20:00:00Z"), 1)).toEqual(["2026-11-22T21:00:00Z"]);
  });
});

describe("formatting", () => {
  it("writes an hour as a range in UTC", () => {
    expect(hourRange("2026-11-22T23:00:00Z")).toBe("2026-11-22 23:00–00:00 UTC");
  });

  it("writes prices with two to four decimals", () => {
    expect(perKwh(0.25)).toBe("0.25");
    expect(perKwh(0.2)).toBe("0.20");
    expect(perKwh(0.251)).toBe("0.251");
    expect(perKwh(0.1234)).toBe("0.1234");
    expect(perKwh(1)).toBe("1.00");
    expect(perKwh(null)).toBe("–");
  });
});

describe("orderBody", () => {
  const form = { side: "buy", price_per_kwh: "0.25", quantity_kwh: "1.5", device_id: "dev" };

  it("names no device for a buy order", () => {
    expect(orderBody(form, "2026-11-22T21:00:00Z")).toEqual({
      side: "buy",
      delivery_hour: "2026-11-22T21:00:00Z",
      price_per_kwh: 0.25,
      quantity_kwh: 1.5,
    });
  });

  it("names the delivering device for a sell order", () => {
    expect(orderBody({ ...form, side: "sell" }, "h").device_id).toBe("dev");
  });

  it("sends an empty number as null, for the server to name", () => {
    expect(orderBody({ ...form, price_per_kwh: "" }, "h").price_per_kwh).toBeNull();
  });
});

describe("sellingDevices", () => {
  it("keeps the user's own pv and battery devices", () => {
    const devices = [
      { id: "1", user_id: "u", kind: "pv" },
      { id: "2", user_id: "u", kind: "meter" },
      { id: "3", user_id: "v", kind: "battery" },
      { id: "4", user_id: "u", kind: "battery" },
    ];
    expect(sellingDevices(devices, "u").map((d) => d.id)).toEqual(["1", "4"]);
    expect(sellingDevices(null, "u")).toEqual([]);
  });
});

describe("describePlacement", () => {
  const order = { side: "buy", price_per_kwh: 0.3, quantity_kwh: 2, remaining_kwh: 2, filled_kwh: 0, status: "open" };
  const trade = (quantity, price) => ({ quantity_kwh: quantity, price_per_kwh: price, amount: quantity * price });

  it("says an unmatched order rests in the book", () => {
    const result = describePlacement({ order, trades: [] });
    expect(result.kind).toBe("resting");
    expect(result.text).toMatch(/2 kWh rest in the book at 0.30.*seller/);
  });

  it("says what filled now, at what average price", () => {
    const result = describePlacement({
      order: { ...order, remaining_kwh: 0, filled_kwh: 2, status: "filled" },
      trades: [trade(1, 0.2), trade(1, 0.3)],
    });
    expect(result.kind).toBe("filled");
    expect(result.text).toBe("Filled: Bought 2 kWh now in 2 trades at 0.25 per kWh on average.");
  });

  it("says what filled and what rests", () => {
    const result = describePlacement({
      order: { ...order, side: "sell", remaining_kwh: 1.5, filled_kwh: 0.5 },
      trades: [trade(0.5, 0.3)],
    });
    expect(result.kind).toBe("partial");
    expect(result.text).toMatch(/Sold 0.5 kWh now in 1 trade.*1.5 kWh rest/);
  });

  it("gives quantities in the account's unit, prices still per kWh", () => {
    showEnergyIn("Wh");
    try {
      const result = describePlacement({
        order: { ...order, side: "sell", remaining_kwh: 1.5, filled_kwh: 0.5 },
        trades: [trade(0.5, 0.3)],
      });
      expect(result.text).toBe("Partly filled: Sold 500 Wh now in 1 trade at 0.30 per kWh; 1500 Wh rest in the book at 0.30 per kWh.");
    } finally {
      showEnergyIn(null);
    }
  });

  it("explains a self-trade cancellation", () => {
    const result = describePlacement({ order: { ...order, status: "cancelled", cancel_reason: "self_trade" }, trades: [] });
    expect(result.kind).toBe("cancelled");
    expect(result.text).toMatch(/order of your own/);
  });
});

describe("the book", () => {
  const book = {
    bids: [
      { price_per_kwh: 0.2, quantity_kwh: 1, orders: 1 },
      { price_per_kwh: 0.24, quantity_kwh: 3, orders: 2 },
    ],
    asks: [
      { price_per_kwh: 0.3, quantity_kwh: 1, orders: 1 },
      { price_per_kwh: 0.27, quantity_kwh: 1.5, orders: 1 },
    ],
  };

  it("puts the best prices first", () => {
    const { bids, asks } = bestFirst(book);
    expect(bids.map((l) => l.price_per_kwh)).toEqual([0.24, 0.2]);
    expect(asks.map((l) => l.price_per_kwh)).toEqual([0.27, 0.3]);
  });

  it("has a spread only with both sides", () => {
    expect(spread(book)).toBe(0.03);
    expect(spread({ bids: book.bids, asks: [] })).toBeNull();
    expect(bestFirst(null)).toEqual({ bids: [], asks: [] });
  });
});

describe("tradeSide", () => {
  const trade = { buyer_id: "b", seller_id: "s", amount: 0.5 };
  it("tells buying from selling, and the cash it moved", () => {
    expect(tradeSide(trade, "b")).toEqual({ side: "bought", cash: -0.5 });
    expect(tradeSide(trade, "s")).toEqual({ side: "sold", cash: 0.5 });
  });
});

describe("amount", () => {
  it("keeps the decimals money has, at least two", () => {
    expect(amount(-0.145)).toBe("-0.145");
    expect(amount(0.55)).toBe("0.55");
    expect(amount(0.1234567)).toBe("0.1234567");
    expect(amount(-0)).toBe("0.00");
  });
});
