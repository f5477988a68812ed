// Every page, checked by axe-core in the browser for what keeps people using a
// screen reader or a keyboard out: unlabelled controls, missing names, bad ARIA,
// low contrast. Serious and critical findings fail the scenario.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, it } from "node:test";
import { launch, logIn, openPage } from "./browser.js";
import { ADMIN, api, newAccount, register, tokenOf } from "./platform.js";

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

async function violations(page) {
  // axe is injected as a script of the page: the scenario's context bypasses the
  // app's Content-Security-Policy for it (and only for it).
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() =>
    window.axe.run(document, { resultTypes: ["violations"] }),
  );
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

async function check(page, path, ready) {
  await page.goto(path);
  await ready(page);
  await page.waitForTimeout(300);
  const found = await violations(page);
  assert.deepEqual(found, [], `${path}:\n${found.join("\n")}`);
}

describe("accessibility", () => {
  let browser;
  let account;
  let device;

  before(async () => {
    browser = await launch();
    account = await register(newAccount("Access"));
    const token = await tokenOf(account);
    device = await api("/api/devices", { method: "POST", token, body: { name: "Meter", kind: "meter" } });
    // A command in the device's history, and a battery in automatic control with its plan.
    await api(`/api/devices/${device.id}/commands`, { method: "POST", token, body: { type: "ping", params: {} } });
    const storage = await api("/api/devices", { method: "POST", token, body: { name: "Storage", kind: "battery" } });
    const battery = await api("/api/batteries", {
      method: "POST",
      token,
      body: { device_id: storage.id, capacity_kwh: 10, max_charge_kw: 3, max_discharge_kw: 3 },
    });
    await api(`/api/batteries/${battery.id}/control`, {
      method: "PUT",
      token,
      body: { control: "auto", plan: { import_prices: [0.1, 0.1, 0.4], export_prices: [0.05, 0.05, 0.05], load_kwh: [0.5, 0.5, 3] } },
    });
  });
  after(async () => browser?.close());

  // A scheduled demand-response event, so that the staff's pages show their
  // statuses, one of them selected.
  async function scheduledEvent() {
    const start = new Date(Date.now() + 2 * 86_400_000);
    start.setUTCMinutes(0, 0, 0);
    return api("/api/dr/events", {
      method: "POST",
      token: await tokenOf(ADMIN),
      body: {
        name: `Accessible peak ${Date.now() % 100000}`,
        start: start.toISOString(),
        end: new Date(start.getTime() + 3_600_000).toISOString(),
        target_reduction_kw: 2,
        incentive_per_kwh: 0.2,
      },
    });
  }

  it("of the pages anyone sees", async () => {
    const page = await openPage(browser, { bypassCSP: true });
    const heading = (name) => (p) => p.getByRole("heading", { name }).waitFor();
    await check(page, "/login", heading("Sign in"));
    await check(page, "/signup", heading("Create an account"));
    await check(page, "/forgot-password", heading("Forgot your password?"));
    await check(page, "/reset-password#token=not-a-real-one", heading("Choose a new password"));
  });

  it("of a household's pages", async () => {
    const page = await openPage(browser, { bypassCSP: true });
    await logIn(page, account);
    const heading = (name) => (p) => p.getByRole("heading", { name, exact: true }).first().waitFor();
    await check(page, "/devices", heading("Devices"));
    await check(page, "/devices", async (p) => {
      await p.getByRole("button", { name: "Device login for Meter" }).click(); // confirmed
      await p.getByRole("region", { name: "Login of Meter" }).waitFor();
    });
    await check(page, `/devices/${device.id}`, async (p) => {
      await p.getByTestId("consumption-chart").waitFor();
      await p.getByRole("form", { name: "Send Meter a command" }).waitFor();
      await p.locator("ol.commands > li").first().waitFor();
    });
    await check(page, "/notifications", heading("Notifications"));
    await check(page, "/account", (p) => p.getByText("This session").waitFor());
    await check(page, "/support", heading("Support"));
    await check(page, "/", (p) => p.getByTestId("kpis").waitFor());
    await check(page, "/sites", (p) => p.getByTestId("site-map").waitFor());
    await check(page, `/sites/${device.site_id}`, (p) => p.getByTestId("site-devices").waitFor());
    await check(page, `/analytics?site=${device.site_id}`, (p) => p.getByTestId("energy-totals").waitFor());
    await check(page, "/batteries", (p) => p.getByTestId("plan-table").waitFor());
    await check(page, "/trading", heading("Trading"));
    await check(page, "/dr", heading("Demand response"));
  });

  it("of a household's pages in the system's dark scheme", async () => {
    const page = await openPage(browser, { bypassCSP: true, colorScheme: "dark" });
    await logIn(page, account);
    const heading = (name) => (p) => p.getByRole("heading", { name, exact: true }).first().waitFor();
    await check(page, "/", (p) => p.getByTestId("kpis").waitFor());
    await check(page, "/devices", heading("Devices"));
    await check(page, `/analytics?site=${device.site_id}`, (p) => p.getByTestId("energy-totals").waitFor());
    await check(page, "/notifications", heading("Notifications"));
  });

  it("of the ADMIN's pages", async () => {
    const page = await openPage(browser, { bypassCSP: true });
    await logIn(page, ADMIN);
    const heading = (name) => (p) => p.getByRole("heading", { name, exact: true }).first().waitFor();
    await check(page, "/admin/support", heading("Support inbox"));
    await check(page, "/admin/users", heading("Users"));
    await check(page, "/audit", (p) => p.getByTestId("audit-records").waitFor());
    await check(page, "/operations", heading("Processes"));
    await check(page, "/dr", heading("Demand response"));
    const event = await scheduledEvent();
    await check(page, `/dr?event=${event.id}`, (p) => p.getByRole("heading", { name: "Flexibility on offer" }).waitFor());
    await check(page, "/", (p) => p.getByTestId("dr-status").waitFor());
    const dark = await openPage(browser, { bypassCSP: true, colorScheme: "dark" });
    await logIn(dark, ADMIN);
    await check(dark, `/dr?event=${event.id}`, (p) => p.getByRole("heading", { name: "Flexibility on offer" }).waitFor());
    await check(dark, "/", (p) => p.getByTestId("site-ranking").waitFor());
    await check(dark, "/audit", (p) => p.getByTestId("audit-records").waitFor());
    await check(dark, "/operations", heading("Processes"));
  });
});
