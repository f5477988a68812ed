// Devices that talk back, seen from the web app: a simulated device comes online
// and goes offline on the Devices page without a reload, and a command sent from
// its command panel moves to "Done" as the device answers it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertQuiet, launch, logIn, openPage, screenshot } from "./browser.js";
import { api, newAccount, register, startSimulator, tokenOf } from "./platform.js";

const LIVE = { timeout: 30_000 };

describe("a device that talks back", () => {
  let browser;
  let page;
  let account;
  let device;
  let simulator;
  const status = () => page.locator(`li[data-device-id="${device.id}"] [data-testid=device-status]`);

  before(async () => {
    browser = await launch();
    account = await register(newAccount("Talker"));
    const token = await tokenOf(account);
    device = await api("/api/devices", {
      method: "POST",
      token,
      body: { name: "Dishwasher", kind: "appliance", max_hourly_kwh: 2, reading_interval_s: 5 },
    });
    page = await openPage(browser);
    await logIn(page, account);
  });
  after(async () => {
    await simulator?.stop();
    await browser?.close();
  });

  it("shows the device offline until it connects, then online without a reload", async () => {
    await page.goto("/devices");
    await status().waitFor();
    assert.equal(await status().getAttribute("data-online"), "false");
    assert.match(await status().textContent(), /Offline.*last seen never/);

    simulator = startSimulator(account, { commands: true });
    await page.waitForFunction(
      (id) => document.querySelector(`li[data-device-id="${id}"] [data-testid=device-status]`)?.dataset.online === "true",
      device.id,
      LIVE,
    );
    assert.match(await status().textContent(), /Online.*last seen \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    await screenshot(page, "talk-back-01-online");
  });

  it("sends a command from the device's panel and sees the device's answer", async () => {
    await page.getByRole("button", { name: "Commands of Dishwasher" }).click();
    const form = page.getByRole("form", { name: "Send Dishwasher a command" });
    await form.getByLabel("Command").selectOption({ label: "Switch on or off" });
    await form.locator("select[name=on]").selectOption({ label: "Off" });
    await form.getByRole("button", { name: "Send command" }).click();

    const sent = page.locator("ol.commands > li").first();
    await sent.waitFor();
    assert.match(await sent.textContent(), /Switch on or off: on = false/);
    // No reload: command.updated moves it on as the broker and the device answer.
    await page.waitForFunction(() => document.querySelector("ol.commands > li")?.dataset.status === "acked", null, LIVE);
    const steps = await sent.locator(".command-steps li").allTextContents();
    assert.deepEqual(
      steps.map((step) => step.split(" ")[0]),
      ["Pending", "Delivered", "Done"],
      `each status once, in order: ${steps.join(" | ")}`,
    );
    await screenshot(page, "talk-back-02-command-acked");
  });

  it("checks a command's bounds before sending it, by the catalogue", async () => {
    const token = await tokenOf(account);
    const charger = await api("/api/devices", { method: "POST", token, body: { name: "Wallbox", kind: "ev_charger" } });
    await page.goto(`/devices/${charger.id}`);
    const form = page.getByRole("form", { name: "Send Wallbox a command" });
    await form.getByLabel("Command").selectOption({ label: "Charging current" });
    await form.getByLabel("Current (A)").fill("3");
    await form.getByRole("button", { name: "Send command" }).click();
    await form.getByText("Must be 0 (off), or between 6 and 80 A.").waitFor();
    assert.equal(await form.getByLabel("Current (A)").getAttribute("aria-invalid"), "true");
    assert.equal(await page.locator("ol.commands > li").count(), 0, "nothing was sent");
  });

  it("shows the device offline as soon as it disconnects", async () => {
    await page.goto("/devices");
    await page.waitForFunction(
      (id) => document.querySelector(`li[data-device-id="${id}"] [data-testid=device-status]`)?.dataset.online === "true",
      device.id,
      LIVE,
    );
    await simulator.stop();
    simulator = null;
    await page.waitForFunction(
      (id) => document.querySelector(`li[data-device-id="${id}"] [data-testid=device-status]`)?.dataset.online === "false",
      device.id,
      LIVE,
    );
    await screenshot(page, "talk-back-03-offline");
    assertQuiet(page);
  });
});
