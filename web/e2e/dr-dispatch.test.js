// A DR event that sends commands: a household opted in with a device that answers,
// the event runs for a few seconds, and staff read in its results what each device
// was sent as it started and ended, and what the device answered.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertQuiet, launch, logIn, openPage, screenshot } from "./browser.js";
import { ADMIN, api, backdateEvent, newAccount, register, startSimulator, tokenOf } from "./platform.js";

describe("a DR event's dispatch", () => {
  let browser;
  let simulator;

  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await simulator?.stop();
    await browser?.close();
  });

  it("shows staff each device's commands and answers", async () => {
    const household = await register(newAccount("Shedder"));
    const token = await tokenOf(household);
    await api("/api/devices", { method: "POST", token, body: { name: "Boiler", kind: "appliance", max_hourly_kwh: 2 } });
    simulator = startSimulator(household, { commands: true });

    const staff = await tokenOf(ADMIN);
    const hour = new Date(Date.now() + 2 * 3_600_000);
    hour.setUTCMinutes(0, 0, 0);
    const name = `Short peak ${Date.now() % 100000}`;
    const event = await api("/api/dr/events", {
      method: "POST",
      token: staff,
      body: {
        name,
        start: hour.toISOString(),
        end: new Date(hour.getTime() + 3_600_000).toISOString(),
        target_reduction_kw: 1,
        incentive_per_kwh: 0.3,
      },
    });
    await api(`/api/dr/events/${event.id}/invitations`, { method: "POST", token: staff, body: { user_ids: [household.id] } });
    await api(`/api/dr/events/${event.id}/opt-in`, { method: "POST", token });
    // The API announces events in the future only: this one is moved to start in
    // a few seconds and last a few more, in dr's own database.
    const start = new Date(Date.now() + 4_000);
    const end = new Date(Date.now() + 12_000);
    await backdateEvent(event.id, start.toISOString(), end.toISOString());

    const page = await openPage(browser);
    await logIn(page, ADMIN);
    await page.goto(`/dr?event=${event.id}`);
    // Once the event is over its results are shown, with the commands of its
    // start and its end, each answered by the device.
    const dispatches = page.getByTestId("dr-dispatches");
    for (;;) {
      await page.goto(`/dr?event=${event.id}`);
      const shown = await dispatches.waitFor({ timeout: 5_000 }).then(
        () => true,
        () => false,
      );
      if (shown) {
        const cells = await dispatches.locator("td[data-status]").evaluateAll((tds) => tds.map((td) => td.dataset.status));
        if (cells.length === 2 && cells.every((status) => status === "acked")) break;
      }
      assert.ok(Date.now() < end.getTime() + 60_000, "the event's commands were answered within a minute of its end");
    }
    const row = dispatches.getByRole("row", { name: /Boiler/ });
    assert.match(await row.textContent(), /Switch on or off: on = false: Done.*Switch on or off: on = true: Done/);
    await screenshot(page, "dr-dispatch-01-results");
    assertQuiet(page, ["status of 409"]);
  });
});
