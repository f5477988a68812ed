// A household gives a real device a login of its own from the Devices page, and the
// device publishes with it: one reading over MQTT with what the panel showed, counted
// in the device's day. A second login locks the first out; closing the panel forgets
// the password; an ADMIN can do the same for anyone's device; errors show as errors.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { APP_URL, assertQuiet, launch, logIn, openPage, screenshot } from "./browser.js";
import { ADMIN, api, control, newAccount, publishOverMqtt, register, tokenOf } from "./platform.js";

// What the panel shows, by "<section> <label>".
async function shownLogin(page) {
  const panel = page.getByRole("region", { name: /^Login of / });
  await panel.waitFor();
  return panel.evaluate((section) =>
    Object.fromEntries([...section.querySelectorAll("[data-field]")].map((code) => [code.dataset.field, code.textContent])),
  );
}

// The dialogs the page opens, answered with `answers` in turn (then accepted).
function answerDialogs(page, answers) {
  const seen = [];
  page.removeAllListeners("dialog");
  page.on("dialog", (dialog) => {
    seen.push(dialog.message());
    return answers.length && !answers.shift() ? dialog.dismiss() : dialog.accept();
  });
  return seen;
}

// One reading published as the device, with the login as the panel showed it.
function publishAs(login, reading) {
  return publishOverMqtt({
    port: Number(login["MQTT Port"]),
    clientId: login["MQTT Client id"],
    username: login["MQTT MQTT user name"],
    password: login["Login Password"],
    topic: login["MQTT Publish topic"],
    message: reading,
  });
}

async function eventually(check, { timeout = 20_000, every = 250 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

describe("a device's own login", () => {
  let browser;
  let page;
  let account;
  let token;
  let device;
  let first;
  const row = () => page.locator(`li[data-device-id="${device.id}"]`);

  before(async () => {
    browser = await launch();
    account = await register(newAccount("Installer"));
    token = await tokenOf(account);
    device = await api("/api/devices", { method: "POST", token, body: { name: "Heat pump", kind: "appliance" } });
    page = await openPage(browser);
    await logIn(page, account);
    await page.getByRole("link", { name: "Devices", exact: true }).click();
    await page.getByRole("link", { name: "Heat pump", exact: true }).waitFor();
  });
  after(async () => browser?.close());

  it("is issued only after a confirmation that says what it replaces", async () => {
    let posted = 0;
    page.on("request", (request) => request.url().endsWith("/credentials") && (posted += 1));
    const dialogs = answerDialogs(page, [false]);
    await page.getByRole("button", { name: "Device login for Heat pump" }).click();
    await page.waitForTimeout(300);
    assert.equal(dialogs.length, 1);
    assert.match(dialogs[0], /replaces any login/);
    assert.match(dialogs[0], /disconnected/);
    assert.equal(posted, 0, "a dismissed confirmation issues nothing");
    assert.equal(await page.getByRole("region", { name: /^Login of / }).count(), 0);

    await page.getByRole("button", { name: "Device login for Heat pump" }).click(); // confirmed
    first = await shownLogin(page);
    assert.equal(posted, 1);
    assert.equal(first["Login User name"], `ems-device-${device.id}`);
    assert.ok(first["Login Password"].length >= 16, "a password is shown");
    assert.equal(first["MQTT Client id"], `ems-device-${device.id}`);
    assert.match(first["MQTT MQTT user name"], new RegExp(`(^|:)ems-device-${device.id}$`));
    assert.equal(first["MQTT Host"], new URL(APP_URL).hostname);
    assert.match(first["MQTT Port"], /^\d+$/);
    assert.equal(first["MQTT Publish topic"], `ems/devices/${device.id}/reading`);
    assert.equal(first["MQTT Command topic"], `ems/devices/${device.id}/commands`);
    assert.equal(first["AMQP Exchange"], "ems.data");
    assert.equal(first["AMQP Routing key"], `device.${device.id}.reading`);
    assert.ok(first["AMQP Virtual host"]);
    await page.getByText("the password is not shown again").waitFor();
    const focused = await page.evaluate(() => document.activeElement?.getAttribute("aria-labelledby"));
    const title = await page.getByRole("heading", { name: "Login of Heat pump" }).getAttribute("id");
    assert.equal(focused, title, "the focus moves to the panel");
    await screenshot(page, "device-login-01-shown-once");
  });

  it("lets the password be copied, or selected where copying is not allowed", async () => {
    await page.getByRole("button", { name: "Copy password" }).click();
    const status = page.getByRole("region", { name: /^Login of / }).getByRole("status");
    await page.waitForFunction(() => document.querySelector(".device-login [role=status]")?.textContent);
    const said = await status.textContent();
    if (said === "Password copied.") return;
    assert.match(said, /the password is selected/);
    assert.equal(await page.evaluate(() => String(window.getSelection())), first["Login Password"]);
  });

  it("works: a reading published over MQTT with it is counted", async () => {
    const timestamp = new Date(Date.now() - 5 * 60_000).toISOString().slice(0, 19) + "Z";
    const reading = { reading_id: randomUUID(), device_id: device.id, timestamp, kwh: 0.25 };
    const sent = await publishAs(first, reading);
    assert.deepEqual(sent, { connack: 0, puback: true }, "the broker takes the login and the reading");
    const date = timestamp.slice(0, 10);
    const day = await eventually(async () => {
      const answer = await api(`/api/consumption/day?device_id=${device.id}&date=${date}`, { token });
      return answer.total_kwh > 0 && answer;
    });
    assert.equal(day?.total_kwh, 0.25, "the reading reached the device's consumption");
  });

  it("is replaced by the next one, which locks the old password out", async () => {
    answerDialogs(page, []);
    await page.getByRole("button", { name: "Device login for Heat pump" }).click();
    await page.waitForFunction((old) => {
      const shown = document.querySelector(".device-login [data-field='Login Password']")?.textContent;
      return shown && shown !== old;
    }, first["Login Password"]);
    const second = await shownLogin(page);
    assert.notEqual(second["Login Password"], first["Login Password"]);
    assert.equal(second["Login User name"], first["Login User name"]);
    await screenshot(page, "device-login-02-issued-again");
    const old = await publishAs(first, { reading_id: randomUUID(), device_id: device.id, timestamp: new Date().toISOString(), kwh: 0.1 });
    assert.notEqual(old.connack, 0, "the replaced password is refused");
    assert.equal(old.puback, false);
    const current = await publishAs(second, { reading_id: randomUUID(), device_id: device.id, timestamp: new Date().toISOString().slice(0, 19) + "Z", kwh: 0.1 });
    assert.deepEqual(current, { connack: 0, puback: true });
  });

  it("is forgotten when the panel is closed", async () => {
    const password = await page.locator(".device-login [data-field='Login Password']").textContent();
    await page.getByRole("button", { name: "Close and forget the password" }).click();
    await page.getByRole("region", { name: /^Login of / }).waitFor({ state: "detached" });
    assert.equal((await page.content()).includes(password), false, "the password is gone from the page");
    const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
    assert.equal(stored.includes(password), false, "and was never stored");
    const focused = await page.evaluate(() => document.activeElement?.getAttribute("aria-label"));
    assert.equal(focused, "Device login for Heat pump", "the focus is back on the button");
    assertQuiet(page);
  });

  it("is issued by an ADMIN for anyone's device", async () => {
    const admin = await openPage(browser);
    await logIn(admin, ADMIN);
    await admin.goto("/devices");
    const theirs = admin.locator(`li[data-device-id="${device.id}"]`);
    await theirs.getByRole("button", { name: "Device login for Heat pump" }).click(); // confirmed
    const login = await shownLogin(admin);
    assert.equal(login["Login User name"], `ems-device-${device.id}`);
    await screenshot(admin, "device-login-03-admin");
    await admin.keyboard.press("Escape"); // the focus is in the panel
    await admin.getByRole("region", { name: /^Login of / }).waitFor({ state: "detached" });
    assertQuiet(admin);
    await admin.context().close();
  });

  it("fits a phone-sized screen", async () => {
    const phone = await openPage(browser, { viewport: { width: 390, height: 844 } });
    await logIn(phone, account);
    await phone.goto("/devices");
    await phone.getByRole("button", { name: "Device login for Heat pump" }).click(); // confirmed
    await shownLogin(phone);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
    await screenshot(phone, "device-login-04-phone");
    assertQuiet(phone);
    await phone.context().close();
  });

  it("shows the server's errors like the page's other errors", async () => {
    const gone = await api("/api/devices", { method: "POST", token, body: { name: "Sold meter", kind: "meter" } });
    await page.reload();
    await page.getByRole("link", { name: "Sold meter", exact: true }).waitFor();
    await api(`/api/devices/${gone.id}`, { method: "DELETE", token });
    await page.getByRole("button", { name: "Device login for Sold meter" }).click();
    await page.locator(`li[data-device-id="${gone.id}"]`).getByRole("alert").getByText(/not found/i).waitFor();
    await screenshot(page, "device-login-05-not-found");

    await control("kill", "devices");
    try {
      await row().getByRole("button", { name: "Device login for Heat pump" }).click();
      await row().getByRole("alert").getByText(/unavailable/i).waitFor();
      assert.equal(await page.getByRole("region", { name: /^Login of / }).count(), 0);
      await screenshot(page, "device-login-06-unavailable");
    } finally {
      await control("start", "devices");
    }
    assertQuiet(page, ["status of 404", "status of 503"]);
  });
});
