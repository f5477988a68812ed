// Debian's Chromium driven by playwright-core: no browser download. Playwright
// starts it with a fresh temporary profile each time; screenshots go to
// EMS_ARTIFACTS (test-artifacts/browser).
import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

export const APP_URL = process.env.EMS_APP_URL || "http://app.localhost:8080";
export const ARTIFACTS = path.resolve(process.env.EMS_ARTIFACTS || "../test-artifacts/browser");
const EXECUTABLE = process.env.EMS_CHROMIUM || "/usr/bin/chromium";

const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launch() {
  return chromium.launch({ executablePath: EXECUTABLE, headless: true, args: FLAGS });
}

// A new context (its own session storage: another person), and its page. Console
// errors and failed requests are collected, so a test can tell a quiet page from
// one that broke.
export async function openPage(browser, { viewport = { width: 1280, height: 900 }, bypassCSP = false, colorScheme = "light" } = {}) {
  const context = await browser.newContext({ viewport, baseURL: APP_URL, bypassCSP, colorScheme });
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  page.problems = [];
  page.on("console", (message) => {
    if (message.type() === "error") page.problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => page.problems.push(`page error: ${error.message}`));
  page.on("dialog", (dialog) => dialog.accept());
  return page;
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// Through the sign-in form, as a person would.
export async function logIn(page, account) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/login"));
}

// Fails the scenario if the page logged errors (a failed request the scenario
// provoked on purpose is named in `expected`).
export function assertQuiet(page, expected = []) {
  const problems = page.problems.filter((p) => !expected.some((e) => p.includes(e)));
  if (problems.length) throw new Error(`the page reported problems:\n${problems.join("\n")}`);
}
