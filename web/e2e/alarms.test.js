// Alarms a household acts on: a device fed over its hourly limit raises an alarm,
// counted in the header; the Alarms page filters, acknowledges it with a comment
// and clears it; a rule is added on the device's page; notification preferences
// are saved; the page reads in the dark scheme too.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertQuiet, launch, logIn, openPage, screenshot } from "./browser.js";
import { api, newAccount, register, startSimulator, tokenOf } from "./platform.js";

async function eventually(check, { timeout = 60_000, every = 500 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

describe("alarms", () => {
  let browser;
  let account;
  let token;
  let device;
  let simulator;

  before(async () => {
    browser = await launch();
    account = await register(newAccount("Alarmed"));
    token = await tokenOf(account);
    device = await api("/api/devices", {
      method: "POST",
      token,
      body: { name: "Sauna", kind: "appliance", max_hourly_kwh: 0.05 },
    });
    // Every reading a spike over the limit: the hour goes over it at once.
    simulator = startSimulator(account, { rate: 2, spikes: 1 });
    const raised = await eventually(async () => (await api(`/api/alarms?device_id=${device.id}`, { token })).alarms[0]);
    assert.ok(raised, `no alarm was raised:\n${simulator.output()}`);
    await simulator.stop();
    simulator = null;
  });
  after(async () => {
    await simulator?.stop();
    await browser?.close();
  });

  it("are counted in the header and acknowledged, then cleared, on the Alarms page", async () => {
    const page = await openPage(browser);
    await logIn(page, account);
    const count = page.getByTestId("alarm-count");
    await count.waitFor();
    assert.match(await count.innerText(), /1/);
    await count.click();
    await page.getByRole("heading", { name: "Alarms", level: 1 }).waitFor();
    const table = page.getByTestId("alarms");
    await table.getByText(/Sauna used .* kWh in the hour from/).waitFor();
    await screenshot(page, "alarms-01-unacknowledged");

    await page.getByRole("button", { name: /^Acknowledge: / }).click();
    const dialog = page.getByRole("dialog", { name: "Acknowledge the alarm" });
    await dialog.getByLabel(/^Comment/).fill("Sauna on for the evening");
    await dialog.getByRole("button", { name: "Acknowledge", exact: true }).click();
    await dialog.waitFor({ state: "hidden" });
    // Acknowledged, it leaves the header's count and the list of those nobody
    // is on; the active ones (the page's default: filters stand in the address)
    // still show it.
    await count.waitFor({ state: "hidden" });
    await page.getByRole("form", { name: "Filter the alarms" }).locator('select[name="status"]').selectOption("active");
    assert.ok(await eventually(() => !page.url().includes("status=unack"), { timeout: 5_000 }), page.url());
    await table.getByText("“Sauna on for the evening”").waitFor();

    await page.getByRole("button", { name: /^Clear: / }).click();
    const clear = page.getByRole("dialog", { name: "Clear the alarm" });
    await clear.getByRole("button", { name: "Clear", exact: true }).click();
    await clear.waitFor({ state: "hidden" });
    await eventually(async () => (await table.getByText(/Sauna used/).count()) === 0, { timeout: 10_000 });
    const [alarm] = (await api(`/api/alarms?device_id=${device.id}`, { token })).alarms;
    assert.equal(alarm.status, "cleared");
    assert.equal(alarm.acknowledged_by.id, alarm.cleared_by.id);

    await page.goto("/alarms?status=cleared");
    await table.getByText(/Sauna used/).waitFor();
    await screenshot(page, "alarms-02-cleared");
    assertQuiet(page);
    await page.context().close();
  });

  it("have their rules edited on the device's page", async () => {
    const page = await openPage(browser);
    await logIn(page, account);
    await page.goto(`/devices/${device.id}`);
    const rules = page.getByTestId("alarm-rules");
    await rules.getByText("Hourly limit").waitFor();
    await page.getByRole("button", { name: "Add an alarm rule" }).click();
    const form = page.getByRole("form", { name: "Add an alarm rule" });
    await form.getByLabel(/^Name/).fill("Sauna silent");
    await form.locator('select[name="type"]').selectOption("no_reading");
    await form.locator('select[name="severity"]').selectOption("minor");
    await form.getByLabel(/^For at least/).fill("15");
    await form.getByRole("button", { name: "Add the rule" }).click();
    await rules.getByText("Sauna silent").waitFor();
    await screenshot(page, "alarms-03-device-rules");
    const saved = (await api(`/api/alarm-rules?device_id=${device.id}`, { token })).find((rule) => rule.name === "Sauna silent");
    assert.deepEqual([saved.type, saved.severity, saved.duration_min], ["no_reading", "minor", 15]);
    assertQuiet(page);
    await page.context().close();
  });

  it("reach their people as their preferences say", async () => {
    const page = await openPage(browser, { colorScheme: "dark" });
    await logIn(page, account);
    await page.goto("/account/notifications");
    const form = page.getByRole("form", { name: "Notification preferences" });
    await form.waitFor();
    await form.getByRole("switch", { name: /No alarm notifications/ }).check();
    await form.getByLabel(/^From/).fill("22:00");
    await form.getByLabel(/^Until/).fill("07:00");
    await form.getByRole("switch", { name: /daily e-mail/ }).check();
    await form.getByRole("button", { name: "Save the preferences" }).click();
    await form.getByText("Saved.").waitFor();
    await screenshot(page, "alarms-04-preferences-dark");
    const preferences = await api("/api/notification-preferences", { token });
    assert.deepEqual(preferences.quiet_hours, { start: "22:00", end: "07:00" });
    assert.equal(preferences.digest.enabled, true);

    await page.goto("/alarms?status=any");
    await page.getByTestId("alarms").getByText(/Sauna used/).waitFor();
    await screenshot(page, "alarms-05-list-dark");
    assertQuiet(page);
    await page.context().close();
  });
});
