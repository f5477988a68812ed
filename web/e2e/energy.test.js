// A household with a home battery: it adds the battery, plans its cheapest
// schedule, and sells energy on the market to a neighbour, seeing the trade live.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertQuiet, launch, logIn, openPage, screenshot } from "./browser.js";
import { api, newAccount, register, tokenOf } from "./platform.js";

describe("a household with a battery", () => {
  let browser;
  let page;
  let account;

  before(async () => {
    browser = await launch();
    account = await register(newAccount("Prosumer"));
    const token = await tokenOf(account);
    await api("/api/devices", { method: "POST", token, body: { name: "Home battery", kind: "battery", max_hourly_kwh: 5 } });
    page = await openPage(browser);
    await logIn(page, account);
  });
  after(async () => browser?.close());

  it("adds the battery and sees its state", async () => {
    await page.getByRole("link", { name: "Batteries" }).click();
    await page.getByRole("button", { name: "Add a battery" }).click();
    const form = page.getByRole("form", { name: "Add a battery" });
    await form.getByLabel("Capacity (kWh)").fill("10");
    await form.getByLabel("Max charge power (kW)").fill("3");
    await form.getByLabel("Max discharge power (kW)").fill("3");
    await form.getByRole("button", { name: "Add battery" }).click();
    await page.getByRole("button", { name: "Charge Home battery", exact: true }).waitFor();
    await screenshot(page, "energy-01-battery");
  });

  it("plans the battery's cheapest day and draws it", async () => {
    await page.getByRole("button", { name: /^Plan for/ }).click();
    await page.getByTestId("schedule-chart").waitFor();
    const label = await page.getByTestId("schedule-chart").getAttribute("aria-label");
    assert.match(label, /charging in [1-9]\d* hours/, "a time-of-use day has hours worth charging in");
    await screenshot(page, "energy-02-schedule");
  });

  it("sells energy and sees the trade as soon as a neighbour buys it", async () => {
    await page.getByRole("link", { name: "Trading" }).click();
    const hour = await page.getByLabel("Delivery hour (UTC)").inputValue();
    const form = page.getByRole("form", { name: "Place an order" });
    await form.getByLabel("Sell").check();
    await form.getByLabel("Lowest price per kWh").fill("0.2");
    await form.getByLabel("Quantity (kWh)").fill("1");
    await form.getByLabel("Delivering device").selectOption({ label: "Home battery (Battery)" });
    await form.getByRole("button", { name: /Place sell order/ }).click();
    await page.getByTestId("placement").getByText(/./).waitFor();
    await page.getByTestId("orders").getByText("0.2").first().waitFor();
    await screenshot(page, "energy-03-order-placed");

    const neighbour = await register(newAccount("Neighbour"));
    await api("/api/trading/orders", {
      method: "POST",
      token: await tokenOf(neighbour),
      body: { side: "buy", delivery_hour: hour, price_per_kwh: 0.25, quantity_kwh: 1 },
    });
    // No reload: trade.executed arrives over /ws and the page asks again.
    await page.getByTestId("trades").locator("tbody tr").first().waitFor({ timeout: 20_000 });
    assert.match(await page.getByTestId("trades").textContent(), /0\.2/);
    await screenshot(page, "energy-04-trade");
    assertQuiet(page);
  });
});
