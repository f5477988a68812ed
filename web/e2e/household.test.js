// A household signs up, adds a device, watches its consumption arrive and gets a
// live warning when it goes over its limit; then the same on a phone-sized screen.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertQuiet, launch, logIn, openPage, screenshot } from "./browser.js";
import { newAccount, startSimulator } from "./platform.js";

const LIVE = { timeout: 45_000 };

// What the chart shows: the hourly values of its table, the total of its caption,
// and how many pixels of the canvas are painted in the bars' colour.
async function chartState(page) {
  return page.evaluate(() => {
    const cells = [...document.querySelectorAll("[data-testid=consumption-table] tbody td:nth-child(2)")];
    const canvas = document.querySelector("[data-testid=consumption-chart]");
    let barPixels = 0;
    if (canvas) {
      // Below the legend (at the top), where only the bars are drawn in this colour.
      const top = Math.round(canvas.height * 0.2);
      const { data } = canvas.getContext("2d").getImageData(0, top, canvas.width, canvas.height - top);
      for (let i = 0; i < data.length; i += 4) {
        if (data[i] === 0x1e && data[i + 1] === 0x88 && data[i + 2] === 0xe5) barPixels += 1;
      }
    }
    return {
      values: cells.map((cell) => Number(cell.textContent)),
      caption: document.querySelector(".chart figcaption")?.textContent || "",
      barPixels,
    };
  });
}

describe("a household", () => {
  const account = newAccount("Household");
  let browser;
  let page;
  let simulator;

  before(async () => {
    browser = await launch();
    page = await openPage(browser);
  });
  after(async () => {
    await simulator?.stop();
    await browser?.close();
  });

  it("signs up and lands on its empty device list", async () => {
    await page.goto("/");
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.getByLabel("Name").fill(account.name);
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password").fill(account.password);
    await screenshot(page, "household-01-sign-up");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByText("No devices yet").waitFor();
    await page.getByText("Live", { exact: true }).waitFor();
    await screenshot(page, "household-02-no-devices");
  });

  it("logs out, and logs in again", async () => {
    await page.getByRole("button", { name: "Log out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, "the token is forgotten");
    await page.waitForTimeout(500); // the server's session.ended has come and gone
    assert.equal(await page.getByTestId("session-notice").count(), 0, "a chosen logout needs no reason");
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("The email or the password is wrong.").waitFor();
    await screenshot(page, "household-03-wrong-password");
    await logIn(page, account);
    await page.getByRole("link", { name: "Devices", exact: true }).click();
    await page.getByRole("heading", { name: "Devices" }).waitFor();
  });

  it("adds a device with an hourly limit", async () => {
    await page.getByRole("button", { name: "Add a device" }).click();
    const form = page.getByRole("form", { name: "Add a device" });
    await form.getByLabel("Name").fill("Boiler");
    await form.getByLabel("Kind").selectOption("appliance");
    await form.getByLabel("Hourly limit (kWh)").fill("-1");
    await form.getByRole("button", { name: "Add device" }).click();
    const limit = form.getByLabel("Hourly limit (kWh)");
    assert.equal(await limit.evaluate((input) => input.validity.valid), false, "a negative limit is refused");
    await form.getByLabel("Hourly limit (kWh)").fill("50");
    await form.getByRole("button", { name: "Add device" }).click();
    await page.getByRole("link", { name: "Boiler", exact: true }).waitFor();
    await page.getByText("limit 50 kWh per hour").waitFor();
    await screenshot(page, "household-04-device-added");
  });

  it("deletes a device it no longer has", async () => {
    const form = page.getByRole("form", { name: "Add a device" });
    if (!(await form.isVisible())) await page.getByRole("button", { name: "Add a device" }).click();
    await form.getByLabel("Name").fill("Old fridge");
    await form.getByRole("button", { name: "Add device" }).click();
    await page.getByRole("link", { name: "Old fridge", exact: true }).waitFor();
    await page.getByRole("button", { name: "Delete Old fridge" }).click(); // confirmed
    await page.getByRole("link", { name: "Old fridge", exact: true }).waitFor({ state: "detached" });
    await page.reload();
    await page.getByRole("link", { name: "Boiler", exact: true }).waitFor();
    assert.equal(await page.getByRole("link", { name: "Old fridge", exact: true }).count(), 0);
  });

  it("says so when the platform cannot be reached, and recovers", async () => {
    await page.route("**/api/devices", (route) => route.abort("connectionrefused"));
    await page.reload();
    await page.getByRole("alert").getByText("cannot be reached").waitFor();
    await screenshot(page, "household-05-unreachable");
    await page.unroute("**/api/devices");
    await page.getByRole("button", { name: "Try again" }).click();
    await page.getByRole("link", { name: "Boiler", exact: true }).waitFor();
  });

  it("sees the simulator's readings as bars that grow live", async () => {
    simulator = startSimulator(account);
    await page.getByRole("link", { name: "Boiler", exact: true }).click();
    await page.getByRole("heading", { name: "Boiler" }).waitFor();
    await page.waitForFunction(
      () => [...document.querySelectorAll("[data-testid=consumption-table] tbody td:nth-child(2)")].some((td) => Number(td.textContent) > 0),
      null,
      LIVE,
    );
    const first = await chartState(page);
    // No reload from here on: what changes comes over /ws.
    await page.waitForFunction(
      (before) => {
        const cells = [...document.querySelectorAll("[data-testid=consumption-table] tbody td:nth-child(2)")];
        return cells.reduce((sum, td) => sum + Number(td.textContent), 0) > before;
      },
      first.values.reduce((a, b) => a + b, 0),
      LIVE,
    );
    const later = await chartState(page);
    assert.ok(later.values.some((v) => v > 0), simulator.output());
    assert.ok(later.barPixels > 0, "the bars are drawn");
    assert.match(later.caption, /Total \d+\.\d{3} kWh/);
    await screenshot(page, "household-06-consumption-live");
  });

  it("gets a live notification when the device goes over its limit, and keeps it", async () => {
    await page.getByRole("link", { name: "Devices" }).first().click();
    await page.getByRole("button", { name: "Edit Boiler" }).click();
    const form = page.getByRole("form", { name: "Edit Boiler" });
    await form.getByLabel("Hourly limit (kWh)").fill("0.001");
    await form.getByRole("button", { name: "Save" }).click();
    await page.getByText("limit 0.001 kWh per hour").waitFor();
    // A simulated device draws in proportion to its limit and to its profile's hour:
    // at night the hour's total may stay under even 0.001 kWh. Spikes go over any
    // limit, whatever the time of day.
    await simulator.stop();
    simulator = startSimulator(account, { spikes: 0.5 });
    const toasts = page.getByRole("log", { name: "Live notifications" });
    await toasts.locator("[data-type=overconsumption]").first().waitFor(LIVE);
    const toast = await toasts.locator("[data-type=overconsumption]").first().textContent();
    assert.match(toast, /^Boiler\b.*limit of 0\.001 kWh/);
    await screenshot(page, "household-07-live-notification");

    await page.getByRole("link", { name: "Notifications" }).click();
    // Stored, and named after its device: one reading or the hour went over.
    await page.getByTestId("notifications").getByText(/^Boiler\b.*limit of 0\.001 kWh/).first().waitFor();
    await screenshot(page, "household-08-notifications");
    assertQuiet(page, ["status of 401", "ERR_CONNECTION_REFUSED"]);
  });

  it("works on a phone-sized screen", async () => {
    const phone = await openPage(browser, { viewport: { width: 390, height: 844 } });
    await logIn(phone, account);
    await phone.getByTestId("kpis").waitFor();
    await screenshot(phone, "household-09-phone-overview");
    await phone.getByRole("button", { name: "Menu" }).click();
    await phone.getByRole("link", { name: "Notifications" }).waitFor();
    await screenshot(phone, "household-10-phone-menu");
    await phone.getByRole("link", { name: "Devices", exact: true }).click();
    await phone.getByRole("link", { name: "Boiler", exact: true }).click();
    await phone.waitForFunction(() => document.querySelector("[data-testid=consumption-chart]"));
    await phone.waitForTimeout(500);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
    await screenshot(phone, "household-11-phone-consumption");
    assertQuiet(phone);
    await phone.context().close();
  });
});
