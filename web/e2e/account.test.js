// Accounts people manage themselves: a forgotten password reset from the e-mailed
// link (read from the stack's SMTP server), and the Account page: profile and
// theme, password, sessions ended one by one, the account deleted.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertQuiet, launch, logIn, openPage, screenshot } from "./browser.js";
import { api, linkIn, newAccount, register, tokenOf, waitForMail } from "./platform.js";

describe("an account", () => {
  let browser;

  before(async () => {
    browser = await launch();
  });
  after(async () => browser?.close());

  it("whose password is forgotten gets a new one through the e-mailed link", async () => {
    const account = await register(newAccount("Forgetful"));
    const page = await openPage(browser);
    await page.goto("/login");
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await page.getByRole("heading", { name: "Forgot your password?" }).waitFor();
    await page.getByLabel("Email", { exact: true }).fill(account.email);
    await page.getByRole("button", { name: "Send the link" }).click();
    await page.getByTestId("reset-sent").waitFor();
    await screenshot(page, "account-01-reset-asked");

    const link = linkIn(await waitForMail(account.email));
    await page.goto(link);
    await page.getByRole("heading", { name: "Choose a new password" }).waitFor();
    await page.getByLabel(/^New password/).fill("a-new-passphrase");
    await page.getByRole("button", { name: "Set the password" }).click();
    await page.getByTestId("password-reset-done").waitFor();
    await logIn(page, { ...account, password: "a-new-passphrase" });
    await page.getByRole("heading", { name: "Overview" }).waitFor();

    // The link worked once.
    await page.goto(link);
    await page.getByLabel(/^New password/).fill("another-passphrase");
    await page.getByRole("button", { name: "Set the password" }).click();
    await page.getByTestId("link-gone").waitFor();
    await screenshot(page, "account-02-link-used");
    assertQuiet(page, ["410"]);
    await page.context().close();
  });

  it("is managed on the Account page, down to deleting it", async () => {
    const account = await register(newAccount("Owner"));
    const page = await openPage(browser);
    await logIn(page, account);
    await page.getByRole("link", { name: account.name }).click();
    await page.getByRole("heading", { name: "Your account" }).waitFor();

    // Profile and theme: dark at once, and kept.
    const profile = page.getByRole("form", { name: "Profile" });
    await profile.getByLabel(/^Name/).fill("Owner Renamed");
    await profile.getByLabel(/^Time zone/).fill("Europe/Berlin");
    await profile.getByLabel(/^Theme/).selectOption("dark");
    await profile.getByRole("button", { name: "Save the profile" }).click();
    await page.getByText("Saved.").waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "dark");
    await page.getByRole("link", { name: "Owner Renamed" }).waitFor();
    await screenshot(page, "account-03-dark");

    // Another browser's session, ended from here: its token stops working.
    const elsewhere = await tokenOf(account);
    await page.reload();
    const rows = page.getByTestId("session-row");
    await page.getByText("This session").waitFor();
    assert.equal(await rows.count(), 2);
    // Times on the account's clock from now on.
    assert.match(await rows.first().textContent(), /\d\d:\d\d CES?T/);
    await page.getByRole("button", { name: /^End the session of/ }).click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=session-row]").length === 1);
    await assert.rejects(api("/api/auth/me", { token: elsewhere }), /HTTP 401/);

    // A wrong current password is named; the right one changes it.
    const passwordForm = page.getByRole("form", { name: "Password" });
    await passwordForm.getByLabel(/^Current password/).fill("not-the-password");
    await passwordForm.getByLabel(/^New password/).fill("passphrase-two");
    await passwordForm.getByRole("button", { name: "Change the password" }).click();
    await passwordForm.getByText("wrong password").waitFor();
    await passwordForm.getByLabel(/^Current password/).fill(account.password);
    await passwordForm.getByRole("button", { name: "Change the password" }).click();
    await passwordForm.getByText("Your password is changed").waitFor();
    await screenshot(page, "account-04-password");

    // Deleting it signs out and says so.
    const deleteForm = page.getByRole("form", { name: "Delete the account" });
    await deleteForm.getByLabel(/^Password/).fill("passphrase-two");
    await deleteForm.getByRole("button", { name: "Delete my account" }).click();
    const notice = page.getByTestId("session-notice");
    await notice.waitFor();
    assert.equal(await notice.textContent(), "Your account was deleted.");
    await assert.rejects(tokenOf({ ...account, password: "passphrase-two" }), /HTTP 401/);
    assertQuiet(page, ["400"]);
    await page.context().close();
  });
});
