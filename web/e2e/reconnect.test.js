// The live connection survives the WebSocket gateway going away: the page says it
// is reconnecting, backs off, comes back by itself, and shows what happened
// meanwhile from the stored history.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertQuiet, launch, logIn, openPage, screenshot } from "./browser.js";
import { api, control, newAccount, register, startSimulator, tokenOf } from "./platform.js";

describe("the live connection", () => {
  let browser;
  let simulator;

  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await simulator?.stop();
    await browser?.close();
  });

  it("reconnects after the gateway restarts and catches up on what it missed", async () => {
    const account = await register(newAccount("Steady"));
    const token = await tokenOf(account);
    await api("/api/devices", { method: "POST", token, body: { name: "Sauna", kind: "appliance", max_hourly_kwh: 1 } });
    const page = await openPage(browser);
    await logIn(page, account);
    await page.getByRole("link", { name: "Notifications" }).click();
    await page.getByText("No notifications").waitFor();
    await page.getByText("Live", { exact: true }).waitFor();

    await control("kill", "ws_gateway");
    await page.getByText("Reconnecting…", { exact: true }).waitFor();

    // Over the limit while the socket is down: stored, not pushed.
    simulator = startSimulator(account, { spikes: 1 });
    const deadline = Date.now() + 30_000;
    while ((await api("/api/notifications", { token })).length === 0) {
      assert.ok(Date.now() < deadline, `no notification stored:\n${simulator.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await simulator.stop();
    await page.waitForTimeout(1500); // a few failed attempts, backing off
    assert.equal(await page.getByTestId("notifications").count(), 0);
    await screenshot(page, "reconnect-01-reconnecting");

    await control("start", "ws_gateway");
    await page.getByText("Live", { exact: true }).waitFor({ timeout: 45_000 });
    await page.getByTestId("notifications").getByText(/^Sauna: /).first().waitFor();
    await screenshot(page, "reconnect-02-caught-up");
    assertQuiet(page, ["WebSocket", "status of 502"]);
  });
});
