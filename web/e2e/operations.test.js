// ADMIN's operations page: the reading pipeline and the push path with their live
// figures while a household's meter sends readings, every process with its health,
// and a reading that can never count (stamped in 1970) as a dead letter, inspected,
// replayed (it comes back, as it still cannot count) and purged. A VIEWER is
// offered none of it.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { assertQuiet, launch, logIn, openPage, screenshot } from "./browser.js";
import { ADMIN, api, newAccount, publishOverMqtt, register, startSimulator, tokenOf } from "./platform.js";

// Prometheus reads every 15 s and rates are over a minute: a figure may take
// two or three readings of it to show.
const METRICS = { timeout: 90_000 };
const POLLED = { timeout: 30_000 };

async function eventually(check, { timeout = 30_000, every = 500 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

// The dead letters of one reading, as the API lists them to `token`'s ADMIN.
async function lettersOf(readingId, token) {
  const letters = await api("/api/dead-letters?limit=500", { token });
  return letters.filter((letter) => letter.preview.includes(readingId));
}

// Those letters once `ready(letters)`, or what there is when it never is.
async function lettersOnce(ready, readingId, token) {
  let letters = [];
  await eventually(async () => ready((letters = await lettersOf(readingId, token))));
  return letters;
}

// The stages of a path as the page shows them, in order.
function stagesOf(page, testId) {
  return page.getByTestId(testId).locator(":scope > li").evaluateAll((items) => items.map((li) => li.dataset.stage));
}

describe("operations", () => {
  let browser;
  let page;
  let simulator;
  let poisoned;
  let adminToken;
  const readingId = randomUUID();

  before(async () => {
    browser = await launch();
    const household = await register(newAccount("Metered"));
    await api("/api/devices", { method: "POST", token: await tokenOf(household), body: { name: "Meter", kind: "meter" } });
    simulator = startSimulator(household, { rate: 4 });
    // A device of its own sends the reading that can never count, over MQTT with
    // its own login.
    const owner = await register(newAccount("Stale"));
    const token = await tokenOf(owner);
    poisoned = await api("/api/devices", { method: "POST", token, body: { name: "Stuck clock", kind: "meter" } });
    poisoned.login = await api(`/api/devices/${poisoned.id}/credentials`, { method: "POST", token });
    adminToken = await tokenOf(ADMIN);
    page = await openPage(browser);
    await logIn(page, ADMIN);
  });
  after(async () => {
    await simulator?.stop();
    await browser?.close();
  });

  it("shows an ADMIN both paths in order and every process, the gateways ok", async () => {
    await page.getByRole("link", { name: "Operations" }).click();
    await page.getByRole("heading", { name: "Operations", level: 1 }).waitFor();
    await page.getByTestId("reading-pipeline").waitFor();
    assert.deepEqual(await stagesOf(page, "reading-pipeline"), ["devices", "broker", "balancer", "workers", "database"]);
    assert.deepEqual(await stagesOf(page, "push-path"), ["events", "ws_gateway"]);
    await page.getByRole("heading", { name: "Ingest workers", level: 3 }).waitFor();

    const processes = page.getByTestId("processes");
    const gateway = processes.locator('tr[data-process="gateway"][data-health="ok"]');
    await gateway.waitFor(METRICS);
    assert.match(await gateway.locator("td").nth(1).innerText(), /ok/);
    await processes.locator('tr[data-process="ws_gateway"][data-health="ok"]').waitFor(METRICS);
    assert.match(await gateway.locator("td").nth(3).innerText(), /^\d+ (s|min)$|^\d+ h \d+ min$|^\d+ d \d+ h$/);
  });

  it("shows the rate of the readings once they flow", async () => {
    const rate = await page.waitForFunction(
      () => {
        const figures = [...document.querySelectorAll('[data-testid=reading-pipeline] li[data-stage=devices] dl > div')];
        const readings = figures.find((figure) => figure.querySelector("dt")?.textContent === "Readings");
        const value = readings?.querySelector("dd")?.textContent || "";
        return /^\d+(\.\d+)?\/s$/.test(value) && Number.parseFloat(value) > 0 && value;
      },
      null,
      METRICS,
    );
    assert.match(await rate.jsonValue(), /\/s$/);
    await screenshot(page, "operations-01-pipeline");
  });

  it("lets an ADMIN inspect, replay and purge a reading that can never count", async () => {
    const sent = await publishOverMqtt({
      port: poisoned.login.mqtt.port,
      clientId: poisoned.login.mqtt.client_id,
      username: poisoned.login.mqtt.username,
      password: poisoned.login.password,
      topic: poisoned.login.mqtt.publish_topic,
      message: { reading_id: readingId, device_id: poisoned.id, timestamp: "1970-01-01T00:00:00Z", kwh: 0.1 },
    });
    assert.deepEqual(sent, { connack: 0, puback: true }, "the broker takes the reading");
    const [letter] = await lettersOnce((letters) => letters.length > 0, readingId, adminToken);
    assert.ok(letter, "the reading was dead-lettered");
    assert.equal(letter.replayable, true);

    const list = page.getByTestId("dead-letters");
    const row = list.locator(`tr[data-dead-letter-id="${letter.id}"]`);
    await row.waitFor(POLLED);
    assert.match(await row.locator("td.reason").innerText(), /back-fill window/);
    assert.match(await row.locator("td.routing-key").innerText(), new RegExp(poisoned.id));

    await row.getByRole("button", { name: "Inspect" }).click();
    const inspected = page.getByRole("region", { name: `Dead letter of ${letter.routing_key}` });
    await inspected.getByTestId("dead-letter-body").getByText(readingId).waitFor();
    assert.match(await inspected.getByTestId("dead-letter-body").innerText(), /"timestamp": "1970-01-01T00:00:00Z"/);
    assert.match(await inspected.getByTestId("dead-letter-headers").innerText(), /x-ems-reason/);
    assert.equal(await row.getByRole("button", { name: "Hide" }).getAttribute("aria-expanded"), "true");
    await screenshot(page, "operations-02-dead-letter");

    await row.getByRole("button", { name: "Replay" }).click();
    const outcome = page.locator(".dead-letters .outcome");
    await outcome.getByText(`Replayed to ems.data ${letter.routing_key}.`).waitFor();
    await row.waitFor({ state: "detached" });
    // Still stamped in 1970, it is refused again: a new dead letter.
    const letters = await lettersOnce((found) => found.some((other) => other.id !== letter.id), readingId, adminToken);
    const again = letters.find((other) => other.id !== letter.id);
    assert.ok(again && again.id !== letter.id, "the replayed reading came back as a new dead letter");
    await list.locator(`tr[data-dead-letter-id="${again.id}"]`).waitFor(POLLED);

    const filter = page.getByRole("form", { name: "Filter the dead letters" });
    await filter.getByLabel("Reason contains").fill("back-fill window");
    await filter.getByRole("button", { name: "Filter" }).click();
    await list.locator(`tr[data-dead-letter-id="${again.id}"]`).waitFor();
    const asked = [];
    page.on("dialog", (dialog) => asked.push(dialog.message()));
    await page.getByRole("button", { name: "Purge all matching" }).click();
    await outcome.getByText(/^Purged \d+ dead letters?\.$/).waitFor();
    assert.match(asked[0], /every dead letter whose reason contains “back-fill window”/);
    await page.getByText("No dead letter's reason contains “back-fill window”.").waitFor();
    assert.deepEqual(await lettersOf(readingId, adminToken), []);
    await screenshot(page, "operations-03-purged");
    assertQuiet(page);
  });

  it("fits a phone-sized screen in the dark scheme", async () => {
    const phone = await openPage(browser, { viewport: { width: 390, height: 844 }, colorScheme: "dark" });
    await logIn(phone, ADMIN);
    await phone.goto("/operations");
    await phone.getByTestId("processes").waitFor();
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
    await screenshot(phone, "operations-04-phone-dark");
    assertQuiet(phone);
    await phone.context().close();
  });

  it("is neither offered to a VIEWER nor shown", async () => {
    const viewer = newAccount("Onlooker");
    await api("/api/users", {
      method: "POST",
      token: await tokenOf(ADMIN),
      body: { email: viewer.email, password: viewer.password, name: viewer.name, role: "VIEWER" },
    });
    const other = await openPage(browser);
    await logIn(other, viewer);
    await other.getByText("(VIEWER)").waitFor();
    assert.equal(await other.getByRole("link", { name: "Operations" }).count(), 0);
    await other.goto("/operations");
    await other.getByRole("heading", { name: "Not available" }).waitFor();
    await other.getByRole("alert").getByText("Your account may not use this page.").waitFor();
    assert.equal(await other.getByTestId("processes").count(), 0);
    await screenshot(other, "operations-05-viewer");
    assertQuiet(other);
    await other.context().close();
  });
});
