// A VIEWER at work: an ADMIN gives an account the role; it then reads a household's
// devices, a demand-response event with its flexibility, and the users, and is
// offered nothing that would change any of them.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertQuiet, launch, logIn, openPage, screenshot } from "./browser.js";
import { ADMIN, api, newAccount, register, tokenOf } from "./platform.js";

describe("viewer", () => {
  let browser;
  let page;
  let household;
  let eventName;
  let siteId;
  const viewer = newAccount("Viewer");

  before(async () => {
    browser = await launch();
    household = await register(newAccount("Watched"));
    const device = await api("/api/devices", {
      method: "POST",
      token: await tokenOf(household),
      body: { name: "Heat pump", kind: "heat_pump" },
    });
    siteId = device.site_id;
    const admin = await tokenOf(ADMIN);
    await api("/api/users", {
      method: "POST",
      token: admin,
      body: { email: viewer.email, password: viewer.password, name: viewer.name, role: "VIEWER" },
    });
    const start = new Date(Date.now() + 2 * 86_400_000);
    start.setUTCMinutes(0, 0, 0);
    eventName = `Morning peak ${Date.now() % 100000}`;
    const event = await api("/api/dr/events", {
      method: "POST",
      token: admin,
      body: {
        name: eventName,
        start: start.toISOString(),
        end: new Date(start.getTime() + 2 * 3_600_000).toISOString(),
        target_reduction_kw: 5,
        incentive_per_kwh: 0.3,
      },
    });
    await api(`/api/dr/events/${event.id}/invitations`, {
      method: "POST",
      token: admin,
      body: { user_ids: [household.id] },
    });
    page = await openPage(browser);
    await logIn(page, viewer);
    await page.getByText("(VIEWER)").waitFor();
  });
  after(async () => browser?.close());

  it("sees every device and may change none", async () => {
    await page.getByRole("link", { name: "Devices", exact: true }).click();
    await page.getByText("Heat pump").first().waitFor();
    assert.equal(await page.getByRole("button", { name: "Add a device" }).count(), 0);
    for (const name of ["Edit Heat pump", "Delete Heat pump", "Device login for Heat pump"]) {
      assert.equal(await page.getByRole("button", { name }).count(), 0, name);
    }
    await screenshot(page, "viewer-01-devices");
  });

  it("sees the demand-response events and their flexibility, and runs none", async () => {
    await page.getByRole("link", { name: "Demand response" }).click();
    await page.getByTestId("dr-events").waitFor();
    assert.equal(await page.getByRole("button", { name: "Announce an event" }).count(), 0);
    await page.getByRole("link", { name: `Open ${eventName}` }).click();
    await page.getByRole("heading", { name: "Flexibility on offer" }).waitFor();
    assert.equal(await page.getByRole("button", { name: `Cancel event ${eventName}` }).count(), 0);
    assert.equal(await page.getByRole("form", { name: "Invite users" }).count(), 0);
    await screenshot(page, "viewer-02-dr");
  });

  it("sees a household's site, its rooms, devices, people and energy, and changes none", async () => {
    await page.getByRole("link", { name: "Sites" }).click();
    await page.getByTestId("sites").waitFor();
    assert.equal(await page.getByRole("button", { name: "Add a site" }).count(), 0);
    await page.goto(`/sites/${siteId}`);
    await page.getByTestId("site-devices").getByRole("link", { name: "Heat pump" }).waitFor();
    await page.getByTestId("members").getByText(household.email).waitFor();
    for (const name of [/^Edit /, /^Delete /, /^Remove /]) {
      assert.equal(await page.getByRole("button", { name }).count(), 0, String(name));
    }
    for (const name of ["Add a room", "Add a person"]) {
      assert.equal(await page.getByRole("form", { name }).count(), 0, name);
    }
    assert.equal(await page.getByLabel("Room of Heat pump").count(), 0);
    await page.getByRole("link", { name: /^Energy of / }).click();
    await page.getByTestId("energy-totals").waitFor();
    await screenshot(page, "viewer-03-site");
  });

  it("sees the users and may change no one", async () => {
    await page.getByRole("link", { name: "Users" }).click();
    await page.getByTestId("users").getByText(household.email).waitFor();
    assert.equal(await page.getByRole("button", { name: "Add a user" }).count(), 0);
    assert.equal(await page.getByRole("button", { name: `Edit ${household.name}` }).count(), 0);
    assert.equal(await page.getByRole("button", { name: `Delete ${household.name}` }).count(), 0);
    assert.equal(await page.getByLabel(`Role of ${household.name}`).count(), 0);
    await screenshot(page, "viewer-04-users");
    assertQuiet(page);
  });
});
