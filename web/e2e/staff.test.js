// Staff at work: an ADMIN makes a colleague an OPERATOR on the users page and
// finds the role changes in the audit log; the OPERATOR announces a
// demand-response event and invites a household, which opts in from its own
// browser, and the OPERATOR sees the answer arrive.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertQuiet, launch, logIn, openPage, screenshot } from "./browser.js";
import { ADMIN, api, backdateEvent, backfill, newAccount, register, tokenOf } from "./platform.js";

const LIVE = { timeout: 20_000 };

describe("staff", () => {
  let browser;
  let admin;
  let operatorPage;
  let household;
  let eventName;
  const operator = newAccount("Operator");

  before(async () => {
    browser = await launch();
    household = await register(newAccount("Flexible"));
    const token = await tokenOf(household);
    await api("/api/devices", { method: "POST", token, body: { name: "Heat pump", kind: "heat_pump" } });
    admin = await openPage(browser);
    await logIn(admin, ADMIN);
  });
  after(async () => browser?.close());

  it("an ADMIN adds an OPERATOR and changes a role", async () => {
    await admin.getByRole("link", { name: "Users" }).click();
    await admin.getByTestId("users").waitFor();
    await admin.getByRole("button", { name: "Add a user" }).click();
    const form = admin.getByRole("form", { name: "Add a user" });
    await form.getByLabel("Name").fill(operator.name);
    await form.getByLabel("Email").fill(operator.email);
    await form.getByLabel("Password").fill(operator.password);
    await form.getByLabel("Role").selectOption("OPERATOR");
    await form.getByRole("button", { name: "Add user" }).click();
    await admin.getByTestId("users").getByText(operator.email).waitFor();

    // The same email again is refused, beside the field.
    await form.getByLabel("Name").fill("Twin");
    await form.getByLabel("Email").fill(operator.email);
    await form.getByLabel("Password").fill(operator.password);
    await form.getByRole("button", { name: "Add user" }).click();
    await form.locator(".field-error").first().waitFor();
    await screenshot(admin, "staff-01-users");

    const role = admin.getByLabel(`Role of ${household.name}`);
    await role.selectOption("OPERATOR");
    await admin.waitForFunction(() => !document.querySelector("[aria-busy=true]"));
    const seen = await api(`/api/users/${household.id}`, { token: await tokenOf(ADMIN) });
    assert.equal(seen.role, "OPERATOR");
    await role.selectOption("USER");
    await admin.waitForFunction(() => !document.querySelector("[aria-busy=true]"));
    assertQuiet(admin, ["status of 409"]);
  });

  it("the ADMIN finds those role changes in the audit log, who, when and from where", async () => {
    await admin.getByRole("link", { name: "Audit log" }).click();
    await admin.getByTestId("audit-records").waitFor();
    const filters = admin.getByRole("form", { name: "Filter the audit log" });
    await filters.getByLabel("Action").selectOption("users.role_changed");
    await filters.getByLabel("Object id").fill(household.id);
    await filters.getByRole("button", { name: "Apply filters" }).click();
    const rows = admin.getByTestId("audit-records").locator("tbody tr");
    await admin.waitForFunction(
      (count) => document.querySelectorAll("[data-testid=audit-records] tbody tr").length === count,
      2,
      LIVE,
    );
    // Newest first: back to USER, then the promotion.
    const [back, promoted] = [rows.nth(0), rows.nth(1)];
    assert.match(await back.locator(".details").innerText(), /OPERATOR → USER/);
    assert.match(await promoted.locator(".details").innerText(), /USER → OPERATOR/);
    for (const row of [back, promoted]) {
      assert.equal(await row.getAttribute("data-action"), "users.role_changed");
      assert.match(await row.innerText(), /\(ADMIN\)/);
      assert.match(await row.locator(".object").innerText(), new RegExp(household.name));
      assert.match(await row.locator(".client").innerText(), /\d+\.\d+\.\d+\.\d+|:/);
    }
    await screenshot(admin, "staff-01-audit");
    assertQuiet(admin, ["status of 409"]);
  });

  it("an OPERATOR announces an event, invites a household, and sees it opt in live", async () => {
    operatorPage = await openPage(browser);
    await logIn(operatorPage, operator);
    await operatorPage.getByText("(OPERATOR)").waitFor();
    await operatorPage.getByRole("link", { name: "Demand response" }).click();
    await operatorPage.getByRole("button", { name: "Announce an event" }).click();
    const form = operatorPage.getByRole("form", { name: "Announce an event" });
    const name = `Evening peak ${Date.now() % 100000}`;
    eventName = name;
    await form.getByLabel("Name").fill(name);
    await form.getByLabel("Target reduction (kW)").fill("5");
    await form.getByLabel("Incentive per kWh saved").fill("0.3");
    await form.getByRole("button", { name: "Announce" }).click();
    await operatorPage.getByRole("link", { name: `Open ${name}` }).click();
    // The household is found by typing part of its name, and shown by name and
    // e-mail address, never by id.
    const invite = operatorPage.getByRole("form", { name: "Invite users" });
    await invite.getByLabel("Find users").fill(household.name.slice(0, 2));
    await invite.getByText(`Type at least 3 letters`).waitFor();
    await invite.getByLabel("Find users").fill(household.name.split(" ")[1]);
    const found = invite.getByRole("checkbox", { name: new RegExp(`${household.name}.*${household.email}`) });
    await found.check();
    assert.equal(await invite.getByText(household.id).count(), 0);
    await invite.getByRole("button", { name: "Invite 1 user" }).click();
    await operatorPage.getByText("Invited 1 user.").waitFor();
    await screenshot(operatorPage, "staff-02-event");

    // The household, in its own browser, is told and answers.
    const home = await openPage(browser, { viewport: { width: 390, height: 844 } });
    await logIn(home, household);
    await home.goto("/dr");
    const optIn = home.getByRole("button", { name: `Opt in to ${name}` });
    await optIn.waitFor(LIVE);
    await screenshot(home, "staff-03-invitation-phone");
    await optIn.click();
    await home.getByRole("button", { name: `Opt out of ${name}` }).waitFor();

    // The OPERATOR's page learns of the answer over /ws.
    const row = operatorPage.getByRole("row", { name: new RegExp(name) });
    await row.getByText("1 invited: 1 in, 0 out, 0 not answered").waitFor(LIVE);
    await screenshot(operatorPage, "staff-04-answered");
    assertQuiet(operatorPage);
    assertQuiet(home);
    await home.context().close();
  });

  it("an OPERATOR reads what a finished event achieved, and the household its share", async () => {
    // The household's history (the baseline looks back 30 days), then the event
    // moved to yesterday evening, as if it had run.
    await backfill(household, 32);
    const [event] = (await api("/api/dr/events", { token: await tokenOf(operator) })).filter((e) => e.name === eventName);
    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await backdateEvent(event.id, `${day}T17:00:00Z`, `${day}T20:00:00Z`);

    await operatorPage.reload();
    const chart = operatorPage.getByTestId("dr-results-chart");
    await chart.waitFor();
    const summary = await chart.getAttribute("aria-label");
    const baseline = Number(/baseline (\d+\.\d+) kWh/.exec(summary)?.[1]);
    assert.ok(baseline > 0, `a baseline from 32 days of history: ${summary}`);
    await screenshot(operatorPage, "staff-05-results");

    const home = await openPage(browser, { viewport: { width: 390, height: 844 } });
    await logIn(home, household);
    await home.goto("/dr");
    await home.getByText("Your results").click();
    await home.getByTestId("dr-results-chart").waitFor();
    await screenshot(home, "staff-06-own-results-phone");
    assertQuiet(operatorPage);
    assertQuiet(home);
  });
});
