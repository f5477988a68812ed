// A household with solar panels and a battery: yesterday's import, export and net
// per hour of the PV, and the battery switched to automatic control, its plan
// shown against the setpoints sent and what the battery answered.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertQuiet, launch, logIn, openPage, screenshot } from "./browser.js";
import { api, backfill, newAccount, register, startSimulator, tokenOf } from "./platform.js";

const LIVE = { timeout: 30_000 };
// Yesterday's readings go through the ingest behind whatever else is queued there
// (on a shared platform, other scenarios' history too).
const HISTORY = { timeout: 90_000 };

describe("energy flowing both ways", () => {
  let browser;
  let page;
  let account;
  let pv;
  let simulator;

  before(async () => {
    browser = await launch();
    account = await register(newAccount("Solar"));
    const token = await tokenOf(account);
    pv = await api("/api/devices", { method: "POST", token, body: { name: "Roof PV", kind: "pv", max_hourly_kwh: 4 } });
    const storage = await api("/api/devices", { method: "POST", token, body: { name: "Home battery", kind: "battery", max_hourly_kwh: 5 } });
    await api("/api/batteries", {
      method: "POST",
      token,
      body: { device_id: storage.id, capacity_kwh: 10, max_charge_kw: 3, max_discharge_kw: 3, soc_kwh: 5 },
    });
    // Hourly readings through the real pipeline from two days back, so that the
    // whole of yesterday is there whatever the hour now: its daylight hours export.
    await backfill(account, 2);
    page = await openPage(browser);
    await logIn(page, account);
  });
  after(async () => {
    await simulator?.stop();
    await browser?.close();
  });

  it("shows import, export and net per hour, and the day's totals", async () => {
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await page.goto(`/devices/${pv.id}`);
    await page.getByLabel("Day (UTC)").fill(yesterday);
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll("[data-testid=consumption-table] tbody td:nth-child(3)")].some((td) => Number(td.textContent) > 0),
      null,
      HISTORY,
    );
    // The history may still be arriving: the table and its totals are read in one
    // go, once two readings a second apart agree.
    const read = () =>
      page.evaluate(() => ({
        rows: [...document.querySelectorAll("[data-testid=consumption-table] tbody tr")].map((tr) =>
          [...tr.querySelectorAll("td")].slice(1).map((td) => Number(td.textContent)),
        ),
        totals: document.querySelector("[data-testid=energy-totals]").textContent,
      }));
    let shownNow = await read();
    for (;;) {
      await page.waitForTimeout(1000);
      const again = await read();
      if (JSON.stringify(again) === JSON.stringify(shownNow)) break;
      shownNow = again;
    }
    const { rows, totals } = shownNow;
    assert.equal(rows.length, 24);
    for (const [imported, exported, net] of rows) assert.ok(Math.abs(net - (imported - exported)) < 1e-6, `${net} = ${imported} − ${exported}`);
    const exportedTotal = rows.reduce((sum, [, exported]) => sum + exported, 0);
    const importedTotal = rows.reduce((sum, [imported]) => sum + imported, 0);
    const shown = (term) => Number(totals.match(new RegExp(`${term}(-?[\\d.]+) kWh`))[1]);
    assert.ok(Math.abs(shown("Exported") - exportedTotal) < 0.0015, `${totals} for ${exportedTotal} exported`);
    assert.ok(Math.abs(shown("Imported") - importedTotal) < 0.0015, `${totals} for ${importedTotal} imported`);
    assert.ok(Math.abs(shown("Net \\(import − export\\)") - (importedTotal - exportedTotal)) < 0.0015, totals);
    await screenshot(page, "energy-flows-01-import-export");
  });

  it("switches the battery to automatic and shows its plan against what the battery answered", async () => {
    simulator = startSimulator(account, { commands: true });
    await page.getByRole("link", { name: "Batteries" }).click();
    const toggle = page.getByRole("switch", { name: "Automatic control of Home battery" });
    assert.equal(await toggle.isChecked(), false);
    assert.equal(await page.getByTestId("battery-control").textContent(), "Manual");
    await toggle.click();
    await page.getByTestId("plan-table").waitFor();
    assert.equal(await page.getByTestId("battery-control").textContent(), "Automatic");
    assert.ok(await toggle.isChecked());
    assert.ok((await page.getByTestId("plan-table").locator("tbody tr").count()) >= 24, "a step per hour of the plan");
    await page.getByTestId("plan-chart").waitFor();
    // The control timer sends the current interval's setpoint; the simulated
    // battery answers it, and the table says so without a reload.
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll("[data-testid=plan-table] tbody td:last-child")].some((td) =>
          ["Done", "Rejected"].includes(td.textContent),
        ),
      null,
      LIVE,
    );
    await screenshot(page, "energy-flows-02-battery-plan");

    await toggle.click();
    await page.getByTestId("plan-table").waitFor({ state: "detached" });
    assert.equal(await page.getByTestId("battery-control").textContent(), "Manual");
    assertQuiet(page);
  });
});
