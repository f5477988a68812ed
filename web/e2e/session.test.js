// How a session ends without the user asking: the token expires, or the server
// ends it (an ADMIN changed the user's role). The app signs out and says why.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { launch, logIn, openPage, screenshot } from "./browser.js";
import { ADMIN, api, newAccount, register, resign, tokenOf } from "./platform.js";

describe("a session", () => {
  let browser;
  let account;

  before(async () => {
    browser = await launch();
    account = await register(newAccount("Sessions"));
  });
  after(async () => browser?.close());

  it("that expires signs the user out and says so", async () => {
    const page = await openPage(browser);
    await logIn(page, account);
    // The same user's token, genuine but expiring in a few seconds.
    const token = await page.evaluate(() => sessionStorage.getItem("ems.session"));
    const exp = Math.floor(Date.now() / 1000) + 10;
    const shortLived = resign(token, { exp, jti: `short-${exp}` });
    await page.evaluate((value) => sessionStorage.setItem("ems.session", value), shortLived);
    await page.goto("/notifications");
    await page.getByRole("heading", { name: "Notifications" }).waitFor();
    await page.getByText("Live", { exact: true }).waitFor();

    const notice = page.getByTestId("session-notice");
    await notice.waitFor({ timeout: 20_000 });
    assert.equal(await notice.textContent(), "Your session expired. Please sign in again.");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("ems.session")), null);
    await screenshot(page, "session-01-expired");
    await page.context().close();
  });

  it("that the server ends over /ws (role changed) signs the user out and says why", async () => {
    const page = await openPage(browser);
    await logIn(page, account);
    await page.getByText("Live", { exact: true }).waitFor();
    const admin = await tokenOf(ADMIN);
    await api(`/api/users/${account.id}`, { method: "PATCH", body: { role: "OPERATOR" }, token: admin });
    const notice = page.getByTestId("session-notice");
    await notice.waitFor({ timeout: 20_000 });
    assert.equal(await notice.textContent(), "Your role changed. Please sign in again.");
    await screenshot(page, "session-02-role-changed");

    await logIn(page, account);
    await page.getByText("(OPERATOR)").waitFor();
    await page.context().close();
  });

  it("with a stale token in storage starts at the sign-in page", async () => {
    const page = await openPage(browser);
    await logIn(page, account);
    const token = await page.evaluate(() => sessionStorage.getItem("ems.session"));
    const expired = resign(token, { exp: Math.floor(Date.now() / 1000) - 60 });
    await page.evaluate((value) => sessionStorage.setItem("ems.session", value), expired);
    await page.goto("/devices");
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("ems.session")), null);
    await page.context().close();
  });
});
