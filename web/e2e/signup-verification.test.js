// Signing up where new accounts must confirm their address
// (EMS_SIGNUP_VERIFICATION=true, auth restarted with it for this scenario): the
// sign-up page says to check the inbox, signing in first offers to send the link
// again, and the e-mailed link (from the stack's maildev) lets the account in.
import { after, before, describe, it } from "node:test";
import { assertQuiet, launch, logIn, openPage, screenshot } from "./browser.js";
import { authAnswers, linkIn, newAccount, reconfigure, waitForMail } from "./platform.js";

describe("a sign-up that must be confirmed", () => {
  let browser;

  before(async () => {
    await reconfigure("auth", { EMS_SIGNUP_VERIFICATION: "true" });
    await authAnswers();
    browser = await launch();
  });
  after(async () => browser?.close());

  it("confirms its address from the e-mailed link, then signs in", async () => {
    const account = newAccount("Confirming");
    const page = await openPage(browser);
    await page.goto("/signup");
    const form = page.getByRole("form", { name: "Create an account" });
    await form.getByLabel("Name").fill(account.name);
    await form.getByLabel("Email").fill(account.email);
    await form.getByLabel("Password").fill(account.password);
    await form.getByRole("button", { name: "Create account" }).click();
    await page.getByTestId("signup-check-inbox").waitFor();
    await screenshot(page, "signup-verification-01-check-inbox");

    // Signing in first: refused, with a way to have the link sent again.
    await page.getByRole("link", { name: "Sign in" }).click();
    await page.getByLabel("Password").fill(account.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByTestId("verification-needed").waitFor();
    await page.getByText("Confirm your e-mail address first").waitFor();
    await page.getByRole("button", { name: "Send the link again" }).click();
    await page.getByTestId("verification-resent").waitFor();
    await screenshot(page, "signup-verification-02-link-sent-again");

    // The newest link confirms the address.
    await page.goto(linkIn(await waitForMail(account.email, 2)));
    await page.getByTestId("email-confirmed").waitFor();
    await screenshot(page, "signup-verification-03-confirmed");
    await logIn(page, account);
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    assertQuiet(page, ["403"]);
    await page.context().close();
  });
});
