// The support chat: the bot answers what its rules know; what nobody can answer
// waits for staff, and an ADMIN answers it from the inbox in another browser.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertQuiet, launch, logIn, openPage, screenshot } from "./browser.js";
import { ADMIN, newAccount, register } from "./platform.js";

const ANSWER = { timeout: 30_000 };
const UNMATCHED = "What colour should I paint my garden shed?";

describe("the support chat", () => {
  let browser;
  let user;
  let staff;
  let account;

  before(async () => {
    browser = await launch();
    account = await register(newAccount("Asker"));
    user = await openPage(browser);
    staff = await openPage(browser); // another context: another person
  });
  after(async () => browser?.close());

  it("answers a question its rules know at once", async () => {
    await logIn(user, account);
    await user.getByRole("link", { name: "Support" }).click();
    await user.getByText("No messages yet").waitFor();
    await user.getByLabel("Your message").fill("How do I add a new device?");
    await user.getByRole("button", { name: "Send" }).click();
    const chat = user.getByRole("log", { name: "Your support conversation" });
    await chat.locator("[data-author=bot]").first().waitFor(ANSWER);
    assert.match(await chat.locator("[data-author=bot]").first().textContent(), /device/i);
    await screenshot(user, "support-01-bot-answer");
  });

  it("hands an unmatched question to staff, whose answer arrives live", async () => {
    await user.getByLabel("Your message").fill(UNMATCHED);
    await user.getByRole("button", { name: "Send" }).click();
    await user.getByText("Waiting for the support team to answer").waitFor(ANSWER);
    await screenshot(user, "support-02-waiting");

    await logIn(staff, ADMIN);
    await staff.getByRole("link", { name: "Support inbox" }).click();
    const inbox = staff.getByTestId("inbox");
    await inbox.getByText(account.email).waitFor(ANSWER);
    const first = inbox.locator("li").first();
    assert.match(await first.textContent(), /Needs an answer/, "unanswered conversations come first");
    await inbox.getByRole("button", { name: new RegExp(account.email) }).click();
    const conversation = staff.getByRole("log", { name: new RegExp(`Conversation with ${account.name}`) });
    await conversation.getByText(UNMATCHED).waitFor();
    await screenshot(staff, "support-03-inbox");
    await staff.getByLabel("Your reply").fill("Any colour you like; green is popular.");
    await staff.getByRole("button", { name: "Reply" }).click();
    await conversation.locator("[data-author=staff]").waitFor();

    // The user's page was not reloaded: the reply came over /ws.
    const chat = user.getByRole("log", { name: "Your support conversation" });
    await chat.locator("[data-author=staff]").getByText("green is popular").waitFor(ANSWER);
    await user.getByText("Waiting for the support team").waitFor({ state: "detached" });
    await screenshot(user, "support-04-staff-answer");
    await screenshot(staff, "support-05-inbox-answered");
    assertQuiet(user);
    assertQuiet(staff);
  });
});
