// An operator's day: the portfolio on a map with its figures and its sites ranked,
// one site's rooms and devices, its energy over a week compared with the week
// before and opened day by day, and the figures downloaded as CSV, which add up
// to what the page shows.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { assertQuiet, launch, logIn, openPage, screenshot } from "./browser.js";
import { ADMIN, api, backfill, newAccount, register, tokenOf } from "./platform.js";

// CSV as rows of cells (the exports quote no field that needs it: ids, numbers
// and times).
function parseCsv(text) {
  const [header, ...rows] = text.trim().split(/\r?\n/).map((line) => line.split(","));
  return rows.map((cells) => Object.fromEntries(header.map((name, index) => [name, cells[index]])));
}

describe("operator", () => {
  let browser;
  let page;
  let site;
  const siteName = `Riverside ${Date.now() % 100000}`;
  const owner = newAccount("Site owner");
  const operator = newAccount("Operator");

  before(async () => {
    browser = await launch();
    await register(owner);
    const token = await tokenOf(owner);
    const device = await api("/api/devices", { method: "POST", token, body: { name: "Fridge", kind: "appliance", max_hourly_kwh: 2 } });
    site = await api(`/api/sites/${device.site_id}`, {
      method: "PATCH",
      token,
      body: { name: siteName, latitude: 52.52, longitude: 13.4, timezone: "Europe/Berlin" },
    });
    const room = await api(`/api/sites/${site.id}/rooms`, { method: "POST", token, body: { name: "Kitchen" } });
    await api(`/api/devices/${device.id}`, { method: "PATCH", token, body: { room_id: room.id } });
    await backfill(owner, 3);
    await api("/api/users", {
      method: "POST",
      token: await tokenOf(ADMIN),
      body: { email: operator.email, password: operator.password, name: operator.name, role: "OPERATOR" },
    });
    page = await openPage(browser);
    await logIn(page, operator);
  });
  after(async () => browser?.close());

  it("sees the sites on a map, the portfolio's figures and the sites ranked", async () => {
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.getByTestId("kpis").waitFor();
    await page.locator("[data-testid=site-map] .site-marker").first().waitFor();
    const ranking = page.getByTestId("site-ranking");
    await ranking.getByRole("link", { name: siteName }).waitFor();
    await screenshot(page, "operator-01-overview");
  });

  it("opens the site with its rooms and devices", async () => {
    await page.getByTestId("site-ranking").getByRole("link", { name: siteName }).click();
    await page.getByRole("heading", { name: siteName, level: 1 }).waitFor();
    await page.getByTestId("rooms").getByText("Kitchen").waitFor();
    const row = page.getByTestId("site-devices").getByRole("row", { name: /Fridge/ });
    await row.waitFor();
    // Staff read the site; its devices are changed by its own people.
    await row.getByRole("cell", { name: "Kitchen" }).waitFor();
    assert.equal(await row.getByLabel("Room of Fridge").count(), 0);
    const [report] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download the report (PDF)" }).click()]);
    assert.match(report.suggestedFilename(), /^report-\d{4}-\d{2}-/);
    const pdf = await readFile(await report.path());
    assert.equal(pdf.subarray(0, 5).toString("latin1"), "%PDF-");
    await screenshot(page, "operator-02-site");
  });

  it("compares a week with the week before and opens a day by the hour", async () => {
    await page.getByRole("link", { name: `Energy of ${siteName}` }).click();
    await page.getByRole("heading", { name: "Analytics" }).waitFor();
    await page.getByRole("button", { name: "7 days" }).click();
    await page.getByLabel("Compare with the previous period").check();
    const buckets = page.getByTestId("energy-buckets").locator("tbody tr");
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=energy-buckets] tbody tr").length === 7);
    await page.getByTestId("energy-chart").waitFor();
    assert.equal(await buckets.count(), 7);
    const imported = await page.getByTestId("energy-totals").locator("div", { hasText: "Imported" }).locator("dd").textContent();
    assert.ok(Number.parseFloat(imported) > 0, `a week of readings was imported: ${imported}`);
    await screenshot(page, "operator-03-week");
    await page.getByRole("button", { name: /^Open .* by hour$/ }).nth(5).click();
    await page.waitForFunction(() => {
      const rows = document.querySelectorAll("[data-testid=energy-buckets] tbody tr").length;
      return rows >= 23 && rows <= 25;
    });
    await screenshot(page, "operator-04-day");
  });

  it("downloads the week as CSV, which adds up to the API's totals", async () => {
    await page.getByRole("button", { name: "7 days" }).click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=energy-buckets] tbody tr").length === 7);
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
    const rows = parseCsv(await readFile(await download.path(), "utf8"));
    assert.equal(rows.length, 7);
    const query = new URL(page.url()).searchParams;
    assert.equal(query.get("site"), site.id);
    const params = new URLSearchParams({ scope: "site", id: site.id, resolution: "day" });
    const first = rows[0].start.slice(0, 10);
    const last = rows.at(-1).start.slice(0, 10);
    params.set("from", first);
    const end = new Date(`${last}T00:00:00Z`);
    end.setUTCDate(end.getUTCDate() + 1);
    params.set("to", end.toISOString().slice(0, 10));
    const energy = await api(`/api/energy?${params}`, { token: await tokenOf(operator) });
    const sum = rows.reduce((total, row) => total + Number(row.import_kwh), 0);
    assert.ok(Math.abs(sum - energy.totals.import_kwh) < 1e-6, `${sum} = ${energy.totals.import_kwh}`);
    assert.ok(sum > 0);
    assertQuiet(page);
  });
});
